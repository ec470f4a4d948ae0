/**
 * Our requests to one peer and how many it may have at a time: what the request pipeline
 * (request-pipeline.ts) keeps for each connection.
 */
import type { Settings } from '../../io/settings.js';
import type { BlockRef } from './piece-picker.js';

export interface OutstandingRequest extends BlockRef {
  sentAt: number;
}

/** How many abandoned requests are remembered per peer. */
const ABANDONED_MEMORY = 1024;
/** Slow start goes on while each time-out check finds the rate at least this much higher. */
const SLOW_START_GAIN = 1.1;

export function blockKey(index: number, begin: number): string {
  return `${index}:${begin}`;
}

export class PeerRequests {
  /** Sent and not yet answered, by blockKey. */
  readonly outstanding = new Map<string, OutstandingRequest>();
  /** Given up on (time-out, choke, cancel), by blockKey. */
  private readonly abandoned = new Set<string>();
  /** Requests it may have outstanding while slow start lasts. */
  private queueDepth: number;
  private slowStart = true;
  /** Download rate seen at the last time-out check, to tell when slow start stops paying. */
  private lastRate = 0;
  /** Set when a request timed out; cleared by the next block. A snubbed peer gets one request at a time. */
  snubbed = false;

  constructor(private readonly settings: Settings) {
    this.queueDepth = settings.initialRequestQueueDepth;
  }

  /** Requests the peer should have outstanding now (settings.requestQueueSeconds of its rate), within the limits. */
  depth(rate: number, blockLength: number, reqq: number | undefined): number {
    if (this.snubbed) return 1;
    const byRate = Math.ceil((rate * this.settings.requestQueueSeconds) / blockLength);
    const target = Math.max(this.settings.minRequestQueueDepth, byRate, this.slowStart ? this.queueDepth : 0);
    return Math.min(target, this.settings.maxRequestQueueDepth, reqq ?? this.settings.defaultPeerReqq);
  }

  /** A block answered the request at `key`: the snub is lifted, and slow start deepens the queue by one. */
  answered(key: string): void {
    this.outstanding.delete(key);
    this.snubbed = false;
    if (this.slowStart) this.queueDepth = Math.min(this.settings.maxRequestQueueDepth, this.queueDepth + 1);
  }

  /** Slow start ends once a bigger queue stops bringing a faster rate. */
  observeRate(rate: number): void {
    if (this.slowStart && this.lastRate > 0 && rate < this.lastRate * SLOW_START_GAIN) this.slowStart = false;
    this.lastRate = rate;
  }

  /**
   * Remembers a request we gave up on, so that its late answer is dropped instead of being
   * taken for an unrequested block. Bounded: the oldest are forgotten.
   */
  abandon(key: string): void {
    this.abandoned.add(key);
    if (this.abandoned.size > ABANDONED_MEMORY) this.abandoned.delete(this.abandoned.values().next().value!);
  }

  /** Whether a block at `key` is the late answer to an abandoned request; only one answer is excused. */
  excuseLate(key: string): boolean {
    return this.abandoned.delete(key);
  }
}
