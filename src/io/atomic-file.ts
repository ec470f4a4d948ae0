/**
 * Files that are either wholly old or wholly new after a crash or power loss: written to a
 * temporary file in the same folder, flushed, then published under their name, and the folder
 * flushed so that the publication itself is durable. The temporary name starts with a dot and
 * does not end like the real one, so a peer watching torrents/ never picks up half a file.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  /**
   * Replace an existing file (default). Without it an existing file is kept and the write fails
   * with EEXIST: the hard link that publishes the file refuses to replace it.
   */
  overwrite?: boolean;
  /** Permissions of a new file (default 0o666 less the umask); 0o600 keeps a secret from other users. */
  mode?: number;
}

export async function writeFileAtomic(file: string, data: string | Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  const folder = path.dirname(file);
  const temporary = path.join(folder, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(folder, { recursive: true });
    const handle = await open(temporary, 'wx', options.mode ?? 0o666);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.overwrite ?? true) {
      await rename(temporary, file);
    } else {
      await link(temporary, file);
      await unlink(temporary);
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
