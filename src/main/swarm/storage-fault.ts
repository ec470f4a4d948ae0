/**
 * A swarm held up by its storage (docs/architecture.md, Status document: `error`): a piece that
 * cannot be written, resume data that cannot be saved, data that cannot move into shareable/.
 * As libtorrent and Transmission do, the swarm then stops requesting (it would only download
 * what it cannot keep), goes on serving what it can read, says so once in the log, and checks
 * every settings.storageRetryMs whether the cause is gone, then resumes by itself.
 *
 * Pure: the kind of an error, what the log says and when, and whether the cause looks gone, all
 * with the time as an argument; the swarm does the checking (free space, a test write).
 */

export type StorageErrorKind = 'disk-full' | 'read-only' | 'missing-file' | 'io';

/** What /status shows of a swarm's storage error. */
export interface StorageError {
  kind: StorageErrorKind;
  message: string;
  /** When it began, ISO 8601. */
  since: string;
}

/** The kind of a storage error, from its errno code (Node's `code`, or the message's leading "ECODE:"). */
export function storageErrorKind(error: unknown): StorageErrorKind {
  switch (errorCode(error)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'disk-full';
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return 'read-only';
    case 'ENOENT':
      return 'missing-file';
    default:
      return 'io';
  }
}

/** The errno code of an error: its `code`, else an "ECODE: ..." at the start of its message. */
export function errorCode(error: unknown): string | undefined {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return code;
  const text = typeof message === 'string' ? message : typeof error === 'string' ? error : '';
  return /^(E[A-Z0-9]+)\b/.exec(text)?.[1];
}

/**
 * Whether the cause of a disk-full error looks gone: the free space of the data's folder holds
 * at least `piecesOfRoom` pieces. Other kinds are judged by trying again (a test write).
 */
export function roomToResume(freeBytes: number, pieceLength: number, piecesOfRoom: number): boolean {
  return freeBytes >= pieceLength * piecesOfRoom;
}

/**
 * One swarm's storage error and what the log says of it: the first failure with its reason; the
 * failures after it as a count, in one line when it recovers, or at most once per
 * `summaryIntervalMs` while it lasts.
 */
export class StorageFault {
  private current: StorageError | null = null;
  /** Failures since the error began, the first one aside. */
  private further = 0;
  /** Failures already told of in a summary line. */
  private told = 0;
  private lastLineAt = 0;
  private lastCheckAt = 0;

  constructor(
    private readonly retryMs: number,
    private readonly summaryIntervalMs: number,
  ) {}

  get error(): StorageError | null {
    return this.current;
  }

  get active(): boolean {
    return this.current !== null;
  }

  /** An operation failed: returns the line to log, or null when the error is already told of. */
  failed(what: string, error: unknown, now: number): string | null {
    const reason = error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error) ? String((error as { message: unknown }).message) : String(error);
    if (this.current) {
      this.further++;
      return null;
    }
    const kind = storageErrorKind(error);
    this.current = { kind, message: `${what}: ${reason}`, since: new Date(now).toISOString() };
    this.further = 0;
    this.told = 0;
    this.lastLineAt = now;
    this.lastCheckAt = now;
    return `storage error (${kind}), downloading paused until it is gone: ${what}: ${reason}`;
  }

  /** Whether the swarm should check now whether the cause is gone (every retryMs while in error). */
  checkDue(now: number): boolean {
    if (!this.current || now - this.lastCheckAt < this.retryMs) return false;
    this.lastCheckAt = now;
    return true;
  }

  /** While the error lasts, a line counting the failures since the last, at most once per summaryIntervalMs. */
  summary(now: number): string | null {
    if (!this.current || this.further === this.told || now - this.lastLineAt < this.summaryIntervalMs) return null;
    const count = this.further - this.told;
    this.told = this.further;
    this.lastLineAt = now;
    return `storage error (${this.current.kind}) goes on: ${count} more failure(s) in the last ${Math.round(this.summaryIntervalMs / 1000)} s`;
  }

  /** The cause is gone: clears the error and returns the line to log. */
  recovered(now: number): string | null {
    if (!this.current) return null;
    const seconds = Math.round((now - Date.parse(this.current.since)) / 1000);
    const line = `storage error (${this.current.kind}) is gone after ${seconds} s, ${this.further} further failure(s) meanwhile: downloading again`;
    this.current = null;
    this.further = 0;
    this.told = 0;
    return line;
  }
}
