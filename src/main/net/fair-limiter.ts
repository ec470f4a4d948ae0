/**
 * --upload-limit and --download-limit shared fairly among swarms. One token bucket holds the
 * session's rate; when it runs dry, whoever wants to move bytes waits in line, and the line is
 * served round-robin by owner (a swarm), first come first served within an owner. Without it the
 * bucket went to whichever connection's timer fired first, so a swarm with ten peers got ten
 * times the rate of a swarm with one.
 */
import type { TokenBucket } from './token-bucket.js';

export interface LimiterTimers {
  now(): number;
  after(ms: number, run: () => void): { cancel(): void };
}

const realTimers: LimiterTimers = {
  now: () => Date.now(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

export class FairLimiter {
  /** Waiting turns by owner; a Map keeps the owners' round-robin order. */
  private readonly waiting = new Map<object, (() => void)[]>();
  private timer: { cancel(): void } | null = null;

  constructor(
    private readonly bucket: TokenBucket,
    private readonly timers: LimiterTimers = realTimers,
  ) {}

  get unlimited(): boolean {
    return this.bucket.unlimited;
  }

  /** Whether bytes may move now without jumping the line: the bucket has tokens and nobody waits. */
  open(): boolean {
    return this.bucket.unlimited || (this.waiting.size === 0 && this.bucket.delay(this.timers.now()) === 0);
  }

  /** Spends tokens for bytes that moved (or are about to). */
  take(bytes: number): void {
    if (!this.bucket.unlimited) this.bucket.take(bytes, this.timers.now());
  }

  /**
   * Queues a turn for `owner`: `turn` runs when the bucket has tokens and it is this owner's
   * turn, and is expected to move bytes and `take` them (one unit: a block, a read). A turn that
   * finds nothing to do any more (its peer left) simply returns; the next one runs.
   */
  wait(owner: object, turn: () => void): void {
    const queue = this.waiting.get(owner);
    if (queue) queue.push(turn);
    else this.waiting.set(owner, [turn]);
    this.arm();
  }

  /** Drops the turns of an owner that left. */
  forget(owner: object): void {
    this.waiting.delete(owner);
  }

  private arm(): void {
    if (this.timer || this.waiting.size === 0) return;
    const delay = this.bucket.delay(this.timers.now());
    this.timer = this.timers.after(delay, () => {
      this.timer = null;
      this.serve();
    });
  }

  private serve(): void {
    while (this.waiting.size > 0 && this.bucket.delay(this.timers.now()) === 0) {
      const [owner, queue] = this.waiting.entries().next().value as [object, (() => void)[]];
      const turn = queue.shift()!;
      // To the back of the line, so that the next turn is another owner's.
      this.waiting.delete(owner);
      if (queue.length > 0) this.waiting.set(owner, queue);
      turn();
    }
    this.arm();
  }
}
