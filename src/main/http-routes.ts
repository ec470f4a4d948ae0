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

export interface HttpRoutesHost {
  /** The tracker this peer serves, once the port is taken. */
  tracker(): TrackerRegistry | null;
  /** The status document (session.ts, StatusDocument). */
  status(): object;
  /** The control API (control/control-routes.ts). */
  control: TorrentControl;
}

export function serveHttp(req: IncomingMessage, res: ServerResponse, host: HttpRoutesHost): void {
  const tracker = host.tracker();
  if (tracker && handleTrackerRequest(req, res, tracker, Date.now)) return;
  const pathname = (req.url ?? '/').split('?')[0];
  const reading = req.method === 'GET' || req.method === 'HEAD';
  if (pathname === '/' && reading) {
    res.writeHead(200, DASHBOARD_HEADERS);
    res.end(req.method === 'HEAD' ? undefined : DASHBOARD_HTML);
    return;
  }
  if (pathname === '/status' && reading) {
    const body = JSON.stringify(host.status(), null, 2);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (serveControl(req, res, host.control)) return;
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found: this peer serves / (its dashboard), /status, /announce, /scrape and /torrents (the control API)\n');
}
