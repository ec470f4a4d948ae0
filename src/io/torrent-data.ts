/**
 * The data of one torrent and where it lives (docs/architecture.md, Disk): complete, verified data
 * in shareable/, partial data in cache/<info hash>/data/. It checks what is on disk at start,
 * writes verified pieces, reads pieces for upload, and moves the data into shareable/ on
 * completion. Hashing and file I/O run on the worker pool; here only the plan is made.
 */
import { copyFile, mkdir, open as openFile, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SlabPiece } from './block-slab.js';
import { FileLayout } from './file-layout.js';
import { filePath, pieceHash, type Metainfo } from './metainfo.js';
import { PieceGeometry } from './piece-geometry.js';
import type { PieceLocation } from './piece-spans.js';
import type { PieceWorkers } from './piece-workers.js';
import { decodePieces, readResumeData, writeResumeData, type DataLocation, type ResumeFile } from './resume-data.js';

export interface DataFolders {
  shareable: string;
  cache: string;
}

export type { DataLocation };

/** Bytes of consecutive pieces checked by one worker task during a recheck. */
const CHECK_RUN_BYTES = 4 * 1024 * 1024;

export class TorrentData {
  readonly geometry: PieceGeometry;
  readonly layout: FileLayout;
  private where: DataLocation = 'cache';
  /**
   * While the torrent as a whole is in cache/: the files that are complete and were wanted (some
   * files skipped), moved into shareable/ alone (docs/architecture.md, Disk). Relative paths.
   * Made at the first such file: most torrents never have one.
   */
  private inShareable: Set<string> | undefined;
  /** Set while the data moves between folders; reads wait for it. */
  private moving: Promise<void> | null = null;
  /** Reads under way; the move waits for them, since it renames the files they read. */
  private readsInFlight = 0;
  private readsDrained: (() => void) | null = null;

  constructor(
    readonly meta: Metainfo,
    private readonly folders: DataFolders,
    private readonly workers: PieceWorkers,
  ) {
    this.geometry = new PieceGeometry(meta.pieceLength, meta.totalLength);
    this.layout = FileLayout.fromComponents(meta.files.map((file) => ({ components: filePath(meta, file), length: file.length, pad: file.pad })));
  }

  get location(): DataLocation {
    return this.where;
  }

  get cacheRoot(): string {
    return path.join(this.folders.cache, this.meta.infoHashHex, 'data');
  }

  get resumeFile(): string {
    return path.join(this.folders.cache, this.meta.infoHashHex, 'resume.json');
  }

  /** Absolute path of the torrent's top-level file or folder in shareable/. */
  get shareablePath(): string {
    return path.join(this.folders.shareable, this.meta.name);
  }

  private root(where: DataLocation): string {
    return where === 'shareable' ? this.folders.shareable : this.cacheRoot;
  }

  /** Where one of the torrent's files is, the torrent being `where`: a file moved alone is in shareable/. */
  private filePath(relativePath: string, where: DataLocation): string {
    return path.join(this.inShareable?.has(relativePath) ? this.folders.shareable : this.root(where), relativePath);
  }

  /** Whether a file (relative path) is in shareable/ already, alone or with the whole torrent. */
  isInShareable(relativePath: string): boolean {
    return this.where === 'shareable' || (this.inShareable?.has(relativePath) ?? false);
  }

  /** Where piece `index` lies on disk under the given folder. */
  pieceLocation(index: number, where: DataLocation = this.where): PieceLocation {
    const length = this.geometry.pieceSize(index);
    const spans = this.layout.spans(index * this.geometry.pieceLength, length).map((span) => ({
      path: span.file.pad ? '' : this.filePath(span.file.relativePath, where),
      fileOffset: span.fileOffset,
      length: span.length,
      fileLength: span.file.length,
      pad: span.file.pad,
    }));
    return { spans, length };
  }

  /**
   * Decides where the data is and which pieces are good, from the resume data when it can be
   * trusted:
   * - after a clean stop of the peer and of this torrent, with every file as it was saved (size
   *   and time): the saved pieces, no hashing (fast resume);
   * - after an unclean stop (the peer's run marker was left behind, see run-marker.ts), with the
   *   data still in cache/: the saved pieces (they were flushed before being saved), and a check
   *   of the others, which may or may not have reached the disk; with the data in shareable/,
   *   which we never write, and every file as it was saved: the saved pieces;
   * - otherwise a full check. Complete, valid data in shareable/ is seeded from there; anything
   *   less found there moves to cache/ (shareable/ never holds a partial file), where its good
   *   pieces are kept and the rest is downloaded.
   */
  async open(previousRunClean: boolean): Promise<{ pieces: number[]; resumed: 'fast' | 'after-crash' | 'checked' }> {
    const resume = await readResumeData(this.resumeFile, this.meta.infoHashHex, this.geometry.pieceCount);
    if (resume) {
      const saved = decodePieces(resume.pieces, this.geometry.pieceCount);
      if (resume.location === 'cache') for (const relativePath of resume.shareableFiles ?? []) (this.inShareable ??= new Set()).add(relativePath);
      const files = await this.fileStates(resume.location);
      const unchanged = sameFiles(files, resume.files, true);
      if (previousRunClean && resume.cleanStop && unchanged) {
        this.where = resume.location;
        return { pieces: saved, resumed: 'fast' };
      }
      if (!previousRunClean && resume.location === 'shareable' && unchanged) {
        this.where = 'shareable';
        return { pieces: saved, resumed: 'after-crash' };
      }
      if (!(previousRunClean && resume.cleanStop) && resume.location === 'cache' && sameFiles(files, resume.files, false)) {
        this.where = 'cache';
        const trusted = new Set(saved);
        const present = files.filter((f) => f !== null).map((f) => f.path);
        const checked = await this.check('cache', present, (index) => !trusted.has(index));
        return { pieces: [...saved, ...checked].sort((a, b) => a - b), resumed: 'after-crash' };
      }
    }
    return { pieces: await this.fullCheck(), resumed: 'checked' };
  }

  /** Size and modification time of each of the torrent's files there, null where it is missing. */
  private async fileStates(where: DataLocation): Promise<(ResumeFile | null)[]> {
    return Promise.all(
      this.layout.dataFiles.map(async (file) => {
        const info = await stat(this.filePath(file.relativePath, where)).catch(() => null);
        return info?.isFile() ? { path: file.relativePath, size: info.size, mtimeMs: info.mtimeMs } : null;
      }),
    );
  }

  /**
   * Saves which pieces are verified. The data files are flushed first, so that no piece is ever
   * recorded before its bytes are on the disk.
   */
  async saveResume(has: (index: number) => boolean, cleanStop: boolean): Promise<void> {
    if (this.where === 'cache') await this.flushData();
    const files = await this.fileStates(this.where);
    await mkdir(path.dirname(this.resumeFile), { recursive: true });
    await writeResumeData(this.resumeFile, {
      version: 1,
      infoHash: this.meta.infoHashHex,
      location: this.where,
      pieces: this.geometry.bitfield(has).toString('base64'),
      files: files.map((f, i) => f ?? { path: this.layout.dataFiles[i].relativePath, size: -1, mtimeMs: 0 }),
      cleanStop,
      savedAt: new Date().toISOString(),
      ...(this.where === 'cache' && this.inShareable && this.inShareable.size > 0 && { shareableFiles: [...this.inShareable] }),
    });
  }

  private async flushData(): Promise<void> {
    for (const file of this.layout.dataFiles) {
      if (this.inShareable?.has(file.relativePath)) continue;
      const handle = await openFile(path.join(this.cacheRoot, file.relativePath), 'r+').catch(() => null);
      if (!handle) continue;
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
  }

  private async fullCheck(): Promise<number[]> {
    // Files moved alone are checked with the others, and come back into shareable/ once complete (FileSelection).
    this.inShareable = undefined;
    const inShareable = await this.presentFiles('shareable');
    if (inShareable.length === this.layout.dataFiles.length) {
      const good = await this.check('shareable', inShareable);
      if (good.length === this.geometry.pieceCount) {
        this.where = 'shareable';
        return good;
      }
    }
    for (const relativePath of inShareable) {
      await moveFile(path.join(this.folders.shareable, relativePath), path.join(this.cacheRoot, relativePath));
    }
    const inCache = await this.presentFiles('cache');
    for (const relativePath of inCache) {
      const file = this.layout.dataFiles.find((f) => f.relativePath === relativePath);
      // A longer file would keep stray bytes after completion; cut it to the torrent's size.
      if (file && (await stat(path.join(this.cacheRoot, relativePath))).size > file.length) {
        await truncate(path.join(this.cacheRoot, relativePath), file.length);
      }
    }
    this.where = 'cache';
    return inCache.length > 0 ? this.check('cache', inCache) : [];
  }

  /** Relative paths of the torrent's files that exist as regular files there. */
  private async presentFiles(where: DataLocation): Promise<string[]> {
    const present: string[] = [];
    for (const file of this.layout.dataFiles) {
      const info = await stat(this.filePath(file.relativePath, where)).catch(() => null);
      if (info?.isFile()) present.push(file.relativePath);
    }
    return present;
  }

  /**
   * Hashes, on the pool, every piece whose files are all present; returns the indices that match.
   * Consecutive pieces go to a worker in runs of about CHECK_RUN_BYTES: one task per piece would
   * spend as much time passing tasks as hashing.
   */
  private async check(where: DataLocation, present: string[], wanted: (index: number) => boolean = () => true): Promise<number[]> {
    const presentSet = new Set(present.map((relativePath) => this.filePath(relativePath, where)));
    type Run = { indices: number[]; locations: PieceLocation[] };
    const runs: Run[] = [];
    let run: Run = { indices: [], locations: [] };
    for (let index = 0; index < this.geometry.pieceCount; index++) {
      if (!wanted(index)) continue;
      const location = this.pieceLocation(index, where);
      if (!location.spans.every((span) => span.pad || presentSet.has(span.path))) continue;
      const last = run.indices[run.indices.length - 1];
      if (run.indices.length > 0 && (last !== index - 1 || run.indices.length * this.geometry.pieceLength >= CHECK_RUN_BYTES)) {
        runs.push(run);
        run = { indices: [], locations: [] };
      }
      run.indices.push(index);
      run.locations.push(location);
    }
    if (run.indices.length > 0) runs.push(run);
    const good: number[] = [];
    await Promise.all(
      runs.map(async ({ indices, locations }) => {
        const expected = new Uint8Array(indices.length * 20);
        indices.forEach((index, i) => expected.set(pieceHash(this.meta, index), i * 20));
        const flags = await this.workers.checkRun(expected, locations);
        indices.forEach((index, i) => flags[i] && good.push(index));
      }),
    );
    return good.sort((a, b) => a - b);
  }

  /**
   * The piece's SHA-1 in a 20-byte buffer of its own: posting a view of the whole .torrent to a
   * worker would clone all of it with every task.
   */
  private expectedHash(index: number): Uint8Array {
    return new Uint8Array(pieceHash(this.meta, index));
  }

  /**
   * Reads piece `index` into `piece` (slab slots) for uploading, and checks its hash on the pool:
   * rejects with PieceChangedError when it no longer matches (its file changed on disk).
   */
  async readPiece(index: number, piece: SlabPiece): Promise<void> {
    if (this.moving) await this.moving;
    this.readsInFlight++;
    try {
      if (!(await this.workers.read(piece, this.expectedHash(index), this.pieceLocation(index)))) throw new PieceChangedError(index);
    } finally {
      this.readsInFlight--;
      if (this.readsInFlight === 0) this.readsDrained?.();
    }
  }

  /**
   * Checks again, on the pool, pieces that verified before (a file changed under us); returns
   * those that still match. A piece whose file is missing does not.
   */
  async recheck(indices: readonly number[]): Promise<number[]> {
    const wanted = new Set(indices);
    return this.check(this.where, await this.presentFiles(this.where), (index) => wanted.has(index));
  }

  /** The pieces that lie, wholly or in part, in the same files as piece `index` (pad files aside). */
  piecesSharingFiles(index: number): { files: string[]; pieces: number[] } {
    const { pieceLength } = this.geometry;
    const files = this.layout.spans(index * pieceLength, this.geometry.pieceSize(index)).map((span) => span.file).filter((file) => !file.pad);
    const pieces = new Set<number>();
    for (const file of files) {
      const last = Math.max(file.offset, file.offset + file.length - 1);
      for (let i = Math.floor(file.offset / pieceLength); i <= Math.floor(last / pieceLength) && i < this.geometry.pieceCount; i++) pieces.add(i);
    }
    return { files: files.map((file) => file.relativePath), pieces: [...pieces].sort((a, b) => a - b) };
  }

  /** Hashes a complete piece on the pool and writes it only when it matches. Returns whether it matched. */
  verifyAndWrite(index: number, piece: SlabPiece): Promise<boolean> {
    return this.workers.verifyAndWrite(piece, this.expectedHash(index), this.pieceLocation(index, 'cache'));
  }

  /** SHA-1 of each block of a downloaded piece, on the pool (to find which peer sent bad data). */
  hashBlocks(piece: SlabPiece): Promise<Buffer[]> {
    return this.workers.hashBlocks(piece);
  }

  /** Moves the complete data from cache/ into shareable/ and seeds it from there. */
  moveToShareable(): Promise<void> {
    return this.afterMoves(() => this.doMoveToShareable());
  }

  private async doMoveToShareable(): Promise<void> {
    await this.readsSettled();
    for (const file of this.layout.dataFiles) if (!this.inShareable?.has(file.relativePath)) await this.moveOne(file);
    await rm(this.cacheRoot, { recursive: true, force: true });
    this.where = 'shareable';
    this.inShareable = undefined;
  }

  /**
   * Moves one complete file into shareable/ while the rest of the torrent stays in cache/ (some
   * files skipped, docs/architecture.md, Disk); reads wait for the move, as for the whole torrent's.
   */
  moveFileToShareable(relativePath: string): Promise<void> {
    const file = this.layout.dataFiles.find((f) => f.relativePath === relativePath);
    if (!file || this.isInShareable(relativePath)) return Promise.resolve();
    return this.afterMoves(async () => {
      // The whole torrent may have moved while this move waited for its turn.
      if (this.isInShareable(relativePath)) return;
      await this.readsSettled();
      await this.moveOne(file);
      (this.inShareable ??= new Set()).add(relativePath);
    });
  }

  /** Runs a move once the moves under way are done; reads wait for all of them. */
  private afterMoves(move: () => Promise<void>): Promise<void> {
    const moving: Promise<void> = (this.moving ?? Promise.resolve()).catch(() => undefined).then(move).finally(() => {
      if (this.moving === moving) this.moving = null;
    });
    this.moving = moving;
    return moving;
  }

  private async readsSettled(): Promise<void> {
    if (this.readsInFlight > 0) await new Promise<void>((resolve) => (this.readsDrained = resolve));
    this.readsDrained = null;
  }

  private async moveOne(file: { relativePath: string; length: number }): Promise<void> {
    const from = path.join(this.cacheRoot, file.relativePath);
    const to = path.join(this.folders.shareable, file.relativePath);
    // Zero-length files are never written to, so they may not exist yet.
    if (file.length === 0 && !(await stat(from).catch(() => null))) {
      await mkdir(path.dirname(to), { recursive: true });
      await writeFile(to, '');
    } else {
      await moveFile(from, to);
    }
  }

  /** Waits for a move under way, so that nothing is left half done at exit. */
  async close(): Promise<void> {
    if (this.moving) await this.moving.catch(() => undefined);
  }
}

/** A piece read for uploading no longer matches its hash: its file changed on disk. */
export class PieceChangedError extends Error {
  constructor(readonly index: number) {
    super(`piece ${index} no longer matches its hash`);
    this.name = 'PieceChangedError';
  }
}

/**
 * Whether the files on disk are those the resume data describes: the same sizes and, when
 * `exact`, the same modification times (nothing touched them since a clean stop).
 */
function sameFiles(now: readonly (ResumeFile | null)[], saved: readonly ResumeFile[], exact: boolean): boolean {
  if (now.length !== saved.length) return false;
  return now.every((file, i) => {
    const then = saved[i];
    if (!file) return then.size === -1;
    return file.path === then.path && file.size === then.size && (!exact || file.mtimeMs === then.mtimeMs);
  });
}

/** Renames a file, copying it when the two folders are on different file systems. */
async function moveFile(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await unlink(from);
  }
}
