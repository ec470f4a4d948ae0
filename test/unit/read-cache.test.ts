import { BlockSlab, type SlabPiece } from '../../src/io/block-slab.js';
import { ReadCache } from '../../src/io/read-cache.js';

const PIECE = 4 * 16384;

/** A reader that fills the piece with `value` and counts its disk reads. */
function reader(value: number, reads: { count: number }, slab: BlockSlab) {
  return async (piece: SlabPiece): Promise<void> => {
    reads.count++;
    for (const slot of piece.slots) slab.view(slot).fill(value);
  };
}

describe('ReadCache', () => {
  test('several peers asking for blocks of one piece cost one read', async () => {
    const slab = new BlockSlab(1, 2 * PIECE);
    const cache = new ReadCache(slab);
    const reads = { count: 0 };
    const leases = await Promise.all(
      [0, 16384, 32768, 49152, 0].map((begin) => cache.lease('t:7', PIECE, begin, 16384, reader(7, reads, slab))),
    );
    expect(reads.count).toBe(1);
    expect(cache.stats).toEqual({ hits: 4, misses: 1 });
    expect(leases.every((l) => l.views.length === 1 && l.views[0].every((b) => b === 7))).toBe(true);
    leases.forEach((l) => l.release());
  });

  test('a block that crosses slots comes back as consecutive views', async () => {
    const slab = new BlockSlab(1, PIECE);
    const cache = new ReadCache(slab);
    const lease = await cache.lease('t:1', PIECE, 10_000, 20_000, reader(1, { count: 0 }, slab));
    expect(lease.views.map((v) => v.length)).toEqual([16384 - 10_000, 20_000 - (16384 - 10_000)]);
    lease.release();
  });

  test('the least recently used free piece is evicted; a held one never is', async () => {
    const slab = new BlockSlab(1, 2 * PIECE);
    const cache = new ReadCache(slab);
    const reads = { count: 0 };
    const a = await cache.lease('t:a', PIECE, 0, 16384, reader(1, reads, slab));
    (await cache.lease('t:b', PIECE, 0, 16384, reader(2, reads, slab))).release();
    // The slab is full: c takes b's place, since a is still held by a socket.
    const c = await cache.lease('t:c', PIECE, 0, 16384, reader(3, reads, slab));
    expect(a.views[0][0]).toBe(1);
    expect(c.views[0][0]).toBe(3);
    await cache.lease('t:a', PIECE, 0, 16384, reader(9, reads, slab));
    expect(reads.count).toBe(3);
    a.release();
    c.release();
  });

  test('when every piece is held, a new read waits for a release instead of allocating', async () => {
    const slab = new BlockSlab(1, PIECE);
    const cache = new ReadCache(slab);
    const held = await cache.lease('t:a', PIECE, 0, 16384, reader(1, { count: 0 }, slab));
    let served = false;
    const waiting = cache.lease('t:b', PIECE, 0, 16384, reader(2, { count: 0 }, slab)).then((lease) => {
      served = true;
      return lease;
    });
    await Promise.resolve();
    expect(served).toBe(false);
    held.release();
    const lease = await waiting;
    expect(lease.views[0][0]).toBe(2);
    lease.release();
  });

  test('a failed read is reported to every waiter and frees its slots', async () => {
    const slab = new BlockSlab(1, PIECE);
    const cache = new ReadCache(slab);
    const failing = async (): Promise<void> => {
      throw new Error('disk gone');
    };
    await expect(cache.lease('t:x', PIECE, 0, 16384, failing)).rejects.toThrow('disk gone');
    expect(slab.freeSlots).toBe(slab.slotCount);
  });

  describe('read-ahead', () => {
    test('a prefetched piece is read once, and the lease that later wants it is a hit', async () => {
      const slab = new BlockSlab(1, 2 * PIECE);
      const cache = new ReadCache(slab);
      const reads = { count: 0 };
      cache.prefetch('t:5', PIECE, reader(5, reads, slab));
      cache.prefetch('t:5', PIECE, reader(5, reads, slab));
      expect(cache.has('t:5')).toBe(true);
      expect(reads.count).toBe(1);
      const lease = await cache.lease('t:5', PIECE, 16384, 16384, reader(9, reads, slab));
      expect(reads.count).toBe(1);
      expect(cache.stats).toEqual({ hits: 1, misses: 0 });
      expect(lease.views[0][0]).toBe(5);
      lease.release();
    });

    test('it evicts a piece nobody holds, but never waits: with every piece held it reads nothing', async () => {
      const slab = new BlockSlab(1, PIECE);
      const cache = new ReadCache(slab);
      const reads = { count: 0 };
      (await cache.lease('t:a', PIECE, 0, 16384, reader(1, reads, slab))).release();
      cache.prefetch('t:b', PIECE, reader(2, reads, slab));
      expect(cache.has('t:a')).toBe(false);
      expect(cache.has('t:b')).toBe(true);
      const held = await cache.lease('t:b', PIECE, 0, 16384, reader(9, reads, slab));
      cache.prefetch('t:c', PIECE, reader(3, reads, slab));
      expect(cache.has('t:c')).toBe(false);
      expect(reads.count).toBe(2);
      held.release();
    });

    test('a failed read-ahead is forgotten and frees its slots; the next lease reads again', async () => {
      const slab = new BlockSlab(1, PIECE);
      const cache = new ReadCache(slab);
      let fail = true;
      const reads = { count: 0 };
      const flaky = async (piece: SlabPiece): Promise<void> => {
        reads.count++;
        if (fail) throw new Error('disk hiccup');
        for (const slot of piece.slots) slab.view(slot).fill(4);
      };
      cache.prefetch('t:4', PIECE, flaky);
      await new Promise((resolve) => setImmediate(resolve));
      expect(cache.has('t:4')).toBe(false);
      expect(slab.freeSlots).toBe(slab.slotCount);
      fail = false;
      const lease = await cache.lease('t:4', PIECE, 0, 16384, flaky);
      expect(lease.views[0][0]).toBe(4);
      expect(reads.count).toBe(2);
      lease.release();
    });
  });
});
