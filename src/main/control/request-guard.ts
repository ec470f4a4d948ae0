/**
 * Whether a request that changes something may go ahead (docs/security-and-limits.md, Control API).
 * Pure: the request's headers and what this peer is come in, a verdict comes out.
 *
 * - `Host` must name this peer: one of its addresses or `localhost`, and its port. A web page
 *   whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own name here.
 * - `Origin`, when the browser sends one, must be this peer's own (`http://` + such a host). A
 *   page elsewhere cannot read our answers anyway (no CORS header is ever sent), but a simple
 *   cross-origin request would still be carried out: the check stops it first.
 * - `X-Shoal-Token` must be the token of cache/api-token. A custom header cannot be sent across
 *   origins without a preflight, which we never grant.
 * The first two answer 403 and come before the token, which answers 401: a foreign page learns
 * nothing about the token.
 */
import { timingSafeEqual } from 'node:crypto';

export const TOKEN_HEADER = 'x-shoal-token';

export interface GuardedRequest {
  host?: string;
  origin?: string;
  token?: string;
}

export interface OwnIdentity {
  token: string;
  port: number;
  /** Whether a host name or address (without brackets or port) is this peer. */
  isOwnHost(hostname: string): boolean;
}

export type GuardVerdict = { allowed: true } | { allowed: false; status: 401 | 403; reason: string };

const ALLOWED: GuardVerdict = Object.freeze({ allowed: true });

/** `host[:port]` or `[v6][:port]` as a host name and a port (80 when none is given); null when malformed. */
export function parseHostHeader(value: string): { hostname: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/]+))(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return null;
  const port = match[3] === undefined ? 80 : Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { hostname: (match[1] ?? match[2]).toLowerCase(), port };
}

/**
 * Whether `host` (a Host header) names this peer: one of its addresses or localhost. DNS rebinding
 * sends the attacker's own name, which is refused whatever the port; the port is not looked at, so
 * that a client naming the peer without it (or behind a forwarded port) is not refused.
 */
export function isOwnHost(host: string | undefined, own: Pick<OwnIdentity, 'isOwnHost'>): boolean {
  const parsed = host === undefined ? null : parseHostHeader(host);
  return parsed !== null && own.isOwnHost(parsed.hostname);
}

/** Whether `origin` (an Origin header) is a page of this peer: its address and its port, since another port is another site. */
function isOwnOrigin(origin: string, own: OwnIdentity): boolean {
  const match = /^http:\/\/([^/?#]+)$/i.exec(origin.trim());
  const parsed = match === null ? null : parseHostHeader(match[1]);
  return parsed !== null && parsed.port === own.port && own.isOwnHost(parsed.hostname);
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function guardChange(request: GuardedRequest, own: OwnIdentity): GuardVerdict {
  if (!isOwnHost(request.host, own)) {
    return { allowed: false, status: 403, reason: `the Host header (${request.host ?? 'none'}) does not name this peer: use one of its addresses or localhost` };
  }
  if (request.origin !== undefined && !isOwnOrigin(request.origin, own)) {
    return { allowed: false, status: 403, reason: `requests from pages of other origins (${request.origin}) are refused` };
  }
  if (request.token === undefined || request.token === '') {
    return { allowed: false, status: 401, reason: `the X-Shoal-Token header is missing: send the token of cache/api-token` };
  }
  if (!sameToken(request.token, own.token)) {
    return { allowed: false, status: 401, reason: 'the X-Shoal-Token header is not the token of cache/api-token' };
  }
  return ALLOWED;
}
