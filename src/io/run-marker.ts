/**
 * One file in cache/ that exists while a peer runs (docs/architecture.md, Disk): written once at
 * start and removed at the end of a clean stop, after every swarm saved its resume data. Finding it
 * at start means the previous run did not stop cleanly (killed, crashed, power lost), so no
 * torrent's "clean stop" resume data may be trusted without a check. One marker for the whole peer
 * replaces a resume save per torrent at start, which with a thousand torrents was a thousand pairs
 * of fsyncs.
 *
 * Both writes are tried again a few times when they fail for a cause that can pass by itself
 * (issue 22): unlike resume data, saved again at the next tick, each is done once per run.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { writeFileAtomic } from './atomic-file.js';
import { systemReason } from './system-error.js';

/**
 * Causes that can pass within seconds: space freed (another process's temporary files, a log
 * rotated), a disk or network file system that answers again, a busy file, descriptors given back.
 * EROFS, EACCES and EPERM are not among them: a read-only mount or a permission stays until a
 * person changes it, so trying again would only put off the line that tells them, and at a stop
 * eat into the time a service manager allows before SIGKILL.
 */
const TRANSIENT = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE']);

export interface RetrySchedule {
  /** Tries in all, the first included. */
  attempts?: number;
  /** The wait before the second try; each later wait is twice the one before. */
  firstDelayMs?: number;
  /** Waits between tries (tests pass one that returns at once). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * 4 tries with waits of 250, 500 and 1000 ms: under 2 s in all, well within the 10 s a service
 * manager usually allows a stop before SIGKILL.
 */
const DEFAULT_SCHEDULE: Required<RetrySchedule> = { attempts: 4, firstDelayMs: 250, sleep: (ms) => wait(ms) };

export interface MarkRunningOptions extends RetrySchedule {
  /** Writes the marker (tests pass one that fails). */
  write?: (file: string, data: string) => Promise<void>;
}

export interface MarkStoppedOptions extends RetrySchedule {
  /** Removes the marker (tests pass one that fails). */
  remove?: (file: string) => Promise<void>;
}

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
export function markRunning(cacheFolder: string, pid: number = process.pid, options: MarkRunningOptions = {}): Promise<void> {
  const file = runMarkerFile(cacheFolder);
  const data = `${JSON.stringify({ pid, startedAt: new Date().toISOString() })}\n`;
  const write = options.write ?? writeFileAtomic;
  return withRetries(`cannot write ${file}`, options, () => write(file, data));
}

/** Marks the stop as clean: called last, once every swarm's resume data is saved. */
export function markStoppedCleanly(cacheFolder: string, options: MarkStoppedOptions = {}): Promise<void> {
  const file = runMarkerFile(cacheFolder);
  const remove = options.remove ?? unlink;
  // The whole removal is tried again: once the marker is gone, ENOENT says so and only the
  // folder's flush is repeated.
  return withRetries(`cannot remove ${file}`, options, async () => {
    await remove(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    const handle = await open(cacheFolder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Runs `operation` until it succeeds, a failure is not transient, or the tries are spent; then
 * throws `what` with the system's reason (the last error as the cause), since Node's own message
 * names a temporary file or only the call.
 */
async function withRetries(what: string, schedule: RetrySchedule, operation: () => Promise<void>): Promise<void> {
  const attempts = schedule.attempts ?? DEFAULT_SCHEDULE.attempts;
  const firstDelayMs = schedule.firstDelayMs ?? DEFAULT_SCHEDULE.firstDelayMs;
  const sleep = schedule.sleep ?? DEFAULT_SCHEDULE.sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      // Duck-typed: errors from Node's realm fail `instanceof Error` under jest's module sandbox.
      const code = (error as { code?: unknown } | null)?.code;
      const transient = typeof code === 'string' && TRANSIENT.has(code);
      if (!transient || attempt >= attempts) {
        const tries = attempt > 1 ? ` (tried ${attempt} times)` : '';
        throw new Error(`${what}: ${systemReason(error)}${tries}`, { cause: error });
      }
      await sleep(firstDelayMs * 2 ** (attempt - 1));
    }
  }
}
