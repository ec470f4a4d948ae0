/**
 * Which files of a torrent the user wants, and in what order (docs/architecture.md, Control): each
 * file's priority (skip, normal, high) and sequential mode, turned into the picker's piece
 * priorities; the pieces a stream waits for made urgent while it waits; and each wanted file
 * moved into shareable/ as soon as every piece it touches is verified, while the rest of the
 * torrent stays in cache/ (../shared/DESIGN.md, Disk). A swarm whose wanted files are all there is
 * done: it requests nothing more, though it is not a seeder, lacking the skipped files.
 */
import type { FilePriority } from '../../io/control-state.js';
import type { LayoutFile } from '../../io/file-layout.js';
import type { TorrentData } from '../../io/torrent-data.js';
import type { Logger } from '../logger.js';
import { piecePriorities, piecesOfFile, verifiedBytes, type FilesChange } from './file-priorities.js';
import { URGENT, type PiecePicker } from './piece-picker.js';
import { folderWritable } from './storage-check.js';

/** A file as /status lists it. */
export interface FileStatus {
  /** Where it lands under shareable/: a multi-file torrent's paths start with its name. */
  path: string;
  size: number;
  priority: FilePriority;
  /** Verified bytes. */
  done: number;
}

export interface FileSelectionSetup {
  data: Pick<TorrentData, 'layout' | 'geometry' | 'moveFileToShareable' | 'isInShareable' | 'shareablePath'>;
  picker: PiecePicker;
  priorities?: readonly FilePriority[];
  sequential?: boolean;
  /** Candidates sequential mode draws the next piece among (settings.sequentialWindowPieces). */
  sequentialWindow: number;
  log: Logger;
  /** The wanted pieces changed (a new choice, a stream's urgency): peers are told and asked again. */
  changed(): void;
  /** Moving a file failed (the swarm's storage error; it calls moveComplete() once the cause is gone). */
  storageFailed(what: string, error: unknown, causeGone: () => Promise<boolean>): void;
}

/** A stream waiting for a piece: resolved once it is verified, rejected if the swarm stops first. */
interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class FileSelection {
  private readonly files: readonly LayoutFile[];
  private priorities: FilePriority[];
  private sequentialOn: boolean;
  // What follows is made when first needed: only streams and a change of priorities need it.
  /** Each piece's priority from the files alone, without urgency. */
  private base: Uint8Array | undefined;
  /** Streams waiting for each piece made urgent (a count per piece). */
  private urgency: Map<number, number> | undefined;
  private waiters: Map<number, Set<Waiter>> | undefined;
  private stopped: Error | null = null;

  constructor(private readonly setup: FileSelectionSetup) {
    this.files = setup.data.layout.dataFiles;
    const given = setup.priorities;
    this.priorities = given && given.length === this.files.length ? [...given] : this.files.map(() => 'normal');
    this.sequentialOn = setup.sequential ?? false;
    const base = piecePriorities(this.files, this.priorities, setup.data.geometry);
    for (let index = 0; index < base.length; index++) setup.picker.setPriority(index, base[index]);
    setup.picker.setSequential(this.sequentialOn ? setup.sequentialWindow : 0);
  }

  get sequential(): boolean {
    return this.sequentialOn;
  }

  get fileCount(): number {
    return this.files.length;
  }

  /** Takes a checked change (file-priorities.ts, parseFilesChange); the pieces wanted change at once. */
  set(change: FilesChange): void {
    if (change.sequential !== undefined) {
      this.sequentialOn = change.sequential;
      this.setup.picker.setSequential(this.sequentialOn ? this.setup.sequentialWindow : 0);
    }
    if (change.priorities) {
      this.priorities = [...change.priorities];
      this.base = piecePriorities(this.files, this.priorities, this.setup.data.geometry);
      for (let index = 0; index < this.base.length; index++) this.applyPriority(index);
      // A file wanted now may be complete already: a boundary piece had made it so.
      void this.moveComplete();
    }
    this.setup.changed();
  }

  private applyPriority(index: number): void {
    this.base ??= piecePriorities(this.files, this.priorities, this.setup.data.geometry);
    this.setup.picker.setPriority(index, this.urgency?.has(index) ? URGENT : this.base[index]);
  }

  statuses(): FileStatus[] {
    const { geometry } = this.setup.data;
    const has = (index: number): boolean => this.setup.picker.hasPiece(index);
    return this.files.map((file, i) => ({ path: file.relativePath, size: file.length, priority: this.priorities[i], done: verifiedBytes(file, geometry, has) }));
  }

  /** Whether every wanted file is complete and in shareable/. */
  get wantedInShareable(): boolean {
    return this.files.every((file, i) => this.priorities[i] === 'skip' || this.setup.data.isInShareable(file.relativePath));
  }

  /** A piece was verified: streams waiting for it go on, and the wanted files it completes move. */
  async pieceVerified(index: number): Promise<void> {
    const waiting = this.waiters?.get(index);
    this.waiters?.delete(index);
    for (const waiter of waiting ?? []) waiter.resolve();
    if (this.urgency?.delete(index)) this.applyPriority(index);
    if (this.setup.picker.complete) return;
    const { pieceLength } = this.setup.data.geometry;
    const touched = this.setup.data.layout.spans(index * pieceLength, this.setup.data.geometry.pieceSize(index)).map((span) => span.file);
    await this.moveComplete(touched);
  }

  /**
   * Moves into shareable/ each wanted file (of `among`, or all) whose pieces are all verified;
   * the whole torrent, once complete, is moved by the role change instead.
   */
  async moveComplete(among: readonly LayoutFile[] = this.files): Promise<void> {
    const { data, picker } = this.setup;
    if (picker.complete) return;
    for (const file of among) {
      const i = this.files.indexOf(file);
      if (i < 0 || this.priorities[i] === 'skip' || data.isInShareable(file.relativePath) || !this.fileComplete(file)) continue;
      try {
        await data.moveFileToShareable(file.relativePath);
        this.setup.log.info(`${file.relativePath} is complete: moved into shareable/`);
      } catch (error) {
        this.setup.storageFailed(`${file.relativePath} is complete, but moving it into shareable/ failed`, error, () => folderWritable(data.shareablePath));
        return;
      }
    }
  }

  private fileComplete(file: LayoutFile): boolean {
    const range = piecesOfFile(file, this.setup.data.geometry);
    if (!range) return true;
    for (let index = range[0]; index <= range[1]; index++) if (!this.setup.picker.hasPiece(index)) return false;
    return true;
  }

  /**
   * Makes the pieces urgent (a stream waits for them) until the returned function is called:
   * they are fetched before any other, skipped file or not.
   */
  urge(indices: readonly number[]): () => void {
    const urged = indices.filter((index) => !this.setup.picker.hasPiece(index));
    const urgency = (this.urgency ??= new Map());
    for (const index of urged) {
      urgency.set(index, (urgency.get(index) ?? 0) + 1);
      this.applyPriority(index);
    }
    if (urged.length > 0) this.setup.changed();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const index of urged) {
        const count = urgency.get(index);
        if (count === undefined) continue;
        if (count > 1) urgency.set(index, count - 1);
        else {
          urgency.delete(index);
          this.applyPriority(index);
        }
      }
    };
  }

  /**
   * Resolves once the piece is verified (at once if it is); rejects if the swarm stops first, or
   * when `signal` aborts (its reader went away), the wait then forgotten.
   */
  waitFor(index: number, signal?: AbortSignal): Promise<void> {
    if (this.setup.picker.hasPiece(index)) return Promise.resolve();
    if (this.stopped) return Promise.reject(this.stopped);
    if (signal?.aborted) return Promise.reject(new Error('the reader went away'));
    const waiters = (this.waiters ??= new Map());
    return new Promise((resolve, reject) => {
      const set = waiters.get(index) ?? new Set<Waiter>();
      const onAbort = (): void => {
        set.delete(waiter);
        if (set.size === 0 && waiters.get(index) === set) waiters.delete(index);
        reject(new Error('the reader went away'));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
      waiters.set(index, set);
    });
  }

  /** The swarm stopped (paused, removed, the peer stopping): nothing it waits for will come. */
  stop(reason: string): void {
    this.stopped = new Error(reason);
    for (const set of this.waiters?.values() ?? []) for (const waiter of set) waiter.reject(this.stopped);
    this.waiters?.clear();
  }
}
