/**
 * Fair shares of the block slab among swarms (issue: "global limits shared fairly"). The slab
 * is one fixed budget for every download; first come, first served would let one busy swarm
 * fill it and leave the others waiting for as long as it keeps requesting. Here a swarm may hold
 * at most its share, the slab divided by the swarms that want memory now (those holding slots or
 * refused lately), and never less than one piece, so each of them keeps moving. A swarm alone
 * gets the whole slab. A swarm refused is woken when memory comes back, so it need not poll.
 */
import type { BlockSlab } from '../../io/block-slab.js';

export interface SlabOwner {
  /** Called (soon, not from inside release) when memory was released after this owner was refused. */
  wake(): void;
}

/** How long a refused swarm counts as wanting memory after its last try. */
const DEMAND_WINDOW_MS = 2_000;

export class SlabShares {
  private readonly held = new Map<SlabOwner, number>();
  private readonly lastAsked = new Map<SlabOwner, number>();
  private readonly refused = new Set<SlabOwner>();
  private wakeScheduled = false;

  constructor(
    readonly slab: BlockSlab,
    private readonly schedule: (run: () => void) => void = setImmediate,
  ) {}

  /** Slots for `bytes` bytes for `owner`, or null when that exceeds its share or the slab is full. */
  allocate(owner: SlabOwner, bytes: number, now: number): number[] | null {
    this.lastAsked.set(owner, now);
    const wanted = Math.ceil(bytes / this.slab.slotLength);
    const holding = this.held.get(owner) ?? 0;
    if (holding > 0 && holding + wanted > this.shareOf(now)) return this.refuse(owner);
    const slots = this.slab.allocate(bytes);
    if (!slots) return this.refuse(owner);
    this.held.set(owner, holding + slots.length);
    return slots;
  }

  release(owner: SlabOwner, slots: readonly number[]): void {
    this.slab.release(slots);
    const left = (this.held.get(owner) ?? 0) - slots.length;
    if (left > 0) this.held.set(owner, left);
    else this.held.delete(owner);
    if (this.refused.size > 0 && !this.wakeScheduled) {
      this.wakeScheduled = true;
      this.schedule(() => this.wakeRefused());
    }
  }

  /** Forgets an owner that left (its slots must have been released). */
  forget(owner: SlabOwner): void {
    this.lastAsked.delete(owner);
    this.refused.delete(owner);
  }

  /** Slots held by `owner`. */
  holding(owner: SlabOwner): number {
    return this.held.get(owner) ?? 0;
  }

  /** Slots each swarm that wants memory may hold now. */
  shareOf(now: number): number {
    let wanting = 0;
    for (const [owner, at] of this.lastAsked) {
      if (this.held.has(owner) || now - at <= DEMAND_WINDOW_MS) wanting++;
      else this.lastAsked.delete(owner);
    }
    return Math.floor(this.slab.slotCount / Math.max(1, wanting));
  }

  private refuse(owner: SlabOwner): null {
    this.refused.add(owner);
    return null;
  }

  private wakeRefused(): void {
    this.wakeScheduled = false;
    const owners = [...this.refused];
    this.refused.clear();
    for (const owner of owners) owner.wake();
  }
}
