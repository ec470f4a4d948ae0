/**
 * The checks of the folders at start-up: a missing folder, or a cache/ the peer cannot write to,
 * stops the start with one clear line (StartupError) instead of failing every write later.
 */
import { stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemReason } from '../io/system-error.js';
import { StartupError } from './startup-error.js';

/** A small file is written in `folder` and removed: a read-only or full folder fails here. */
export async function requireWritable(folder: string, flag: string): Promise<void> {
  const probe = path.join(folder, `.shoal-write-test-${process.pid}`);
  try {
    await writeFile(probe, 'shoal');
    await unlink(probe);
  } catch (error) {
    await unlink(probe).catch(() => undefined);
    throw new StartupError(`cannot write in the folder ${folder} (${flag}): ${systemReason(error)}`);
  }
}

export async function requireFolder(folder: string, flag: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (!info) throw new StartupError(`folder ${folder} does not exist (${flag})`);
  if (!info.isDirectory()) throw new StartupError(`${folder} is not a folder (${flag})`);
}
