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
} from './tracker-query.js';
import type { TrackerRegistry } from './tracker-registry.js';
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

function answer(
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  registry: TrackerRegistry,
  now: () => number,
): Buffer {
  const query = parseQueryString(rawQuery);
  if (isTrackerFailure(query)) return encodeFailure(query.failure);

  if (path === '/scrape') {
    const hashes = parseScrapeRequest(query);
    if (isTrackerFailure(hashes)) return encodeFailure(hashes.failure);
    return encodeScrapeReply(registry.scrape(hashes, now()));
  }

  const { remoteAddress, localAddress } = req.socket;
  if (remoteAddress === undefined || localAddress === undefined) {
    return encodeFailure('connection closed before the announce could be read');
  }
  const announce = parseAnnounceRequest(query, remoteAddress);
  if (isTrackerFailure(announce)) return encodeFailure(announce.failure);
  const reply = registry.announce(announce, unwrapMappedIpv4(localAddress), now());
  if (isTrackerFailure(reply)) return encodeFailure(reply.failure);
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
  send(res, 200, answer(req, path, mark < 0 ? '' : target.slice(mark + 1), registry, now));
  return true;
}
