/**
 * Shared block buffers: one SharedArrayBuffer cut into block-sized slots. A piece being
 * downloaded holds one slot per block; a block is copied once, from the socket's chunk into its
 * slot, and the worker that hashes and writes the piece reads that same memory. The slab never
 * grows: when it is full, callers wait (requesting pauses) instead of allocating.
 */
import { defaultSettings } from './settings.js';

export class BlockSlab {
  readonly buffer: SharedArrayBuffer;
  readonly slotCount: number;
  /** Free slot numbers, used as a stack. */
  private readonly free: Int32Array;
  private freeCount: number;

  constructor(
    /** The slab's number in the worker pool's list of slabs (see PieceWorkers). */
    readonly id: number,
    budgetBytes: number,
    readonly slotLength: number = defaultSettings.blockLength,
  ) {
    this.slotCount = Math.floor(budgetBytes / slotLength);
    if (this.slotCount < 1) throw new RangeError(`a block buffer budget of ${budgetBytes} bytes holds no ${slotLength}-byte block`);
    this.buffer = new SharedArrayBuffer(this.slotCount * slotLength);
    this.free = new Int32Array(this.slotCount);
    for (let i = 0; i < this.slotCount; i++) this.free[i] = this.slotCount - 1 - i;
    this.freeCount = this.slotCount;
  }

  get freeSlots(): number {
    return this.freeCount;
  }

  get usedBytes(): number {
    return (this.slotCount - this.freeCount) * this.slotLength;
  }

  /** Slots for `bytes` bytes, all or none: null when the slab cannot hold them now. */
  allocate(bytes: number): number[] | null {
    const n = Math.ceil(bytes / this.slotLength);
    if (n > this.freeCount) return null;
    const slots = new Array<number>(n);
    for (let i = 0; i < n; i++) slots[i] = this.free[--this.freeCount];
    return slots;
  }

  release(slots: readonly number[]): void {
    for (const slot of slots) this.free[this.freeCount++] = slot;
  }

  /** Slots holding `length` bytes, as a piece a worker can find. */
  piece(slots: number[], length: number): SlabPiece {
    return { slab: this.id, slots, length };
  }

  /** A Buffer over `length` bytes of slot `slot` (no copy). */
  view(slot: number, length: number = this.slotLength): Buffer {
    return Buffer.from(this.buffer, slot * this.slotLength, length);
  }
}

/** What a worker needs of a slab: it receives these once, when it starts. */
export interface SlabMemory {
  buffer: SharedArrayBuffer;
  slotLength: number;
}

/**
 * Where a piece's bytes lie: slots of a slab, named by number. Tasks carry only this, so
 * posting one to a worker never copies or re-shares memory.
 */
export interface SlabPiece {
  slab: number;
  slots: number[];
  /** Bytes of the piece; the last slot may be partly used. */
  length: number;
}

/** The piece's bytes, slot by slot, as views (for hashing and vectored writes). */
export function slabPieceViews(memory: SlabMemory, piece: SlabPiece): Buffer[] {
  const views: Buffer[] = [];
  let left = piece.length;
  for (const slot of piece.slots) {
    const n = Math.min(memory.slotLength, left);
    views.push(Buffer.from(memory.buffer, slot * memory.slotLength, n));
    left -= n;
  }
  return views;
}
