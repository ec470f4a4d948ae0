/**
 * What the announce client asks of one tracker, whatever its protocol: an announce and, where the
 * tracker allows it, a scrape. HTTP (http-tracker-client.ts, BEP 3 and 48) and UDP
 * (udp-tracker-client.ts, BEP 15) implement it; the Announcer (announce-client.ts) runs the tiers
 * of BEP 12 over them without knowing which is which.
 */
import type { PeerAddress } from './tracker-responses.js';

export type { PeerAddress } from './tracker-responses.js';

export interface AnnounceStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export type AnnounceErrorKind = 'url' | 'network' | 'timeout' | 'aborted' | 'http' | 'too-large' | 'bencode' | 'failure';

export class AnnounceError extends Error {
  /**
   * `reason` says what went wrong in words a person can act on; for kind 'failure' it is the
   * tracker's own `failure reason` (or BEP 15 error message), verbatim.
   */
  constructor(
    readonly reason: string,
    readonly kind: AnnounceErrorKind,
  ) {
    super(reason);
    this.name = 'AnnounceError';
  }
}

export interface AnnounceParams {
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  stats: AnnounceStats;
  event?: 'started' | 'completed' | 'stopped';
  numwant?: number;
  compact?: boolean;
}

export interface AnnounceResult {
  intervalS: number;
  minIntervalS?: number;
  peers: PeerAddress[];
  /** Seeders, as the tracker counts them. */
  complete?: number;
  /** Leechers, as the tracker counts them. */
  incomplete?: number;
  /** The tracker's `warning message`: the announce worked, but it has something to say. */
  warning?: string;
}

/** A scrape's counts for one torrent (BEP 48 `complete`, `incomplete`, `downloaded`; BEP 15 the same three). */
export interface ScrapeCounts {
  seeders: number;
  leechers: number;
  completed: number;
}

export interface TrackerCallOptions {
  /** Cancels the call (the swarm stops). */
  signal?: AbortSignal;
  /**
   * A bound on the whole call, retransmissions included; without one the protocol's own rules
   * apply (an HTTP request's time-out, BEP 15's retransmissions up to the last).
   */
  deadlineMs?: number;
}

/** One tracker, by its URL, spoken to in its protocol. Every failure is an AnnounceError. */
export interface TrackerProtocol {
  readonly url: string;
  announce(params: AnnounceParams, options?: TrackerCallOptions): Promise<AnnounceResult>;
  /**
   * The counts of several torrents in one request (BEP 48: `info_hash` repeated; BEP 15: the hashes
   * in one packet), in the order asked: undefined for a torrent the reply does not list, since a
   * tracker may answer fewer than it was asked. Absent when the tracker cannot be scraped (an HTTP
   * URL whose path has no "announce" to replace, BEP 48).
   */
  scrape?: (infoHashes: readonly Buffer[], options?: TrackerCallOptions) => Promise<(ScrapeCounts | undefined)[]>;
  /** Most info hashes one scrape may name (BEP 15: 74 fit in a packet); absent when the protocol sets no bound. */
  readonly maxScrapeInfoHashes?: number;
}
