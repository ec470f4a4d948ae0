/**
 * Fair shares of the block slab: a swarm that filled the slab alone gives way to a second one as
 * its pieces complete, each keeps at least one piece, and a refused swarm is woken when memory
 * comes back instead of polling.
 */
import { BlockSlab } from '../../src/io/block-slab.js';
import { SlabShares, type SlabOwner } from '../../src/main/swarm/slab-shares.js';

const BLOCK = 16 * 1024;
const PIECE = 4 * BLOCK;

function setup(pieces: number): { shares: SlabShares; runScheduled: () => void } {
  const queued: (() => void)[] = [];
  const shares = new SlabShares(new BlockSlab(0, pieces * PIECE, BLOCK), (run) => queued.push(run));
  return { shares, runScheduled: () => queued.splice(0).forEach((run) => run()) };
}

function owner(): SlabOwner & { wakes: number } {
  const o = { wakes: 0, wake: () => o.wakes++ };
  return o;
}

/** Allocates pieces for `who` until refused; returns the slots of each. */
function fill(shares: SlabShares, who: SlabOwner, now: number): number[][] {
  const got: number[][] = [];
  for (let slots = shares.allocate(who, PIECE, now); slots; slots = shares.allocate(who, PIECE, now)) got.push(slots);
  return got;
}

test('a swarm alone may fill the whole slab', () => {
  const { shares } = setup(8);
  const a = owner();
  expect(fill(shares, a, 0)).toHaveLength(8);
  expect(shares.holding(a)).toBe(8 * 4);
});

test('a second swarm takes half as the first one completes pieces, and the first is held to its share', () => {
  const { shares, runScheduled } = setup(8);
  const a = owner();
  const b = owner();
  const aPieces = fill(shares, a, 0);
  // The slab is full: b is refused now, and is woken when a piece of a completes.
  expect(shares.allocate(b, PIECE, 10)).toBeNull();
  shares.release(a, aPieces.pop()!);
  runScheduled();
  expect(b.wakes).toBe(1);
  expect(shares.allocate(b, PIECE, 20)).not.toBeNull();
  for (let i = 0; i < 3; i++) {
    shares.release(a, aPieces.pop()!);
    runScheduled();
    // a completes a piece and asks again at once: above its half share now, refused.
    expect(shares.allocate(a, PIECE, 20)).toBeNull();
    expect(shares.allocate(b, PIECE, 20)).not.toBeNull();
  }
  expect(shares.holding(a)).toBe(4 * 4);
  expect(shares.holding(b)).toBe(4 * 4);
  expect(shares.allocate(b, PIECE, 30)).toBeNull();
});

test('with more swarms than pieces fit, each may still hold one piece', () => {
  const { shares } = setup(2);
  const [a, b, c] = [owner(), owner(), owner()];
  expect(shares.allocate(a, PIECE, 0)).not.toBeNull();
  expect(shares.allocate(b, PIECE, 0)).not.toBeNull();
  expect(shares.allocate(c, PIECE, 0)).toBeNull();
  // a's second piece would exceed a share of less than one piece.
  expect(shares.allocate(a, PIECE, 0)).toBeNull();
});

test('a swarm that stopped asking no longer counts: the other may use the whole slab again', () => {
  const { shares, runScheduled } = setup(4);
  const a = owner();
  const b = owner();
  const bPiece = shares.allocate(b, PIECE, 0)!;
  const aPieces = fill(shares, a, 0);
  expect(aPieces).toHaveLength(2);
  shares.release(b, bPiece);
  runScheduled();
  // b has nothing and has not asked for 10 s: a's share is the whole slab.
  expect(fill(shares, a, 10_000)).toHaveLength(2);
  expect(shares.holding(a)).toBe(4 * 4);
});

test('wakes are batched: many releases while refused give one wake per refused swarm', () => {
  const { shares, runScheduled } = setup(4);
  const a = owner();
  const b = owner();
  const aPieces = fill(shares, a, 0);
  expect(shares.allocate(b, PIECE, 0)).toBeNull();
  shares.release(a, aPieces.pop()!);
  shares.release(a, aPieces.pop()!);
  runScheduled();
  expect(b.wakes).toBe(1);
  expect(a.wakes).toBe(1);
  // Not refused again: a later release wakes nobody.
  shares.release(a, aPieces.pop()!);
  runScheduled();
  expect(b.wakes).toBe(1);
});
