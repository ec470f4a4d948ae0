/**
 * What an Announcer reports: the announcing as a whole and each tracker, as /status shows them
 * under `tracker` and `trackers` (docs/architecture.md, Status document), and each failed round.
 */

export type TrackerState = 'idle' | 'announcing' | 'ok' | 'failing' | 'stopped';

/** The announcing as a whole, shown in /status as `tracker`: the tracker in use and how the last rounds went. */
export interface TrackerStatus {
  /** The tracker in use: the one that answered last, or the first to try while none has. */
  url: string;
  state: TrackerState;
  lastError?: string;
  /** Failed announce rounds in a row (every tracker failed); 0 once one succeeds. */
  failures: number;
  /** When the last successful announce was answered (ms since the epoch). */
  lastAnnounceAt?: number;
  nextAnnounceAt?: number;
  intervalS?: number;
  /** Peers in the last successful reply. */
  peersReceived: number;
}

/** How one tracker is doing, as /status lists it under `trackers` (docs/architecture.md, Status document). */
export type TrackerEntryStatus = 'working' | 'error' | 'updating' | 'idle' | 'self';

export interface TrackerEntry {
  url: string;
  /** Its tier in the torrent (0 for the first, or for `announce` alone). */
  tier: number;
  /** `self`: this peer is that tracker, and does not announce to itself. */
  status: TrackerEntryStatus;
  /** Why the last announce to it failed, while its status is `error`. */
  error?: string;
  /** The tracker's counts for the torrent, from its last announce reply or scrape. */
  seeders?: number;
  leechers?: number;
  completed?: number;
}

export interface AnnounceFailure {
  url: string;
  reason: string;
  /** Failed announce rounds in a row, this one included. */
  failures: number;
  /** When the next try comes. */
  retryInMs: number;
}
