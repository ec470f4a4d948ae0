/**
 * Issue 18, streaming: which bytes a Range asks for, what type a file is served as (never one a
 * browser would run on the peer's origin), and the file paths of the URLs.
 */
import { FileLayout } from '../../src/io/file-layout.js';
import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { contentTypeOf, decodeFilePath, encodeFilePath, parseRange, streamFileRange } from '../../src/main/control/file-stream.js';
import { FileSelection } from '../../src/main/swarm/file-selection.js';
import { NORMAL, PiecePicker, SKIP, URGENT } from '../../src/main/swarm/piece-picker.js';
import { createLogger } from '../../src/main/logger.js';

test('a Range is one range of bytes, both ends included; several, or another unit, mean the whole file', () => {
  expect(parseRange(undefined, 1000)).toBeNull();
  expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
  expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
  expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
  expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
  expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
  expect(parseRange('bytes=0-1,5-6', 1000)).toBeNull();
  expect(parseRange('items=0-1', 1000)).toBeNull();
  for (const bad of ['bytes=1000-', 'bytes=5-4', 'bytes=-0', 'bytes=-', 'bytes=x-1']) expect(parseRange(bad, 1000)).toBe('unsatisfiable');
  expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
});

test('media and text get their type; pages, images that run scripts and anything unknown are downloads', () => {
  expect(contentTypeOf('show/Episode 1.MKV')).toBe('video/x-matroska');
  expect(contentTypeOf('a.mp4')).toBe('video/mp4');
  expect(contentTypeOf('notes.txt')).toBe('text/plain; charset=utf-8');
  for (const risky of ['index.html', 'x.htm', 'logo.svg', 'app.js', 'feed.xml', 'noextension']) expect(contentTypeOf(risky)).toBe('application/octet-stream');
});

test('a path is decoded per component, so that an encoded slash stays inside a name', () => {
  expect(decodeFilePath('set/a%20b.bin')).toBe('set/a b.bin');
  expect(decodeFilePath('a%2Fb')).toBe('a/b');
  expect(decodeFilePath('%E0%A4%A')).toBeUndefined();
  expect(encodeFilePath('set/a b#1?.bin')).toBe('set/a%20b%231%3F.bin');
  expect(decodeFilePath(encodeFilePath('Ünï/cödé 1.mkv'))).toBe('Ünï/cödé 1.mkv');
});

describe('a stream\'s urgency', () => {
  const geometry = new PieceGeometry(100, 800, 100);
  const layout = FileLayout.fromComponents([
    { components: ['t', 'a'], length: 400 },
    { components: ['t', 'b'], length: 400 },
  ]);
  function selection(picker: PiecePicker): FileSelection {
    return new FileSelection({
      data: { layout, geometry, moveFileToShareable: async () => undefined, isInShareable: () => false, shareablePath: '/nowhere' },
      picker,
      priorities: ['normal', 'skip'],
      sequentialWindow: 4,
      log: createLogger('quiet', () => undefined),
      changed: () => undefined,
      storageFailed: () => undefined,
    });
  }

  test('urged pieces jump the queue until released, skipped or not; two streams hold a piece until both let go', () => {
    const picker = new PiecePicker(geometry);
    const files = selection(picker);
    const first = files.urge([5, 6]);
    const second = files.urge([6]);
    expect([picker.priorityOf(5), picker.priorityOf(6), picker.priorityOf(7)]).toEqual([URGENT, URGENT, SKIP]);
    expect(picker.pick(() => true, 1)[0].index).toBe(5);
    first();
    first();
    expect([picker.priorityOf(5), picker.priorityOf(6)]).toEqual([SKIP, URGENT]);
    second();
    expect(picker.priorityOf(6)).toBe(SKIP);
    expect(picker.priorityOf(0)).toBe(NORMAL);
  });

  test('a reader that goes away stops waiting; a stop ends every wait; a piece verified ends its waits', async () => {
    const picker = new PiecePicker(geometry);
    const files = selection(picker);
    const gone = new AbortController();
    const abandoned = files.waitFor(2, gone.signal);
    gone.abort();
    await expect(abandoned).rejects.toThrow('the reader went away');
    const waiting = files.waitFor(3);
    picker.markHave(3);
    await files.pieceVerified(3);
    await expect(waiting).resolves.toBeUndefined();
    await expect(files.waitFor(3)).resolves.toBeUndefined();
    const cut = files.waitFor(1);
    files.stop('paused');
    await expect(cut).rejects.toThrow('paused');
  });
});

test('a stream whose client goes away withdraws the urgency of the pieces it waited for', async () => {
  const geometry = new PieceGeometry(100, 400, 100);
  const released: number[][] = [];
  const urged: number[][] = [];
  const gone = new AbortController();
  const source = {
    infoHashHex: 'ab'.repeat(20),
    data: { geometry, readPiece: async () => undefined },
    picker: { hasPiece: () => false },
    selection: {
      urge: (indices: readonly number[]) => {
        urged.push([...indices]);
        return () => released.push([...indices]);
      },
      waitFor: (_index: number, signal?: AbortSignal) => new Promise<void>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('gone')))),
    },
    readCache: { lease: async () => ({ views: [], release: () => undefined }) },
  };
  const res = { write: () => true } as unknown as import('node:http').ServerResponse;
  const file = { relativePath: 'f', length: 400, offset: 0, pad: false };
  const streaming = streamFileRange(res, source, file, { start: 0, end: 399 }, 2, gone.signal);
  await new Promise((resolve) => setImmediate(resolve));
  expect(urged).toEqual([[0, 1, 2]]);
  expect(released).toEqual([]);
  gone.abort();
  await expect(streaming).rejects.toThrow('gone');
  expect(released).toEqual([[0, 1, 2]]);
});
