/**
 * Positional file I/O for worker threads, between a piece's views (slab slots or a local buffer)
 * and the file spans it covers. Synchronous on purpose: it runs on a pool thread, never on the
 * main thread, and a worker has nothing else to do meanwhile.
 *
 * Each span is one vectored call (pwritev/preadv) over the views it covers, not one call per
 * 16 KiB slot: a piece of 256 KiB costs one system call instead of sixteen.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readvSync, writevSync } from 'node:fs';
import path from 'node:path';
import type { DiskSpan } from '../io/piece-spans.js';

interface ViewCursor {
  index: number;
  offset: number;
}

/** The parts of `views` (consecutive bytes, from `start`) that make up `length` bytes. */
function segmentsOf(views: readonly Buffer[], start: ViewCursor, length: number): Buffer[] {
  const segments: Buffer[] = [];
  let left = length;
  while (left > 0) {
    const view = views[start.index];
    const n = Math.min(left, view.length - start.offset);
    segments.push(start.offset === 0 && n === view.length ? view : view.subarray(start.offset, start.offset + n));
    left -= n;
    start.offset += n;
    if (start.offset === view.length) {
      start.index++;
      start.offset = 0;
    }
  }
  return segments;
}

/**
 * Runs `transfer(segments, position)` until all of `segments` is done: `transfer` returns the
 * bytes it moved, which may be fewer than asked (a short write or read), and the rest is asked
 * again from where it stopped. (libuv itself splits a call of more than IOV_MAX buffers.)
 */
function transferAll(segments: Buffer[], position: number, transfer: (segments: Buffer[], position: number) => number): void {
  while (segments.length > 0) {
    let moved = transfer(segments, position);
    position += moved;
    while (segments.length > 0 && moved >= segments[0].length) moved -= segments.shift()!.length;
    if (moved > 0) segments[0] = segments[0].subarray(moved);
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
  const cursor: ViewCursor = { index: 0, offset: 0 };
  for (const span of spans) {
    const segments = segmentsOf(views, cursor, span.length);
    if (span.pad) continue;
    const fd = openForWrite(span);
    try {
      transferAll(segments, span.fileOffset, (batch, position) => writevSync(fd, batch, position));
    } finally {
      closeSync(fd);
    }
  }
}

export function readSpans(views: readonly Buffer[], spans: readonly DiskSpan[]): void {
  const cursor: ViewCursor = { index: 0, offset: 0 };
  for (const span of spans) {
    const segments = segmentsOf(views, cursor, span.length);
    if (span.pad) {
      for (const segment of segments) segment.fill(0);
      continue;
    }
    const fd = openSync(span.path, 'r');
    try {
      transferAll(segments, span.fileOffset, (batch, position) => {
        const n = readvSync(fd, batch, position);
        if (n === 0) throw new Error(`${span.path} is shorter than the torrent says`);
        return n;
      });
    } finally {
      closeSync(fd);
    }
  }
}
