/**
 * Whether the cause of a swarm's storage error (storage-fault.ts) is gone, checked every
 * settings.storageRetryMs while it lasts. A full disk is gone when the data's folder has room for
 * a few pieces (statfs); anything else when a small test file can be written there (and removed)
 * and each data file there opens for writing, as a piece's write opens it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TorrentData } from '../../io/torrent-data.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { roomToResume, StorageFault, type StorageError, type StorageErrorKind } from './storage-fault.js';

async function storageCauseGone(
  kind: StorageErrorKind,
  data: Pick<TorrentData, 'location' | 'cacheRoot' | 'resumeFile' | 'layout' | 'meta'>,
  roomPieces: number,
): Promise<boolean> {
  const folder = data.location === 'cache' ? data.cacheRoot : path.dirname(data.resumeFile);
  try {
    await mkdir(folder, { recursive: true });
    if (kind === 'disk-full') {
      const space = await statfs(folder);
      return roomToResume(space.bavail * space.bsize, data.meta.pieceLength, roomPieces);
    }
    const probe = path.join(folder, `.shoal-probe-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'shoal');
    await unlink(probe);
    if (data.location === 'cache') {
      for (const file of data.layout.dataFiles) {
        const handle = await open(path.join(folder, file.relativePath), 'r+').catch((error: NodeJS.ErrnoException) => {
          // Not written yet: a piece's write creates it.
          if (error.code === 'ENOENT') return null;
          throw error;
        });
        await handle?.close();
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** Whether a small test file can be written in `folder` (and removed). */
export async function folderWritable(folder: string): Promise<boolean> {
  try {
    const probe = path.join(folder, `.shoal-probe-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'shoal');
    await unlink(probe);
    return true;
  } catch {
    return false;
  }
}

export interface StorageWatchSetup {
  data: Pick<TorrentData, 'location' | 'cacheRoot' | 'resumeFile' | 'layout' | 'meta'>;
  settings: Pick<Settings, 'storageRetryMs' | 'storageErrorSummaryMs' | 'storageRoomPieces'>;
  clock: Clock;
  log: Pick<Logger, 'info' | 'warn'>;
  /** The error began: requesting stops (the swarm cancels what it asked for). */
  onFault(): void;
  /** The cause is gone: requesting resumes (or a move into shareable/ that failed is done again). */
  onRecovered(): Promise<void>;
  isStopped(): boolean;
}

/**
 * One swarm's watch over its storage: failures reported to it put the swarm in the error state
 * (StorageFault keeps it and the log's wording); the swarm's tick lets it log the count and check,
 * every settings.storageRetryMs, whether the cause is gone.
 */
export class StorageWatch {
  private readonly fault: StorageFault;
  /** Whether a check that the cause is gone is under way. */
  private checking = false;
  /** The check given with the failure that began the error, in place of storageCauseGone. */
  private causeGone: (() => Promise<boolean>) | null = null;

  constructor(private readonly setup: StorageWatchSetup) {
    this.fault = new StorageFault(setup.settings.storageRetryMs, setup.settings.storageErrorSummaryMs);
  }

  get active(): boolean {
    return this.fault.active;
  }

  get error(): StorageError | null {
    return this.fault.error;
  }

  /**
   * Something could not be written (a piece, the resume data, the move into shareable/), or data
   * changed on disk; `causeGone` checks whether it is over when the usual test write cannot tell.
   */
  failed(what: string, error: unknown, causeGone?: () => Promise<boolean>): void {
    const line = this.fault.failed(what, error, this.setup.clock.now());
    if (line === null) return;
    this.causeGone = causeGone ?? null;
    this.setup.log.warn(line);
    this.setup.onFault();
  }

  tick(now: number): void {
    const summary = this.fault.summary(now);
    if (summary) this.setup.log.warn(summary);
    if (this.fault.checkDue(now)) void this.check();
  }

  private async check(): Promise<void> {
    const kind = this.fault.error?.kind;
    if (!kind || this.checking) return;
    this.checking = true;
    try {
      const gone = this.causeGone
        ? await this.causeGone().catch(() => false)
        : await storageCauseGone(kind, this.setup.data, this.setup.settings.storageRoomPieces);
      if (!gone || this.setup.isStopped()) return;
      this.causeGone = null;
      const line = this.fault.recovered(this.setup.clock.now());
      if (line) this.setup.log.info(line);
      await this.setup.onRecovered();
    } finally {
      this.checking = false;
    }
  }
}
