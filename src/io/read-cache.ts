/**
 * Pieces read for uploading, kept whole in a slab of their own: peers usually ask for every
 * block of a piece, and several peers often ask for the same piece, so one disk read (on the
 * worker pool) serves them all. A block is leased while its bytes wait in a socket and the piece
 * cannot be evicted meanwhile; when every slot is leased, new reads wait for a release.
 */
import type { BlockSlab, SlabPiece } from './block-slab.js';

interface CachedPiece {
  slots: number[];
  length: number;
  ready: Promise<void>;
  settled: boolean;
  leases: number;
}

export interface BlockLease {
  /** The block's bytes as views of the slab, in order (more than one when it spans slots). */
  views: Buffer[];
  release(): void;
}

/** Reads piece `index` of a torrent into the given slab slots. */
export type PieceReader = (piece: SlabPiece) => Promise<void>;

export class ReadCache {
  /** In least-recently-used order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, CachedPiece>();
  private readonly waiting: (() => void)[] = [];
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly slab: BlockSlab) {}

  /**
   * Leases bytes [begin, begin + length) of a piece, reading the piece first if it is not cached.
   * `key` names the piece (torrent and index); `pieceLength` is its size.
   */
  async lease(key: string, pieceLength: number, begin: number, length: number, read: PieceReader): Promise<BlockLease> {
    let entry = this.entries.get(key);
    if (entry) {
      this.stats.hits++;
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      this.stats.misses++;
      entry = await this.load(key, pieceLength, read);
    }
    entry.leases++;
    try {
      await entry.ready;
    } catch (error) {
      this.drop(key, entry);
      throw error;
    }
    let released = false;
    const held = entry;
    return {
      views: this.views(entry, begin, length),
      release: () => {
        if (released) return;
        released = true;
        held.leases--;
        if (held.leases === 0) this.wakeOne();
      },
    };
  }

  /** Whether the piece is cached or being read. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Starts reading a piece that a peer has asked for further down its queue, so that it is read
   * in the same worker task as the piece wanted now. It never waits for memory: it takes free
   * slots, or evicts a piece nobody holds, or gives up. A failed read-ahead is forgotten; the
   * lease that later wants the piece reads it again.
   */
  prefetch(key: string, pieceLength: number, read: PieceReader): void {
    if (this.entries.has(key)) return;
    let slots = this.slab.allocate(pieceLength);
    while (!slots && this.evictOne()) slots = this.slab.allocate(pieceLength);
    if (!slots) return;
    const entry = this.start(key, slots, pieceLength, read);
    entry.ready.catch(() => this.drop(key, entry));
  }

  private async load(key: string, pieceLength: number, read: PieceReader): Promise<CachedPiece> {
    let slots = this.slab.allocate(pieceLength);
    while (!slots) {
      if (!this.evictOne()) await new Promise<void>((resolve) => this.waiting.push(resolve));
      // Another lease may have loaded the same piece while this one waited.
      const loaded = this.entries.get(key);
      if (loaded) return loaded;
      slots = this.slab.allocate(pieceLength);
    }
    return this.start(key, slots, pieceLength, read);
  }

  private start(key: string, slots: number[], pieceLength: number, read: PieceReader): CachedPiece {
    const entry: CachedPiece = { slots, length: pieceLength, ready: Promise.resolve(), settled: false, leases: 0 };
    entry.ready = read(this.slab.piece(slots, pieceLength)).finally(() => {
      entry.settled = true;
    });
    this.entries.set(key, entry);
    return entry;
  }

  private views(entry: CachedPiece, begin: number, length: number): Buffer[] {
    const views: Buffer[] = [];
    const slotLength = this.slab.slotLength;
    let at = begin;
    const end = begin + length;
    while (at < end) {
      const slot = Math.floor(at / slotLength);
      const inSlot = at - slot * slotLength;
      const n = Math.min(end - at, slotLength - inSlot);
      views.push(Buffer.from(this.slab.buffer, entry.slots[slot] * slotLength + inSlot, n));
      at += n;
    }
    return views;
  }

  /** Frees the least recently used piece nobody holds; false when every piece is held. */
  private evictOne(): boolean {
    for (const [key, entry] of this.entries) {
      if (entry.leases === 0 && entry.settled) {
        this.drop(key, entry);
        return true;
      }
    }
    return false;
  }

  private drop(key: string, entry: CachedPiece): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.slab.release(entry.slots);
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiting.shift()?.();
  }
}
