import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { HIGH, NORMAL, PiecePicker, RANDOM_FIRST_PIECES, SKIP, URGENT } from '../../src/main/swarm/piece-picker.js';

const KiB = 1024;

/** A deterministic source of "random" numbers for tie-breaking. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

describe('PiecePicker', () => {
  const geometry = new PieceGeometry(64 * KiB, 64 * KiB * 9 + 10 * KiB, 16 * KiB); // 10 pieces, last one short
  const all = (): boolean => true;

  test('splits pieces into blocks, the last block of the last piece short', () => {
    const picker = new PiecePicker(geometry);
    const blocks = picker.pick((i) => i === 9, 10);
    expect(blocks).toEqual([{ index: 9, begin: 0, length: 10 * KiB }]);
  });

  /** A picker past its random first pieces (it has pieces 0 to 3). */
  function seasoned(random: () => number): PiecePicker {
    const picker = new PiecePicker(geometry, random);
    for (let i = 0; i < RANDOM_FIRST_PIECES; i++) picker.markHave(i);
    return picker;
  }

  test('preferred pieces (a peer\'s suggestions) are started before the rarest, skipping those had, started or missing at the peer', () => {
    const picker = seasoned(seeded(1));
    for (let i = 0; i < 10; i++) if (i !== 6) picker.peerHasPiece(i);
    picker.pick((i) => i === 8, 1);
    const blocks = picker.pick((i) => i !== 5, 12, () => true, [2, 8, 5, 7, 9]);
    // 8 is under way: its blocks left come first; 2 is had, 5 the peer lacks; then 7 and 9; then the rarest, 6.
    expect([...new Set(blocks.map((b) => b.index))]).toEqual([8, 7, 9, 6]);
  });

  test('a preferred piece refused memory stops the pick there', () => {
    const picker = seasoned(seeded(1));
    expect(picker.pick(all, 8, (i) => i !== 9, [7, 9, 8])).toEqual([0, 1, 2, 3].map((b) => ({ index: 7, begin: b * 16 * KiB, length: 16 * KiB })));
  });

  test('rarest piece first', () => {
    for (let seed = 1; seed < 50; seed++) {
      const picker = seasoned(seeded(seed));
      for (let i = 0; i < 10; i++) picker.peerHasPiece(i);
      for (let i = 0; i < 10; i++) if (i !== 6) picker.peerHasPiece(i);
      expect(picker.pick(all, 1)[0].index).toBe(6);
    }
  });

  test('ties are broken at random, over every tied piece', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed < 200; seed++) seen.add(seasoned(seeded(seed)).pick(all, 1)[0].index);
    expect([...seen].sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  describe('ties kept for the same peer', () => {
    const wide = new PieceGeometry(16 * KiB, 16 * KiB * 200, 16 * KiB); // 200 one-block pieces
    /** A picker past its random first pieces, every piece at the seeder `bits` (availability 1), and a counter of the peer's bitfield reads. */
    function afterStart(seed: number): { picker: PiecePicker; has: (i: number) => boolean; reads: () => number } {
      const picker = new PiecePicker(wide, seeded(seed));
      for (let i = 0; i < 200; i++) picker.peerHasPiece(i);
      for (let i = 0; i < RANDOM_FIRST_PIECES; i++) picker.markHave(i);
      let count = 0;
      return { picker, has: () => (count++, true), reads: () => count };
    }
    /** `n` pieces picked for `peer` in turn, each received and had before the next pick, as in a download. */
    const picked = (picker: PiecePicker, has: (i: number) => boolean, peer: object, n: number): number[] =>
      Array.from({ length: n }, () => {
        const { index } = picker.pick(has, 1, () => true, [], peer)[0];
        picker.blockReceived(index, 0);
        picker.markHave(index);
        return index;
      });

    test('are drawn from without reading every piece again, each started piece once', () => {
      const { picker, has, reads } = afterStart(7);
      const peer = {};
      const first = picked(picker, has, peer, 1);
      const afterScan = reads();
      const rest = picked(picker, has, peer, 195);
      expect(reads()).toBe(afterScan);
      const all = [...first, ...rest];
      expect(new Set(all).size).toBe(196);
      expect(all.every((i) => i >= RANDOM_FIRST_PIECES)).toBe(true);
    });

    test('are dropped when availability changes: a piece another peer now has is no longer among the rarest', () => {
      const { picker, has } = afterStart(11);
      const peer = {};
      picked(picker, has, peer, 1);
      for (let i = 100; i < 200; i++) picker.peerHasPiece(i);
      expect(picked(picker, has, peer, 50).every((i) => i < 100)).toBe(true);
    });

    test('are dropped when a piece fails: it is a candidate again at once', () => {
      const drawnAgain = new Set<boolean>();
      for (let seed = 1; seed <= 20; seed++) {
        const { picker, has } = afterStart(seed);
        for (let i = RANDOM_FIRST_PIECES; i < 200; i++) if (i !== 10 && i !== 20) picker.markHave(i);
        const peer = {};
        const failed = picker.pick(has, 1, () => true, [], peer)[0].index;
        picker.pieceFailed(failed);
        drawnAgain.add(picker.pick(has, 1, () => true, [], peer)[0].index === failed);
      }
      expect(drawnAgain).toEqual(new Set([true, false]));
    });

    test('are dropped when a priority changes, and for another peer', () => {
      const { picker, has } = afterStart(13);
      const peer = {};
      picked(picker, has, peer, 1);
      picker.setPriority(150, HIGH);
      expect(picked(picker, has, peer, 1)).toEqual([150]);

      const other = {};
      const onlyOdd = (i: number): boolean => i % 2 === 1;
      expect(picked(picker, onlyOdd, other, 20).every((i) => i % 2 === 1)).toBe(true);
    });
  });

  test('the first pieces are random, not rarest, so a new peer soon has something to trade', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed < 200; seed++) {
      const picker = new PiecePicker(geometry, seeded(seed));
      for (let i = 0; i < 10; i++) if (i !== 6) picker.peerHasPiece(i);
      seen.add(picker.pick(all, 1)[0].index);
    }
    expect(seen.size).toBe(10);
  });

  test('finishes a partial piece before starting another', () => {
    const picker = new PiecePicker(geometry, seeded(3));
    const first = picker.pick(all, 2);
    const index = first[0].index;
    // The two first blocks went to a peer that disappeared; the next request resumes that piece.
    picker.releaseBlock(index, first[0].begin);
    const next = picker.pick(all, 3);
    expect(next.map((b) => b.index)).toEqual([index, index, index]);
    expect(next.map((b) => b.begin)).toEqual([0, 32 * KiB, 48 * KiB]);
  });

  test('only pieces the peer has, never pieces we have', () => {
    const picker = new PiecePicker(geometry);
    picker.markHave(2);
    expect(picker.pick((i) => i === 2 || i === 4, 100).every((b) => b.index === 4)).toBe(true);
    expect(picker.wants((i) => i === 2)).toBe(false);
    expect(picker.wants((i) => i === 4)).toBe(true);
  });

  test('a piece completes when all its blocks arrived; a failed piece is picked again', () => {
    const picker = new PiecePicker(geometry);
    const blocks = picker.pick((i) => i === 0, 10);
    expect(blocks).toHaveLength(4);
    expect(blocks.slice(0, 3).map((b) => picker.blockReceived(b.index, b.begin))).toEqual([false, false, false]);
    expect(picker.isRequested(0, blocks[3].begin)).toBe(true);
    expect(picker.blockReceived(0, blocks[3].begin)).toBe(true);
    picker.pieceFailed(0);
    expect(picker.pick((i) => i === 0, 10)).toHaveLength(4);
    picker.markHave(0);
    expect(picker.pick((i) => i === 0, 10)).toHaveLength(0);
    expect(picker.bytesLeft()).toBe(geometry.totalLength - 64 * KiB);
  });

  test('bytesLeft counts the short last piece at its own size', () => {
    const short = new PieceGeometry(64 * KiB, 3 * 64 * KiB + 100, 16 * KiB);
    const picker = new PiecePicker(short);
    expect(picker.bytesLeft()).toBe(short.totalLength);
    picker.markHave(3);
    expect(picker.bytesLeft()).toBe(3 * 64 * KiB);
    picker.markHave(0);
    picker.markHave(0);
    expect(picker.bytesLeft()).toBe(2 * 64 * KiB);
    picker.markHave(1);
    picker.markHave(2);
    expect(picker.bytesLeft()).toBe(0);
  });
});

describe('PiecePicker back-pressure', () => {
  const geometry = new PieceGeometry(64 * 1024, 64 * 1024 * 8, 16 * 1024);

  test('no new piece is started when its memory cannot be reserved; partial pieces go on', () => {
    const picker = new PiecePicker(geometry);
    const first = picker.pick(() => true, 2, () => true);
    expect(first).toHaveLength(2);
    const reserved: number[] = [];
    const next = picker.pick(() => true, 10, (index) => {
      reserved.push(index);
      return false;
    });
    // Only the two remaining blocks of the piece already under way; one refused reservation.
    expect(next).toHaveLength(2);
    expect(next.every((b) => b.index === first[0].index)).toBe(true);
    expect(reserved).toHaveLength(1);
  });
});

describe('PiecePicker end game', () => {
  const geometry = new PieceGeometry(32 * 1024, 32 * 1024 * 3, 16 * 1024);

  test('starts only when every missing block is requested, and lasts while the requested blocks arrive', () => {
    const picker = new PiecePicker(geometry);
    picker.markHave(0);
    const first = picker.pick(() => true, 3);
    expect(picker.inEndgame()).toBe(false);
    const last = picker.pick(() => true, 10);
    expect(first.length + last.length).toBe(4);
    expect(picker.inEndgame()).toBe(true);

    picker.blockReceived(first[0].index, first[0].begin);
    expect(picker.inEndgame()).toBe(true);
    expect(picker.isReceived(first[0].index, first[0].begin)).toBe(true);
    expect(picker.isRequested(first[0].index, first[0].begin)).toBe(false);
    expect(picker.isRequested(last[0].index, last[0].begin)).toBe(true);
  });

  test('a released block ends the end game: it is simply missing again', () => {
    const picker = new PiecePicker(geometry);
    const blocks = picker.pick(() => true, 10);
    expect(picker.inEndgame()).toBe(true);
    picker.releaseBlock(blocks[2].index, blocks[2].begin);
    expect(picker.inEndgame()).toBe(false);
  });
});

describe('PiecePicker priorities (issue 18)', () => {
  const KiB16 = 16 * 1024;
  // 8 pieces of one block each.
  const geometry = new PieceGeometry(KiB16, 8 * KiB16, KiB16);
  const all = (): boolean => true;
  const picked = (picker: PiecePicker, count = 8, peerHas: (i: number) => boolean = all): number[] => picker.pick(peerHas, count).map((b) => b.index);

  test('skipped pieces are never picked nor wanted, and leave the bytes left and completeness', () => {
    const picker = new PiecePicker(geometry, seeded(3));
    for (const i of [0, 1, 5, 6, 7]) picker.setPriority(i, SKIP);
    expect(picker.bytesLeft()).toBe(3 * KiB16);
    expect(picked(picker).sort()).toEqual([2, 3, 4]);
    expect(picker.wants((i) => i === 6)).toBe(false);
    expect(picker.wants((i) => i === 3)).toBe(true);
    for (const i of [2, 3, 4]) {
      picker.blockReceived(i, 0);
      picker.markHave(i);
    }
    expect(picker.wantedComplete).toBe(true);
    expect(picker.complete).toBe(false);
    expect(picker.bytesLeft()).toBe(0);
    // Wanted again: left and completeness follow.
    picker.setPriority(6, NORMAL);
    expect([picker.wantedComplete, picker.bytesLeft()]).toEqual([false, KiB16]);
  });

  test('high pieces come before normal ones, rarest first among them', () => {
    for (let seed = 1; seed < 30; seed++) {
      const picker = new PiecePicker(geometry, seeded(seed));
      for (let i = 0; i < RANDOM_FIRST_PIECES; i++) picker.markHave(i);
      for (let i = 0; i < 8; i++) picker.peerHasPiece(i);
      picker.peerHasPiece(5);
      picker.setPriority(5, HIGH);
      picker.setPriority(6, HIGH);
      // 6 is rarer than 5; both come before 4 and 7.
      expect(picked(picker, 3)).toEqual([6, 5, expect.any(Number)]);
      const fresh = new PiecePicker(geometry, seeded(seed));
      fresh.setPriority(6, HIGH);
      fresh.setPriority(2, HIGH);
      expect(picked(fresh, 2).sort()).toEqual([2, 6]);
    }
  });

  test('urgent pieces come first, strictly in order, and fall back to the others when the peer lacks them', () => {
    const picker = new PiecePicker(geometry, seeded(5));
    picker.setPriority(6, URGENT);
    picker.setPriority(5, URGENT);
    picker.setPriority(1, HIGH);
    expect(picked(picker, 3)).toEqual([5, 6, 1]);
    const other = new PiecePicker(geometry, seeded(5));
    other.setPriority(6, URGENT);
    expect(picked(other, 1, (i) => i !== 6)).not.toEqual([6]);
  });

  test('sequential mode takes pieces in order, drawn among a small window, so peers still differ', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed < 60; seed++) {
      const picker = new PiecePicker(geometry, seeded(seed));
      picker.setSequential(3);
      const first = picked(picker, 1)[0];
      expect(first).toBeLessThan(3);
      seen.add(first);
      // The order holds as pieces are taken: the last piece is not among the next four.
      expect(picked(picker, 4)).not.toContain(7);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  test('the end game counts wanted pieces only', () => {
    const picker = new PiecePicker(geometry, seeded(1));
    for (let i = 2; i < 8; i++) picker.setPriority(i, SKIP);
    expect(picker.inEndgame()).toBe(false);
    picked(picker);
    expect(picker.inEndgame()).toBe(true);
  });
});
