/**
 * A clock that moves only when a test says so (src/main/clock.ts): time-outs, rates and periodic
 * ticks then happen at the same moments every run.
 */
import type { Clock } from '../../src/main/clock.js';

interface Ticker {
  periodMs: number;
  dueAt: number;
  tick: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  /** In the order they were started: tickers due at the same moment run in that order. */
  private readonly tickers = new Set<Ticker>();

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  every(periodMs: number, tick: () => void): () => void {
    if (!(periodMs > 0)) throw new RangeError(`a ticker's period must be positive, got ${periodMs}`);
    const ticker: Ticker = { periodMs, dueAt: this.time + periodMs, tick };
    this.tickers.add(ticker);
    return () => void this.tickers.delete(ticker);
  }

  /** Moves time on by `ms`, running each tick that falls due on the way at its own moment, earliest first. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`time only moves forward, not by ${ms} ms`);
    const end = this.time + ms;
    for (let next = this.nextDue(end); next; next = this.nextDue(end)) {
      this.time = next.dueAt;
      next.dueAt += next.periodMs;
      next.tick();
    }
    this.time = end;
  }

  /** The ticker due soonest, no later than `end`. */
  private nextDue(end: number): Ticker | undefined {
    let soonest: Ticker | undefined;
    for (const ticker of this.tickers) if (ticker.dueAt <= end && (!soonest || ticker.dueAt < soonest.dueAt)) soonest = ticker;
    return soonest;
  }
}
