import { BlockSlab, slabPieceViews } from '../../src/io/block-slab.js';

describe('BlockSlab', () => {
  test('allocates all or nothing within its fixed budget, and reuses released slots', () => {
    const slab = new BlockSlab(0, 4 * 16384);
    expect(slab.slotCount).toBe(4);
    const a = slab.allocate(3 * 16384)!;
    expect(a).toHaveLength(3);
    expect(slab.allocate(2 * 16384)).toBeNull();
    expect(slab.freeSlots).toBe(1);
    slab.release(a);
    expect(slab.allocate(4 * 16384)).toHaveLength(4);
    expect(slab.usedBytes).toBe(4 * 16384);
  });

  test('views are windows on the one shared memory, as a worker sees it', () => {
    const slab = new BlockSlab(3, 4 * 16384);
    const slots = slab.allocate(16384 + 100)!;
    slab.view(slots[0]).fill(1);
    slab.view(slots[1], 100).fill(2);
    const piece = slab.piece(slots, 16384 + 100);
    expect(piece.slab).toBe(3);
    const views = slabPieceViews({ buffer: slab.buffer, slotLength: slab.slotLength }, piece);
    expect(views.map((v) => v.length)).toEqual([16384, 100]);
    expect(views[0].buffer).toBe(slab.buffer);
    expect(views[0].every((b) => b === 1) && views[1].every((b) => b === 2)).toBe(true);
  });

  test('a budget smaller than one block is refused', () => {
    expect(() => new BlockSlab(0, 1000)).toThrow(RangeError);
  });
});
