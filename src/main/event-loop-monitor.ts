/**
 * The main thread's event-loop delay as a 99th percentile over a sliding window. Node's own
 * monitorEventLoopDelay histogram cannot be merged or windowed, so a timer samples the delay
 * itself (how late it fires) into one histogram per slice of the window.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { defaultSettings } from '../io/settings.js';

const SLICES = 6;
const SAMPLE_MS = 10;

export class EventLoopMonitor {
  private readonly slices: RecordableHistogram[] = [createHistogram()];
  private readonly sampler: NodeJS.Timeout;
  private readonly rotator: NodeJS.Timeout;
  private expectedAt: bigint;

  constructor(windowMs: number = defaultSettings.eventLoopWindowMs) {
    this.expectedAt = process.hrtime.bigint() + BigInt(SAMPLE_MS * 1e6);
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.sampler.unref();
    this.rotator = setInterval(() => this.rotate(), windowMs / SLICES);
    this.rotator.unref();
  }

  private sample(): void {
    const now = process.hrtime.bigint();
    const lateNs = now - this.expectedAt;
    this.slices[this.slices.length - 1].record(lateNs > 0n ? lateNs : 1n);
    this.expectedAt = now + BigInt(SAMPLE_MS * 1e6);
  }

  private rotate(): void {
    this.slices.push(createHistogram());
    if (this.slices.length > SLICES) this.slices.shift();
  }

  /** p99 of the delay over the window, in milliseconds. */
  p99Ms(): number {
    const merged = createHistogram();
    for (const slice of this.slices) merged.add(slice);
    if (merged.count === 0) return 0;
    return Math.round((merged.percentile(99) / 1e6) * 100) / 100;
  }

  stop(): void {
    clearInterval(this.sampler);
    clearInterval(this.rotator);
  }
}
