/**
 * Where a torrent's bytes live on disk: the mapping from a span of the torrent's byte stream
 * to (file, offset, length) pieces, which a piece can cross in a multi-file torrent.
 */
import path from 'node:path';

export interface LayoutFile {
  /** Path relative to the data root, from components already checked by the metainfo reader. */
  relativePath: string;
  length: number;
  /** Offset of the file's first byte in the torrent's byte stream. */
  offset: number;
  /** A BEP 47 pad file: zeros in the byte stream, never on disk. */
  pad: boolean;
}

export interface FileSpan {
  file: LayoutFile;
  /** Offset inside the file. */
  fileOffset: number;
  /** Offset inside the caller's buffer. */
  bufferOffset: number;
  length: number;
}

export class FileLayout {
  /** The files that live on disk: all but the pad files. */
  readonly dataFiles: readonly LayoutFile[];

  constructor(readonly files: readonly LayoutFile[]) {
    this.dataFiles = files.filter((file) => !file.pad);
  }

  static fromComponents(entries: readonly { components: string[]; length: number; pad?: boolean }[]): FileLayout {
    let offset = 0;
    const files = entries.map(({ components, length, pad = false }) => {
      const file = { relativePath: path.join(...components), length, offset, pad };
      offset += length;
      return file;
    });
    return new FileLayout(files);
  }

  /** The file spans covering [start, start + length) of the torrent's byte stream, in order. */
  spans(start: number, length: number): FileSpan[] {
    const out: FileSpan[] = [];
    const end = start + length;
    // Binary search for the first file that ends after `start`; zero-length files are skipped.
    let lo = 0;
    let hi = this.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const f = this.files[mid];
      if (f.offset + f.length <= start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.files.length; i++) {
      const file = this.files[i];
      if (file.offset >= end) break;
      if (file.length === 0) continue;
      const from = Math.max(start, file.offset);
      const to = Math.min(end, file.offset + file.length);
      if (to <= from) continue;
      out.push({ file, fileOffset: from - file.offset, bufferOffset: from - start, length: to - from });
    }
    return out;
  }
}
