/**
 * Bytes per second over a sliding window, for the choker and the status document. Pure: the
 * time is passed in. Bytes fall into per-bucket counters in a ring, so `add` costs one addition
 * (it is called for every block) and `rate` sums a handful of buckets.
 */

import { defaultSettings } from '../../io/settings.js';

export class RateMeter {
  /**
   * Bytes per bucket; bucket k (time / bucketMs) lives at k % length. Made at the first add: a
   * peer holds two meters per swarm and most swarms of a large seeder never move a byte.
   */
  private buckets: Float64Array | null = null;
  private readonly length: number;
  /** Index of the newest bucket; the ring holds buckets head - length + 1 .. head. */
  private head = 0;
  /** When the first byte was added (meaningful once `buckets` is made). */
  private startedAt = 0;
  private totalBytes = 0;

  constructor(
    windowMs: number = defaultSettings.rateWindowMs,
    private readonly bucketMs: number = defaultSettings.rateBucketMs,
  ) {
    // One more bucket than the window needs: the newest one is still filling, so the rate always
    // spans at least a full window of finished buckets plus the current partial one.
    this.length = Math.ceil(windowMs / bucketMs) + 1;
  }

  /** Every byte ever added. */
  get total(): number {
    return this.totalBytes;
  }

  add(bytes: number, now: number): void {
    if (this.buckets === null) {
      this.buckets = new Float64Array(this.length);
      this.startedAt = now;
      this.head = Math.floor(now / this.bucketMs);
    } else {
      this.advance(this.buckets, now);
    }
    this.buckets[this.head % this.length] += bytes;
    this.totalBytes += bytes;
  }

  /** Bytes per second over the last `windowMs` (up to one bucket more). */
  rate(now: number): number {
    if (this.buckets === null) return 0;
    this.advance(this.buckets, now);
    let bytes = 0;
    for (const b of this.buckets) bytes += b;
    const windowStart = (this.head - this.length + 1) * this.bucketMs;
    // A young meter divides by its age, not the whole window, so a steady stream reads right at
    // once; but never by less than a bucket, so one block just after the start is no huge rate.
    const span = Math.max(this.bucketMs, now - Math.max(windowStart, this.startedAt));
    return (bytes * 1000) / span;
  }

  /** Moves the ring forward to the bucket of `now`, emptying the buckets that slid out. */
  private advance(buckets: Float64Array, now: number): void {
    const k = Math.floor(now / this.bucketMs);
    // A clock that steps back (wall time) keeps counting into the newest bucket.
    if (k <= this.head) return;
    const steps = Math.min(k - this.head, this.length);
    for (let i = 1; i <= steps; i++) buckets[(this.head + i) % this.length] = 0;
    this.head = k;
  }
}
