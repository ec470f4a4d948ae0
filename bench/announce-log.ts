/**
 * The announces a tracker received, each with when it arrived, and how they were spread in time:
 * whether a peer of many swarms announced them all at once or over a while; and how many scrape
 * requests it got, for how many torrents.
 */
import type { AnnounceEvent } from '../src/main/tracker/tracker-query.js';

/** Width of the window in which the busiest stretch of announces is counted. */
export const SPREAD_WINDOW_MS = 1000;

export interface Arrival {
  /** performance.now() when the request arrived. */
  at: number;
  infoHashHex: string;
  event: AnnounceEvent;
}

/** How one kind of announce (a round) was spread in time. */
export interface AnnounceSpread {
  /** Announces of the round. */
  count: number;
  /** The first and the last, in ms after `origin`; null when there was none. */
  firstMs: number | null;
  lastMs: number | null;
  /** The most announces that arrived within any SPREAD_WINDOW_MS. */
  peakInWindow: number;
}

/** The most of `sorted` (times in ms, ascending) that lie within any window of `windowMs`. */
export function busiestWindow(sorted: readonly number[], windowMs: number): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/** The value below which a fraction `p` of `sorted` (ascending, not empty) lies. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The spread of the arrivals at `times`, in ms after `origin`. */
export function spreadOf(times: readonly number[], origin: number): AnnounceSpread {
  if (times.length === 0) return { count: 0, firstMs: null, lastMs: null, peakInWindow: 0 };
  const sorted = [...times].sort((a, b) => a - b);
  return {
    count: sorted.length,
    firstMs: sorted[0] - origin,
    lastMs: sorted[sorted.length - 1] - origin,
    peakInWindow: busiestWindow(sorted, SPREAD_WINDOW_MS),
  };
}

export class AnnounceLog {
  /** Per event, each swarm's first announce of it: info hash to arrival time. */
  private readonly first = new Map<AnnounceEvent, Map<string, number>>();
  /** Every announce, repeats included. */
  count = 0;
  /** Scrape requests, and the torrents they named (several in one request where the peer batches them). */
  scrapes = 0;
  scrapedTorrents = 0;

  record(arrival: Arrival): void {
    this.count++;
    let byHash = this.first.get(arrival.event);
    if (!byHash) this.first.set(arrival.event, (byHash = new Map()));
    if (!byHash.has(arrival.infoHashHex)) byHash.set(arrival.infoHashHex, arrival.at);
  }

  recordScrape(torrents: number): void {
    this.scrapes++;
    this.scrapedTorrents += torrents;
  }

  /** The swarms that announced `event` at least once. */
  swarmsThatSent(event: AnnounceEvent): number {
    return this.first.get(event)?.size ?? 0;
  }

  /** For each swarm that sent both, how long after its first `from` announce its first `to` one arrived. */
  delays(from: AnnounceEvent, to: AnnounceEvent): number[] {
    const later = this.first.get(to);
    const delays: number[] = [];
    for (const [hex, at] of this.first.get(from) ?? []) {
      const then = later?.get(hex);
      if (then !== undefined) delays.push(then - at);
    }
    return delays;
  }

  /** Arrival times of each swarm's first `event` announce. */
  firstOfEach(event: AnnounceEvent): number[] {
    return [...(this.first.get(event)?.values() ?? [])];
  }
}
