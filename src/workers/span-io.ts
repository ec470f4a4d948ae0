/**
 * Positional file I/O for worker threads, between a piece's views (slab slots or a local buffer)
 * and the file spans it covers. Synchronous on purpose: it runs on a pool thread, never on the
 * main thread, and a worker has nothing else to do meanwhile.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DiskSpan } from '../io/piece-spans.js';

/**
 * Calls `each(fd, view, fileOffset)` for the parts of `views` (consecutive bytes) that fall in
 * each span; `fd` is -1 in a pad file's span, which has no file.
 */
function forEachSegment(
  views: readonly Buffer[],
  spans: readonly DiskSpan[],
  each: (fd: number, view: Buffer, fileOffset: number, span: DiskSpan) => void,
  open: (span: DiskSpan) => number,
): void {
  let viewIndex = 0;
  let viewOffset = 0;
  for (const span of spans) {
    const fd = span.pad ? -1 : open(span);
    try {
      let done = 0;
      while (done < span.length) {
        const view = views[viewIndex];
        const n = Math.min(span.length - done, view.length - viewOffset);
        each(fd, view.subarray(viewOffset, viewOffset + n), span.fileOffset + done, span);
        done += n;
        viewOffset += n;
        if (viewOffset === view.length) {
          viewIndex++;
          viewOffset = 0;
        }
      }
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
}

/** Opens a file of the torrent for writing, creating it (and its folders) at its full size if needed. */
function openForWrite(span: DiskSpan): number {
  try {
    return openSync(span.path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(path.dirname(span.path), { recursive: true });
  try {
    const fd = openSync(span.path, 'wx+');
    ftruncateSync(fd, span.fileLength);
    return fd;
  } catch (error) {
    // Another worker created it first.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return openSync(span.path, 'r+');
    throw error;
  }
}

export function writeSpans(views: readonly Buffer[], spans: readonly DiskSpan[]): void {
  forEachSegment(
    views,
    spans,
    (fd, view, fileOffset) => {
      if (fd < 0) return;
      let written = 0;
      while (written < view.length) written += writeSync(fd, view, written, view.length - written, fileOffset + written);
    },
    openForWrite,
  );
}

export function readSpans(views: readonly Buffer[], spans: readonly DiskSpan[]): void {
  forEachSegment(
    views,
    spans,
    (fd, view, fileOffset, span) => {
      if (fd < 0) {
        view.fill(0);
        return;
      }
      let read = 0;
      while (read < view.length) {
        const n = readSync(fd, view, read, view.length - read, fileOffset + read);
        if (n === 0) throw new Error(`${span.path} is shorter than the torrent says`);
        read += n;
      }
    },
    (span) => openSync(span.path, 'r'),
  );
}

