/**
 * The data of one torrent and where it lives (DESIGN.md, Disk): complete, verified data in
 * shareable/, partial data in cache/<info hash>/data/. It checks what is on disk at start,
 * writes verified pieces, serves reads, and moves the data into shareable/ on completion.
 */
import { copyFile, mkdir, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileLayout } from './file-layout.js';
import { FileStorage } from './file-storage.js';
import { filePath, pieceHash, type Metainfo } from './metainfo.js';
import { PieceGeometry } from './piece-geometry.js';
import type { PieceHasher } from './piece-hasher.js';

export interface DataFolders {
  shareable: string;
  cache: string;
}

export type DataLocation = 'shareable' | 'cache';

export class TorrentData {
  readonly geometry: PieceGeometry;
  readonly layout: FileLayout;
  private storage: FileStorage;
  private where: DataLocation = 'cache';
  /** Set while the data moves between folders; reads wait for it. */
  private moving: Promise<void> | null = null;

  constructor(
    readonly meta: Metainfo,
    private readonly folders: DataFolders,
    private readonly hasher: PieceHasher,
  ) {
    this.geometry = new PieceGeometry(meta.pieceLength, meta.totalLength);
    this.layout = FileLayout.fromComponents(
      meta.files.map((file) => ({ components: filePath(meta, file), length: file.length })),
    );
    this.storage = new FileStorage(this.cacheRoot, this.layout, true);
  }

  get location(): DataLocation {
    return this.where;
  }

  get cacheRoot(): string {
    return path.join(this.folders.cache, this.meta.infoHashHex, 'data');
  }

  /** Absolute path of the torrent's top-level file or folder in shareable/. */
  get shareablePath(): string {
    return path.join(this.folders.shareable, this.meta.name);
  }

  /**
   * Decides where the data is and which pieces are good. Complete, valid data in shareable/ is
   * seeded from there. Anything less found there is moved to cache/ (shareable/ never holds a
   * partial file) where its good pieces are kept and the rest is downloaded.
   */
  async open(): Promise<number[]> {
    const inShareable = await this.presentFiles(this.folders.shareable);
    if (inShareable.length === this.layout.files.length) {
      const shared = new FileStorage(this.folders.shareable, this.layout, false);
      const good = await this.check(shared, inShareable);
      if (good.length === this.geometry.pieceCount) {
        await this.storage.close();
        this.storage = shared;
        this.where = 'shareable';
        return good;
      }
      await shared.close();
    }
    for (const relativePath of inShareable) {
      await moveFile(path.join(this.folders.shareable, relativePath), path.join(this.cacheRoot, relativePath));
    }
    const inCache = await this.presentFiles(this.cacheRoot);
    for (const relativePath of inCache) {
      const file = this.layout.files.find((f) => f.relativePath === relativePath);
      // A longer file would keep stray bytes after completion; cut it to the torrent's size.
      if (file && (await stat(path.join(this.cacheRoot, relativePath))).size > file.length) {
        await truncate(path.join(this.cacheRoot, relativePath), file.length);
      }
    }
    this.where = 'cache';
    return inCache.length > 0 ? this.check(this.storage, inCache) : [];
  }

  /** Relative paths of the torrent's files that exist as regular files under `root`. */
  private async presentFiles(root: string): Promise<string[]> {
    const present: string[] = [];
    for (const file of this.layout.files) {
      const info = await stat(path.join(root, file.relativePath)).catch(() => null);
      if (info?.isFile()) present.push(file.relativePath);
    }
    return present;
  }

  /** Hashes every piece whose files are all present; returns the indices that match. */
  private async check(storage: FileStorage, present: string[]): Promise<number[]> {
    const presentSet = new Set(present);
    const good: number[] = [];
    const buffer = Buffer.allocUnsafe(this.geometry.pieceLength);
    for (let index = 0; index < this.geometry.pieceCount; index++) {
      const size = this.geometry.pieceSize(index);
      const start = index * this.geometry.pieceLength;
      const spans = this.layout.spans(start, size);
      if (!spans.every((span) => presentSet.has(span.file.relativePath))) continue;
      const data = buffer.subarray(0, size);
      try {
        await storage.readInto(data, start);
      } catch {
        continue;
      }
      if ((await this.hasher.sha1(data)).equals(pieceHash(this.meta, index))) good.push(index);
    }
    return good;
  }

  async read(index: number, begin: number, length: number): Promise<Buffer> {
    if (this.moving) await this.moving;
    const out = Buffer.allocUnsafe(length);
    await this.storage.readInto(out, index * this.geometry.pieceLength + begin);
    return out;
  }

  /** Hashes a complete piece; writes it only when it matches. Returns whether it matched. */
  async verifyAndWrite(index: number, data: Buffer): Promise<boolean> {
    const digest = await this.hasher.sha1(data);
    if (!digest.equals(pieceHash(this.meta, index))) return false;
    await this.storage.write(data, index * this.geometry.pieceLength);
    return true;
  }

  /** Moves the complete data from cache/ into shareable/ and seeds it from there. */
  moveToShareable(): Promise<void> {
    this.moving = this.doMoveToShareable().finally(() => {
      this.moving = null;
    });
    return this.moving;
  }

  private async doMoveToShareable(): Promise<void> {
    await this.storage.sync();
    await this.storage.close();
    for (const file of this.layout.files) {
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
    await rm(this.cacheRoot, { recursive: true, force: true });
    this.storage = new FileStorage(this.folders.shareable, this.layout, false);
    this.where = 'shareable';
  }

  async close(): Promise<void> {
    if (this.moving) await this.moving.catch(() => undefined);
    await this.storage.close();
  }
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
