/** Where a torrent's data lives (docs/architecture.md, Disk) and what a start-up check makes of it. */
import { mkdtemp, mkdir, open as openFile, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { encodeBencode } from '../../src/io/bencode.js';
import { parseMetainfo, type Metainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { BlockSlab, type SlabPiece } from '../../src/io/block-slab.js';
import { PieceWorkers } from '../../src/io/piece-workers.js';
import { TorrentData } from '../../src/io/torrent-data.js';

const PIECE = 16 * 1024;

describe('TorrentData', () => {
  let root: string;
  let folders: { shareable: string; cache: string };
  let content: Buffer;
  let meta: Metainfo;
  const slab = new BlockSlab(0, PIECE * 4, 4096);
  const workers = new PieceWorkers(2, [slab]);
  afterAll(() => workers.destroy());

  /** A piece's bytes placed in the slab, as the swarm hands them to the pool. */
  function inSlab(bytes: Buffer): SlabPiece {
    const slots = slab.allocate(bytes.length)!;
    slots.forEach((slot, i) => bytes.copy(slab.view(slot), 0, i * slab.slotLength, (i + 1) * slab.slotLength));
    return slab.piece(slots, bytes.length);
  }

  async function readBack(data: TorrentData, index: number): Promise<Buffer> {
    const length = data.geometry.pieceSize(index);
    const slots = slab.allocate(length)!;
    await data.readPiece(index, slab.piece(slots, length));
    const out = Buffer.concat(slots.map((slot) => slab.view(slot))).subarray(0, length);
    slab.release(slots);
    return out;
  }

  async function write(data: TorrentData, index: number, bytes: Buffer): Promise<boolean> {
    const piece = inSlab(bytes);
    try {
      return await data.verifyAndWrite(index, piece);
    } finally {
      slab.release(piece.slots);
    }
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'shoal-data-'));
    folders = { shareable: path.join(root, 'shareable'), cache: path.join(root, 'cache') };
    await mkdir(folders.shareable);
    await mkdir(folders.cache);
    content = randomBytes(PIECE * 5 + 1000);
    const source = path.join(root, 'file.bin');
    await writeFile(source, content);
    meta = parseMetainfo(await createTorrent(source, { announce: 'http://127.0.0.1:1/announce', pieceLength: PIECE }));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  const open = (): TorrentData => new TorrentData(meta, folders, workers);

  test('complete, valid data in shareable/ is seeded from there', async () => {
    await writeFile(path.join(folders.shareable, 'file.bin'), content);
    const data = open();
    expect((await data.open(true)).pieces).toEqual([0, 1, 2, 3, 4, 5]);
    expect(data.location).toBe('shareable');
    expect((await readBack(data, 5)).equals(content.subarray(PIECE * 5))).toBe(true);
    await data.close();
  });

  test('a corrupt file in shareable/ moves to cache/, keeps its good pieces, and comes back complete', async () => {
    const damaged = Buffer.from(content);
    damaged[PIECE * 2 + 7] ^= 0xff;
    await writeFile(path.join(folders.shareable, 'file.bin'), damaged);
    const data = open();
    expect((await data.open(true)).pieces).toEqual([0, 1, 3, 4, 5]);
    expect(data.location).toBe('cache');
    // shareable/ never holds a partial file.
    await expect(stat(path.join(folders.shareable, 'file.bin'))).rejects.toThrow();

    expect(await write(data, 2, damaged.subarray(PIECE * 2, PIECE * 3))).toBe(false);
    expect(await write(data, 2, content.subarray(PIECE * 2, PIECE * 3))).toBe(true);
    await data.moveToShareable();
    expect(data.location).toBe('shareable');
    expect((await readFile(path.join(folders.shareable, 'file.bin'))).equals(content)).toBe(true);
    await expect(stat(data.cacheRoot)).rejects.toThrow();
    await data.close();
  });

  test('a truncated file keeps the pieces it still holds; a longer one is cut to size', async () => {
    await writeFile(path.join(folders.shareable, 'file.bin'), content.subarray(0, PIECE * 3 + 5));
    const data = open();
    expect((await data.open(true)).pieces).toEqual([0, 1, 2]);
    await data.close();

    await writeFile(path.join(data.cacheRoot, 'file.bin'), Buffer.concat([content, Buffer.from('trailing junk')]));
    const again = open();
    expect((await again.open(true)).pieces).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await stat(path.join(again.cacheRoot, 'file.bin'))).size).toBe(content.length);
    await again.close();
  });

  test('nothing on disk: a leecher with no pieces, whose partial data goes to cache/', async () => {
    const data = open();
    expect((await data.open(true)).pieces).toEqual([]);
    expect(await write(data, 0, content.subarray(0, PIECE))).toBe(true);
    expect((await stat(path.join(data.cacheRoot, 'file.bin'))).size).toBe(content.length);
    await data.close();
  });

  test('pieces verified in one batch keep their own outcomes: a bad piece and an unwritable one fail alone', async () => {
    const source = path.join(root, 'two');
    await mkdir(source);
    const first = randomBytes(PIECE * 2);
    const second = randomBytes(PIECE * 2);
    await writeFile(path.join(source, 'a.bin'), first);
    await writeFile(path.join(source, 'b.bin'), second);
    meta = parseMetainfo(await createTorrent(source, { announce: 'http://127.0.0.1:1/announce', pieceLength: PIECE }));
    const data = open();
    await data.open(true);
    // A folder where b.bin must go: its pieces cannot be written.
    await mkdir(path.join(data.cacheRoot, data.layout.files[1].relativePath), { recursive: true });
    const corrupt = Buffer.from(first.subarray(PIECE));
    corrupt[5] ^= 1;
    // Submitted in one tick, so the four pieces share a worker task.
    const tasksBefore = workers.tasksRun;
    const outcomes = await Promise.allSettled([
      write(data, 0, first.subarray(0, PIECE)),
      write(data, 1, corrupt),
      write(data, 2, second.subarray(0, PIECE)),
      write(data, 3, second.subarray(PIECE)),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected'))).toEqual([true, false, 'rejected', 'rejected']);
    expect(workers.tasksRun - tasksBefore).toBe(1);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toMatch(/EISDIR|directory/);
    expect((await readFile(path.join(data.cacheRoot, data.layout.files[0].relativePath))).subarray(0, PIECE).equals(first.subarray(0, PIECE))).toBe(true);
    await data.close();
  });

  test('reads asked for in the same moment share one worker task, and each gets its own piece', async () => {
    await writeFile(path.join(folders.shareable, 'file.bin'), content);
    const data = open();
    await data.open(true);
    const tasksBefore = workers.tasksRun;
    const pieces = await Promise.all([0, 3, 5].map((index) => readBack(data, index)));
    expect(workers.tasksRun - tasksBefore).toBe(1);
    expect(pieces[0].equals(content.subarray(0, PIECE))).toBe(true);
    expect(pieces[1].equals(content.subarray(PIECE * 3, PIECE * 4))).toBe(true);
    expect(pieces[2].equals(content.subarray(PIECE * 5))).toBe(true);
    await data.close();
  });

  test('pad files (BEP 47) are zeros in the pieces, never on disk: downloaded, moved and seeded without them', async () => {
    // The layout libtorrent 2 gives a hybrid torrent: each file padded to a piece boundary.
    const a = randomBytes(10_000);
    const b = randomBytes(PIECE + 500);
    const padded = [Buffer.concat([a, Buffer.alloc(PIECE - a.length)]), b.subarray(0, PIECE), Buffer.concat([b.subarray(PIECE), Buffer.alloc(PIECE - 500)])];
    const sha1 = (bytes: Buffer): Buffer => createHash('sha1').update(bytes).digest();
    meta = parseMetainfo(
      encodeBencode({
        announce: 'http://127.0.0.1:1/announce',
        info: {
          name: 'hybrid',
          'piece length': PIECE,
          files: [
            { length: a.length, path: ['a.bin'] },
            { length: PIECE - a.length, path: ['.pad', String(PIECE - a.length)], attr: 'p' },
            { length: b.length, path: ['b.bin'] },
            { length: PIECE - 500, path: ['.pad', String(PIECE - 500)], attr: 'p' },
          ],
          pieces: Buffer.concat(padded.map(sha1)),
        },
      }),
    );
    const leecher = open();
    expect((await leecher.open(true)).pieces).toEqual([]);
    for (const [index, bytes] of padded.entries()) expect(await write(leecher, index, bytes)).toBe(true);
    await leecher.moveToShareable();
    expect((await readdir(path.join(folders.shareable, 'hybrid'))).sort()).toEqual(['a.bin', 'b.bin']);
    expect((await readFile(path.join(folders.shareable, 'hybrid', 'a.bin'))).equals(a)).toBe(true);
    expect((await readFile(path.join(folders.shareable, 'hybrid', 'b.bin'))).equals(b)).toBe(true);
    await leecher.close();

    // A user's own copy of the files, with no pad files beside them, is seeded as it is.
    await rm(folders.cache, { recursive: true, force: true });
    await mkdir(folders.cache);
    const seeder = open();
    expect(await seeder.open(true)).toEqual({ pieces: [0, 1, 2], resumed: 'checked' });
    expect(seeder.location).toBe('shareable');
    expect((await readBack(seeder, 0)).equals(padded[0])).toBe(true);
    expect((await readBack(seeder, 2)).equals(padded[2])).toBe(true);
    await seeder.close();
  });

  describe('resume data', () => {
    test('after a clean stop the saved pieces are trusted without hashing (fast resume)', async () => {
      const data = open();
      await data.open(true);
      expect(await write(data, 0, content.subarray(0, PIECE))).toBe(true);
      expect(await write(data, 3, content.subarray(3 * PIECE, 4 * PIECE))).toBe(true);
      await data.saveResume((i) => i === 0 || i === 3, true);
      const again = await open().open(true);
      expect(again).toEqual({ pieces: [0, 3], resumed: 'fast' });
    });

    test('a clean stop of the torrent is not trusted when the run of the peer did not end cleanly', async () => {
      const data = open();
      await data.open(true);
      expect(await write(data, 0, content.subarray(0, PIECE))).toBe(true);
      await data.saveResume((i) => i === 0, true);
      // The peer was restarted from that clean stop and killed before saving again; meanwhile
      // piece 2 reached the disk. Its saved pieces still hold, the rest is checked, not assumed.
      expect(await write(data, 2, content.subarray(2 * PIECE, 3 * PIECE))).toBe(true);
      expect(await open().open(false)).toEqual({ pieces: [0, 2], resumed: 'after-crash' });
    });

    test('after an unclean stop, complete data in shareable/ as saved is trusted without hashing', async () => {
      const file = path.join(folders.shareable, 'file.bin');
      await writeFile(file, content);
      // Whole seconds, so that the time can be put back exactly below.
      const mtime = new Date(1_700_000_000_000);
      await utimes(file, mtime, mtime);
      const data = open();
      expect((await data.open(true)).pieces).toEqual([0, 1, 2, 3, 4, 5]);
      await data.saveResume(() => true, false);
      // Damage that keeps size and time would be trusted: proof that no hashing took place.
      const handle = await openFile(file, 'r+');
      await handle.write(Buffer.from('x'), 0, 1, 0);
      await handle.close();
      await utimes(file, mtime, mtime);
      expect(await open().open(false)).toEqual({ pieces: [0, 1, 2, 3, 4, 5], resumed: 'after-crash' });
      // A file changed since the save is checked in full.
      await utimes(file, mtime, new Date(mtime.getTime() + 5000));
      expect(await open().open(false)).toEqual({ pieces: [1, 2, 3, 4, 5], resumed: 'checked' });
    });

    test('a file touched after the clean stop is checked again, not trusted', async () => {
      const data = open();
      await data.open(true);
      expect(await write(data, 1, content.subarray(PIECE, 2 * PIECE))).toBe(true);
      await data.saveResume((i) => i === 1, true);
      // Someone damaged piece 1 while the peer was stopped (same size, new time).
      const file = path.join(data.cacheRoot, 'file.bin');
      const handle = await openFile(file, 'r+');
      await handle.write(Buffer.from('damage'), 0, 6, PIECE + 10);
      await handle.close();
      await utimes(file, new Date(), new Date(Date.now() + 5000));
      expect(await open().open(true)).toEqual({ pieces: [], resumed: 'checked' });
    });

    test('after a crash the saved pieces are trusted and only the others are checked', async () => {
      const data = open();
      await data.open(true);
      expect(await write(data, 0, content.subarray(0, PIECE))).toBe(true);
      await data.saveResume((i) => i === 0, false);
      // Written after the last save, then the peer was killed: found by the check, not trusted blindly.
      expect(await write(data, 2, content.subarray(2 * PIECE, 3 * PIECE))).toBe(true);
      // Unsaved and damaged: the check refuses it.
      const bad = Buffer.from(content.subarray(4 * PIECE, 5 * PIECE));
      bad[0] ^= 1;
      const handle = await openFile(path.join(data.cacheRoot, 'file.bin'), 'r+');
      await handle.write(bad, 0, bad.length, 4 * PIECE);
      await handle.close();
      expect(await open().open(true)).toEqual({ pieces: [0, 2], resumed: 'after-crash' });
    });

    test('damaged resume data is ignored: a full check', async () => {
      const data = open();
      await data.open(true);
      expect(await write(data, 5, content.subarray(5 * PIECE))).toBe(true);
      await data.saveResume(() => true, true);
      await writeFile(data.resumeFile, '{"version": 1, "infoHash": "');
      expect(await open().open(true)).toEqual({ pieces: [5], resumed: 'checked' });
    });
  });
});
