/**
 * The trackers of a torrent as an Announcer keeps them: one record per URL, in the torrent's
 * order, with its tier, its protocol, how it is doing and the announce to it in flight; and the
 * record as /status lists it.
 */
import type { GateTicket } from './announce-gate.js';
import type { TrackerEntry, TrackerEntryStatus } from './announce-status.js';
import type { ScrapeAsk } from './scrape-batches.js';
import type { AnnounceResult, TrackerProtocol } from './tracker-protocol.js';

export type Outcome = { result: AnnounceResult; completion: boolean } | { error: string };

export interface Attempt {
  controller: AbortController;
  /** The time the request went out, once the session's announce gate let it (announce-gate.ts). */
  sent: Promise<number>;
  /** Whether it went out: until then the tracker cannot have recorded it. */
  out: boolean;
  /** Its place at the gate, from the moment it asks for one. */
  ticket?: GateTicket;
  done: Promise<Outcome>;
}

/** One tracker of the torrent and what we know of it. */
export interface TrackerRecord {
  url: string;
  tier: number;
  self: boolean;
  protocol: TrackerProtocol | { error: string };
  status: TrackerEntryStatus;
  error?: string;
  seeders?: number;
  leechers?: number;
  completed?: number;
  /** It has (or may have) recorded us, so it deserves an event=stopped. */
  registered: boolean;
  /** An announce in flight: the round's, or one that outlived its round's patience and goes on behind. */
  attempt?: Attempt;
  /** When it was last scraped (on the Announcer's clock), and the ask of the scrape waiting or in flight (scrape-batches.ts). */
  scrapedAt?: number;
  scraping?: ScrapeAsk;
}

/**
 * A record for each URL of `tiers` (one listed twice is kept in its first place), and the tiers
 * to announce to: their URLs that are not this peer, with the index of each tier in the torrent.
 */
export function trackerRecords(
  tiers: readonly (readonly string[])[],
  isSelf: (url: string) => boolean,
  protocolFor: (url: string) => TrackerProtocol | { error: string },
): { records: TrackerRecord[]; announced: string[][]; tierIndexes: number[] } {
  const records: TrackerRecord[] = [];
  const seen = new Set<string>();
  const announced: string[][] = [];
  const tierIndexes: number[] = [];
  tiers.forEach((urls, tier) => {
    const mine: string[] = [];
    for (const url of urls) {
      if (seen.has(url)) continue;
      const self = isSelf(url);
      const protocol = self ? { error: 'this peer' } : protocolFor(url);
      records.push({ url, tier, self, protocol, status: self ? 'self' : 'idle', registered: false });
      seen.add(url);
      if (!self) mine.push(url);
    }
    if (mine.length > 0) {
      announced.push(mine);
      tierIndexes.push(tier);
    }
  });
  return { records, announced, tierIndexes };
}

/** A tracker as /status lists it under `trackers`. */
export function trackerEntry(t: TrackerRecord): TrackerEntry {
  const entry: TrackerEntry = { url: t.url, tier: t.tier, status: t.status };
  if (t.status === 'error' && t.error !== undefined) entry.error = t.error;
  if (t.seeders !== undefined) entry.seeders = t.seeders;
  if (t.leechers !== undefined) entry.leechers = t.leechers;
  if (t.completed !== undefined) entry.completed = t.completed;
  return entry;
}
