/** A worker's positional I/O between a piece's views and the file spans it covers (src/workers/span-io.ts). */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DiskSpan } from '../../src/io/piece-spans.js';
import { readSpans, writeSpans } from '../../src/workers/span-io.js';

/** `bytes` cut into views of the given lengths, in turn, the last one taking the rest. */
function cut(bytes: Buffer, lengths: readonly number[]): Buffer[] {
  const views: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.min(lengths[i % lengths.length], bytes.length - at);
    views.push(bytes.subarray(at, at + n));
    at += n;
  }
  return views;
}

describe('span I/O', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'shoal-span-io-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const span = (file: string, fileOffset: number, length: number, fileLength: number): DiskSpan => ({
    path: path.join(root, file),
    fileOffset,
    length,
    fileLength,
    pad: false,
  });
  const pad = (length: number): DiskSpan => ({ path: '', fileOffset: 0, length, fileLength: length, pad: true });

  it('writes views of any split across files and a pad file, and reads them back in another split', async () => {
    const piece = randomBytes(40_000);
    // a.bin holds the piece's first 10,000 bytes at its end; 5,000 bytes of padding; b.bin the rest at its start.
    const spans = [span('a.bin', 2_000, 10_000, 12_000), pad(5_000), span('sub/b.bin', 0, 25_000, 30_000)];
    const padded = Buffer.concat([piece.subarray(0, 10_000), Buffer.alloc(5_000), piece.subarray(15_000)]);

    writeSpans(cut(padded, [5, 7_000, 16_384, 3]), spans);

    const a = await readFile(path.join(root, 'a.bin'));
    const b = await readFile(path.join(root, 'sub/b.bin'));
    expect(a.length).toBe(12_000);
    expect(a.subarray(2_000).equals(padded.subarray(0, 10_000))).toBe(true);
    expect(b.length).toBe(30_000);
    expect(b.subarray(0, 25_000).equals(padded.subarray(15_000))).toBe(true);

    const back = Buffer.alloc(padded.length, 0xff);
    readSpans(cut(back, [16_384, 1, 999]), spans);
    expect(back.equals(padded)).toBe(true);
  });

  it('moves thousands of small views in one span', async () => {
    const bytes = randomBytes(30_000);
    const spans = [span('many.bin', 100, bytes.length, bytes.length + 100)];
    // 3,000 views of 10 bytes: more than Linux's IOV_MAX (1024) buffers in one call.
    writeSpans(cut(bytes, [10]), spans);
    expect((await readFile(path.join(root, 'many.bin'))).subarray(100).equals(bytes)).toBe(true);

    const back = Buffer.alloc(bytes.length);
    readSpans(cut(back, [10]), spans);
    expect(back.equals(bytes)).toBe(true);
  });

  it('refuses a file shorter than the torrent says', async () => {
    await writeFile(path.join(root, 'short.bin'), randomBytes(1_000));
    expect(() => readSpans([Buffer.alloc(4_000)], [span('short.bin', 0, 4_000, 4_000)])).toThrow(/short\.bin is shorter than the torrent says/);
  });
});
