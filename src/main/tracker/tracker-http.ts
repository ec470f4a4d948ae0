/**
 * The HTTP face of our tracker on the peer port: GET /announce and GET /scrape (BEP 3, BEP 23
 * compact peers, BEP 48 scrape). A bad request is answered HTTP 200 with a bencoded
 * `failure reason`, because that is what BitTorrent clients show to their user; an HTTP error
 * status would only surface as a bare "tracker error".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isTrackerFailure,
  parseAnnounceRequest,
  parseQueryString,
  parseScrapeRequest,
  unwrapMappedIpv4,
  type AnnounceRequest,
} from './tracker-query.js';
import type { AnnounceReply, TrackerRegistry } from './tracker-registry.js';
import { encodeAnnounceReply, encodeFailure, encodeScrapeReply } from './tracker-responses.js';

const TRACKER_PATHS = new Set(['/announce', '/scrape']);

function send(res: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    // Peer lists change with every announce; no cache in between should keep one.
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

/**
 * Who watches the tracker's answers besides the peers (the benchmarks' tracker, bench/bench-tracker.ts):
 * told of each valid scrape, and of each valid announce with its reply, which it may change
 * before it is encoded.
 */
export interface TrackerAnswerHooks {
  scraped?(infoHashes: readonly Buffer[]): void;
  announced?(announce: AnnounceRequest, reply: AnnounceReply, selfIp: string): void;
}

/** The bencoded answer to GET `path` (/announce or /scrape) with `rawQuery`: a reply, or a failure reason. */
export function answerTrackerRequest(
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  registry: TrackerRegistry,
  now: () => number,
  hooks: TrackerAnswerHooks = {},
): Buffer {
  const query = parseQueryString(rawQuery);
  if (isTrackerFailure(query)) return encodeFailure(query.failure);

  if (path === '/scrape') {
    const hashes = parseScrapeRequest(query);
    if (isTrackerFailure(hashes)) return encodeFailure(hashes.failure);
    hooks.scraped?.(hashes);
    return encodeScrapeReply(registry.scrape(hashes, now()));
  }

  const { remoteAddress, localAddress } = req.socket;
  if (remoteAddress === undefined || localAddress === undefined) {
    return encodeFailure('connection closed before the announce could be read');
  }
  const announce = parseAnnounceRequest(query, remoteAddress);
  if (isTrackerFailure(announce)) return encodeFailure(announce.failure);
  const selfIp = unwrapMappedIpv4(localAddress);
  const reply = registry.announce(announce, selfIp, now());
  if (isTrackerFailure(reply)) return encodeFailure(reply.failure);
  hooks.announced?.(announce, reply, selfIp);
  return encodeAnnounceReply(reply, { compact: announce.compact, noPeerId: announce.noPeerId });
}

/**
 * Serves GET /announce and GET /scrape; returns false, having touched nothing, for any other
 * path so that the caller can route the request elsewhere.
 */
export function handleTrackerRequest(
  req: IncomingMessage,
  res: ServerResponse,
  registry: TrackerRegistry,
  now: () => number,
): boolean {
  const target = req.url ?? '';
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  if (!TRACKER_PATHS.has(path)) return false;

  // A body nobody reads would stall a kept-alive connection.
  req.resume();
  if (req.method !== 'GET') {
    send(res, 405, `${path} accepts GET only\n`, { allow: 'GET' });
    return true;
  }
  send(res, 200, answerTrackerRequest(req, path, mark < 0 ? '' : target.slice(mark + 1), registry, now));
  return true;
}
