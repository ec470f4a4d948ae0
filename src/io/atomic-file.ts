/**
 * Files that are either wholly old or wholly new after a crash or power loss: written to a
 * temporary file, flushed, renamed over the old one, and the folder flushed so that the rename
 * itself is durable.
 */
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

let sequence = 0;

export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const temporary = `${file}.${process.pid}.${++sequence}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const folder = await open(path.dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
