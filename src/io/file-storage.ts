/**
 * Piece storage on plain files under one root folder. The swarm never touches files: it reads
 * blocks and writes verified pieces through this class, which maps them onto file spans.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FileLayout, type FileSpan } from './file-layout.js';

export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

export class FileStorage {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(
    readonly root: string,
    readonly layout: FileLayout,
    /** Read-only storage never creates or changes a file (the data of a seeder in shareable/). */
    readonly writable: boolean,
  ) {}

  private absolute(relativePath: string): string {
    return path.join(this.root, relativePath);
  }

  private handle(span: FileSpan): Promise<FileHandle> {
    const key = span.file.relativePath;
    let pending = this.handles.get(key);
    if (!pending) {
      pending = this.openFile(span.file.relativePath, span.file.length);
      this.handles.set(key, pending);
      // A failed open is not cached, so that the next call tries again.
      pending.catch(() => this.handles.delete(key));
    }
    return pending;
  }

  private async openFile(relativePath: string, length: number): Promise<FileHandle> {
    const file = this.absolute(relativePath);
    if (!this.writable) return open(file, 'r');
    await mkdir(path.dirname(file), { recursive: true });
    try {
      return await open(file, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const handle = await open(file, 'wx+');
    // Sized at once (sparse) so the file's length is final from the first write on.
    await handle.truncate(length);
    return handle;
  }

  /** Reads [start, start + length) of the torrent's byte stream into `target`. */
  async readInto(target: Buffer, start: number): Promise<void> {
    for (const span of this.layout.spans(start, target.length)) {
      const handle = await this.handle(span);
      let done = 0;
      while (done < span.length) {
        const { bytesRead } = await handle.read(target, span.bufferOffset + done, span.length - done, span.fileOffset + done);
        if (bytesRead === 0) {
          throw new StorageError(`${this.absolute(span.file.relativePath)} is shorter than the torrent says`);
        }
        done += bytesRead;
      }
    }
  }

  /** Writes `data` at `start` of the torrent's byte stream, across file boundaries. */
  async write(data: Buffer, start: number): Promise<void> {
    if (!this.writable) throw new StorageError(`storage under ${this.root} is read-only`);
    for (const span of this.layout.spans(start, data.length)) {
      const handle = await this.handle(span);
      let done = 0;
      while (done < span.length) {
        const { bytesWritten } = await handle.write(data, span.bufferOffset + done, span.length - done, span.fileOffset + done);
        done += bytesWritten;
      }
    }
  }

  /** Flushes written data to the disk. */
  async sync(): Promise<void> {
    for (const pending of this.handles.values()) {
      const handle = await pending.catch(() => null);
      if (handle) await handle.sync();
    }
  }

  async close(): Promise<void> {
    const pending = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(pending.map(async (p) => (await p.catch(() => null))?.close()));
  }
}
