/**
 * The status document (`GET /status`, docs/architecture.md, Status document): what a peer shows
 * of itself and of each swarm. Fields may be added, never renamed.
 *
 * A peer may run 10,000 swarms, so the document is built and sent a swarm at a time: each swarm's
 * status is made, turned into JSON text and dropped before the next one. Built whole, 10,000
 * statuses of about fifteen small objects each outlive the young generation's collections, and
 * every poll of /status grows the old generation by tens of megabytes until a full collection.
 */
import type { SwarmStatus } from './swarm/swarm-status.js';
import type { SkippedTorrent } from './torrent-folder.js';

export interface StatusDocument {
  peerId: string;
  /** The address other peers reach this one at (--host, else the interface towards the announce host). */
  host: string;
  port: number;
  workers: number;
  eventLoopDelayP99Ms: number;
  /**
   * Open connections: `peers` the peer-wire ones (at most settings.maxConnections), `pending`
   * incoming ones not yet identified, `http` tracker and status requests.
   */
  connections: { peers: number; pending: number; http: number };
  /** Counts over every swarm, whichever of them `swarms` lists (StatusQuery). */
  summary: StatusSummary;
  /** The swarms, all of them unless the request asked for a page (StatusQuery). */
  swarms: SwarmStatus[];
  /** The .torrent files in torrents/ that were not joined, each with why (torrent-folder.ts). */
  skipped: SkippedTorrent[];
  /** The DHT (BEP 5): whether it runs (--no-dht), and the nodes in its routing table. */
  dht: { enabled: boolean; nodes: number };
}

/**
 * What `GET /status?limit=0` answers cheaply with 10,000 swarms: how many there are and how far
 * they are, without any swarm's details.
 */
export interface StatusSummary {
  /** Every swarm plain /status lists: torrents joined, paused ones and magnet links still fetching their metadata. */
  swarms: number;
  seeders: number;
  /** Leechers, magnet links still fetching their metadata included. */
  leechers: number;
  /** Magnet links whose info dictionary is still being fetched. */
  fetchingMetadata: number;
  paused: number;
}

/**
 * Which swarms a request of /status lists: `?offset=N&limit=M` lists M swarms from the N-th on, in
 * the order plain /status lists them (the order they joined); `?limit=0` lists none, for the
 * summary alone. Without either, every swarm.
 */
export interface StatusQuery {
  offset: number;
  /** Null: every swarm from `offset` on. */
  limit: number | null;
}

export const everySwarm: StatusQuery = { offset: 0, limit: null };

/** The query of a /status request (its search part), or why it is refused. */
export function parseStatusQuery(params: URLSearchParams): StatusQuery | { error: string } {
  const query: StatusQuery = { ...everySwarm };
  // Other parameters are ignored, as they always were (a cache-buster, say).
  for (const key of ['offset', 'limit'] as const) {
    const value = params.get(key);
    if (value === null) continue;
    if (!/^\d{1,9}$/.test(value)) return { error: `${key} of /status must be a whole number from 0 to 999999999 (e.g. /status?offset=100&limit=50, or ?limit=0 for the summary alone), not "${value}"` };
    query[key] = Number(value);
  }
  return query;
}

/** The statuses of the swarms a query lists, out of all of them, in order, each made as it is read. */
export function* listedStatuses<Swarm>(all: readonly Swarm[], query: StatusQuery, statusOf: (swarm: Swarm) => SwarmStatus): Generator<SwarmStatus> {
  const end = query.limit === null ? all.length : Math.min(all.length, query.offset + query.limit);
  for (let i = query.offset; i < end; i++) yield statusOf(all[i]);
}

/** The document without its swarms, and the swarms' statuses, each made only when its turn comes. */
export interface StatusParts {
  head: Omit<StatusDocument, 'swarms'>;
  swarms: Iterable<SwarmStatus>;
}

/** The document as one object (the live display, tests). */
export function wholeStatus({ head, swarms }: StatusParts): StatusDocument {
  return { ...head, swarms: [...swarms] };
}

/**
 * The document as JSON text, in pieces of about `chunkChars` characters, each swarm serialized as
 * soon as it is made. `swarms` comes last in the text, after the fields that tell the whole peer.
 */
export function* statusJson({ head, swarms }: StatusParts, chunkChars = 64 * 1024): Generator<string> {
  const headText = JSON.stringify(head);
  let chunk = `${headText.slice(0, -1)},"swarms":[`;
  let separator = '';
  for (const swarm of swarms) {
    chunk += separator + JSON.stringify(swarm);
    separator = ',';
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]}`;
}
