/**
 * One file in cache/ that exists while a peer runs (docs/architecture.md, Disk): written once at
 * start and removed at the end of a clean stop, after every swarm saved its resume data. Finding it
 * at start means the previous run did not stop cleanly (killed, crashed, power lost), so no
 * torrent's "clean stop" resume data may be trusted without a check. One marker for the whole peer
 * replaces a resume save per torrent at start, which with a thousand torrents was a thousand pairs
 * of fsyncs.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export function runMarkerFile(cacheFolder: string): string {
  return path.join(cacheFolder, 'running.json');
}

/** Whether the previous run stopped cleanly (no marker left behind). */
export async function previousRunWasClean(cacheFolder: string): Promise<boolean> {
  try {
    await readFile(runMarkerFile(cacheFolder));
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    // Unreadable for another reason: assume the worst, which costs a check and never loses data.
    return false;
  }
}

/** Marks the peer as running, durably, before any resume data is written or trusted. */
export function markRunning(cacheFolder: string, pid: number = process.pid): Promise<void> {
  return writeFileAtomic(runMarkerFile(cacheFolder), `${JSON.stringify({ pid, startedAt: new Date().toISOString() })}\n`);
}

/** Marks the stop as clean: called last, once every swarm's resume data is saved. */
export async function markStoppedCleanly(cacheFolder: string): Promise<void> {
  await unlink(runMarkerFile(cacheFolder)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  const handle = await open(cacheFolder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
