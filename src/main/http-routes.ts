/**
 * What the peer answers over HTTP on its port, besides the tracker: the dashboard and the status
 * document, read-only and open to anyone who can reach the port, and the control API
 * (control/control-routes.ts), whose every change needs the token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleTrackerRequest } from './tracker/tracker-http.js';
import type { TrackerRegistry } from './tracker/tracker-registry.js';
import { DASHBOARD_HEADERS, DASHBOARD_HTML } from './ui/dashboard-page.js';
import { serveControl } from './control/control-routes.js';
import type { TorrentControl } from './control/torrent-control.js';
import { parseStatusQuery, statusJson, type StatusParts, type StatusQuery } from './status-document.js';
import { drained } from './net/response-drain.js';

export interface HttpRoutesHost {
  /** The tracker this peer serves, once the port is taken. */
  tracker(): TrackerRegistry | null;
  /** The status document (session.ts, StatusDocument), with the swarms the query lists. */
  status(query: StatusQuery): StatusParts;
  /** The control API (control/control-routes.ts). */
  control: TorrentControl;
}

export function serveHttp(req: IncomingMessage, res: ServerResponse, host: HttpRoutesHost): void {
  const tracker = host.tracker();
  if (tracker && handleTrackerRequest(req, res, tracker, Date.now)) return;
  const url = req.url ?? '/';
  const queryAt = url.includes('?') ? url.indexOf('?') : url.length;
  const pathname = url.slice(0, queryAt);
  const search = url.slice(queryAt + 1);
  const reading = req.method === 'GET' || req.method === 'HEAD';
  if (pathname === '/' && reading) {
    res.writeHead(200, DASHBOARD_HEADERS);
    res.end(req.method === 'HEAD' ? undefined : DASHBOARD_HTML);
    return;
  }
  if (pathname === '/status' && reading) {
    const query = parseStatusQuery(new URLSearchParams(search));
    if ('error' in query) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`${query.error}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    if (req.method === 'HEAD') return void res.end();
    void sendChunks(res, statusJson(host.status(query)));
    return;
  }
  if (serveControl(req, res, host.control)) return;
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found: this peer serves / (its dashboard), /status, /announce, /scrape and /torrents (the control API)\n');
}

/**
 * Writes the pieces of a body as they are made, each once the socket took the one before: the
 * next is not made before then, so a large body never waits whole in memory (where it would
 * outlive the young generation), and other sockets are served between two pieces. A body of one
 * piece goes out with its length.
 */
async function sendChunks(res: ServerResponse, chunks: Iterable<string>): Promise<void> {
  let held: string | null = null;
  for (const chunk of chunks) {
    if (held !== null && !res.write(held)) await drained(res);
    if (res.destroyed) return;
    held = chunk;
  }
  res.end(held ?? undefined);
}
