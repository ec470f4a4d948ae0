/**
 * The control API's HTTP face (docs/architecture.md, Control; ../shared/DESIGN.md, Control over
 * HTTP): which request is which endpoint, the guard of every changing request (request-guard.ts),
 * bounded bodies (request-body.ts), and JSON answers. What each endpoint does is TorrentControl's.
 * No answer ever carries a CORS header, and a preflight (OPTIONS) is refused: no page of another
 * origin may drive the API or read from it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Settings } from '../../io/settings.js';
import { BodyError, readBody } from './request-body.js';
import { isOwnLocalClient } from './local-owner.js';
import { guardChange, TOKEN_HEADER, type OwnIdentity } from './request-guard.js';
import { ControlError, header, type ControlReply, type TorrentControl } from './torrent-control.js';

/** A request of the control API, as its method and path say. */
export type ControlRoute =
  | { kind: 'add' }
  | { kind: 'remove'; infoHash: string }
  | { kind: 'pause' | 'resume'; infoHash: string }
  | { kind: 'files'; infoHash: string }
  /** GET /files/<info hash>/<path>: read-only, no token needed. */
  | { kind: 'file'; infoHash: string; path: string }
  /** GET /torrents/<info hash>/pieces: the pieces had, for the dashboard's piece map; read-only. */
  | { kind: 'pieces'; infoHash: string }
  /** GET /api-token: the token, to a browser of the user who runs the peer on its machine (local-owner.ts). */
  | { kind: 'token' }
  | { kind: 'preflight' }
  /** A path of the API with a method it does not take. */
  | { kind: 'method-not-allowed'; allow: string }
  /** A path of the API whose info hash is malformed. */
  | { kind: 'bad-hash'; text: string };

const INFO_HASH = /^[0-9a-fA-F]{40}$/;
/** A PUT /files body: a priority word per file, for torrents of many thousand files. */
const FILES_BODY_LIMIT = 1024 * 1024;

/** The endpoint of a request, or null when the path is not the control API's. */
export function controlRoute(method: string, pathname: string): ControlRoute | null {
  const parts = pathname.split('/').slice(1);
  if (pathname === '/api-token') return method === 'GET' ? { kind: 'token' } : method === 'OPTIONS' ? { kind: 'preflight' } : { kind: 'method-not-allowed', allow: 'GET' };
  if (parts[0] === 'files' && parts.length >= 3) {
    if (method === 'OPTIONS') return { kind: 'preflight' };
    if (method !== 'GET' && method !== 'HEAD') return { kind: 'method-not-allowed', allow: 'GET, HEAD' };
    if (!INFO_HASH.test(parts[1])) return { kind: 'bad-hash', text: parts[1] };
    return { kind: 'file', infoHash: parts[1].toLowerCase(), path: parts.slice(2).join('/') };
  }
  if (parts[0] !== 'torrents') return null;
  if (method === 'OPTIONS') return { kind: 'preflight' };
  if (parts.length === 1 || (parts.length === 2 && parts[1] === '')) {
    return method === 'POST' ? { kind: 'add' } : { kind: 'method-not-allowed', allow: 'POST' };
  }
  const text = parts[1];
  if (!INFO_HASH.test(text)) return { kind: 'bad-hash', text };
  const infoHash = text.toLowerCase();
  if (parts.length === 2) return method === 'DELETE' ? { kind: 'remove', infoHash } : { kind: 'method-not-allowed', allow: 'DELETE' };
  if (parts.length === 3 && (parts[2] === 'pause' || parts[2] === 'resume')) {
    return method === 'POST' ? { kind: parts[2], infoHash } : { kind: 'method-not-allowed', allow: 'POST' };
  }
  if (parts.length === 3 && parts[2] === 'files') return method === 'PUT' ? { kind: 'files', infoHash } : { kind: 'method-not-allowed', allow: 'PUT' };
  if (parts.length === 3 && parts[2] === 'pieces') return method === 'GET' ? { kind: 'pieces', infoHash } : { kind: 'method-not-allowed', allow: 'GET' };
  return null;
}

function reply(res: ServerResponse, { status, body }: ControlReply, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

function refuse(res: ServerResponse, status: number, reason: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  reply(res, { status, body: { error: reason, ...extra } }, headers);
}

/** Answers the request if it is the control API's; returns whether it was. */
export function serveControl(req: IncomingMessage, res: ServerResponse, control: TorrentControl): boolean {
  const pathname = (req.url ?? '/').split('?')[0];
  const route = controlRoute(req.method ?? 'GET', pathname);
  if (!route) return false;
  void answer(req, res, route, control).catch((error: unknown) => {
    const known = error instanceof ControlError || error instanceof BodyError;
    const status = known ? error.status : 500;
    if (res.headersSent) return res.destroy();
    // The rest of a body not read (too large, or never looked at) is not waited for.
    const close: Record<string, string> = req.complete ? {} : { connection: 'close' };
    const extra = error instanceof ControlError ? error.extra : {};
    const headers = error instanceof ControlError ? { ...error.headers, ...close } : close;
    refuse(res, status, known ? error.message : `unexpected error: ${(error as Error).message}`, extra, headers);
  });
  return true;
}

async function answer(req: IncomingMessage, res: ServerResponse, route: ControlRoute, control: TorrentControl): Promise<void> {
  // A request that could change anything is judged (Host, Origin, token) before its path is: one
  // without the token gets 401 whatever it names (DESIGN.md, Control).
  const changing = req.method !== 'GET' && req.method !== 'HEAD' && route.kind !== 'preflight';
  if (changing) {
    const identity = control.identity();
    if (!identity) return refuse(res, 503, 'the peer is still starting; try again in a moment');
    const verdict = guardChange({ host: header(req, 'host'), origin: header(req, 'origin'), token: header(req, TOKEN_HEADER) }, identity);
    if (!verdict.allowed) return refuse(res, verdict.status, verdict.reason);
  }
  switch (route.kind) {
    case 'preflight':
      // No Access-Control-Allow-* header: the browser does not send the request it asked about.
      return refuse(res, 403, 'cross-origin requests are not allowed');
    case 'method-not-allowed':
      return refuse(res, 405, `this path takes ${route.allow}`, {}, { allow: route.allow });
    case 'bad-hash':
      return refuse(res, 400, `${JSON.stringify(route.text.slice(0, 60))} is not an info hash (40 hexadecimal characters)`);
    case 'file':
      return control.serveFile(req, res, route.infoHash, route.path);
    case 'pieces':
      return reply(res, control.pieces(route.infoHash));
  }
  if (route.kind === 'token') {
    const identity = control.identity();
    if (!identity) return refuse(res, 503, 'the peer is still starting; try again in a moment');
    return reply(res, await handOutToken(req, identity));
  }
  switch (route.kind) {
    case 'add':
      return reply(res, await control.add(await addedTorrent(req, control.settings)));
    case 'remove':
      return reply(res, await control.remove(route.infoHash));
    case 'pause':
      return reply(res, await control.pause(route.infoHash));
    case 'resume':
      return reply(res, await control.resume(route.infoHash));
    case 'files':
      return reply(res, await control.setFiles(route.infoHash, await readBody(req, FILES_BODY_LIMIT, 'the body')));
  }
}

/**
 * The token for the dashboard, to a browser that runs as the peer's user on the peer's machine
 * and loaded the page from the peer itself: the Host and Origin checks stop other sites (DNS
 * rebinding included), and no CORS header lets them read the answer.
 */
async function handOutToken(req: IncomingMessage, identity: OwnIdentity): Promise<ControlReply> {
  const verdict = guardChange({ host: header(req, 'host'), origin: header(req, 'origin'), token: identity.token }, identity);
  if (!verdict.allowed) return { status: verdict.status, body: { error: verdict.reason } };
  const { remoteAddress, remotePort, localAddress, localPort } = req.socket;
  const own = remoteAddress !== undefined && localAddress !== undefined && (await isOwnLocalClient({ ip: remoteAddress, port: remotePort ?? 0 }, { ip: localAddress, port: localPort ?? 0 }));
  if (!own) return { status: 403, body: { error: 'the token is handed out only to programs of the user who runs the peer, on its machine: paste it from cache/api-token' } };
  return { status: 200, body: { token: identity.token } };
}

/** The body of POST /torrents, by its content type, within the limit of its kind. */
async function addedTorrent(req: IncomingMessage, settings: Settings) {
  const type = (header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-bittorrent' || type === 'application/octet-stream') {
    return { kind: 'torrent' as const, data: await readBody(req, settings.maxTorrentFileLength, 'the .torrent') };
  }
  if (type === 'text/plain') {
    return { kind: 'magnet' as const, text: (await readBody(req, settings.maxMagnetFileBytes, 'the magnet link')).toString('utf8') };
  }
  throw new ControlError(415, `send a .torrent as application/x-bittorrent or a magnet link as text/plain, not ${type === '' ? 'no Content-Type' : type}`);
}
