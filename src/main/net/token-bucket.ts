/**
 * A token bucket for --upload-limit and --download-limit: `rate` bytes per second, bursts of
 * up to `burst` bytes. Pure: the time is passed in. Taking more than the bucket holds is allowed
 * and puts it in debt; the answer is how long the caller must wait before moving more bytes.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    /** Bytes per second; 0 means unlimited. */
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  get unlimited(): boolean {
    return this.rate === 0;
  }

  private refill(now: number): void {
    const elapsedMs = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.rate) / 1000);
    this.updatedAt = now;
  }

  /** Milliseconds until the bucket is out of debt (0 when bytes may move now). */
  delay(now: number): number {
    if (this.unlimited) return 0;
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }

  /** Spends `bytes`; returns the milliseconds to wait before moving more. */
  take(bytes: number, now: number): number {
    if (this.unlimited) return 0;
    this.refill(now);
    this.tokens -= bytes;
    return this.delay(now);
  }
}

/** A bucket whose burst is a quarter second of its rate, but never below one 16 KiB block. */
export function rateLimiter(bytesPerSecond: number, now: number): TokenBucket {
  return new TokenBucket(bytesPerSecond, Math.max(16 * 1024, Math.floor(bytesPerSecond / 4)), now);
}
