/**
 * Query strings of tracker requests (BEP 3). info_hash and peer_id are raw 20-byte strings,
 * percent-encoded byte by byte, so the query is decoded to bytes here: URLSearchParams would
 * read the escapes as UTF-8 and turn every invalid sequence into U+FFFD.
 */
import { defaultSettings } from '../../io/settings.js';

/** The text that goes into the reply's `failure reason`. */
export interface TrackerFailure {
  failure: string;
}

export type AnnounceEvent = 'started' | 'completed' | 'stopped' | 'empty';

export interface AnnounceRequest {
  infoHash: Buffer;
  peerId: Buffer;
  /** From the connection, never from the `ip` parameter, which anyone could forge. */
  ip: string;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** BEP 23 compact peer list unless the client asked for the dictionary model with compact=0. */
  compact: boolean;
  noPeerId: boolean;
  numwant: number;
}

export function isTrackerFailure(value: unknown): value is TrackerFailure {
  return typeof value === 'object' && value !== null && typeof (value as TrackerFailure).failure === 'string';
}

const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

function percentDecode(component: string): Buffer | TrackerFailure {
  // node:http refuses raw bytes above 0x7f in a request line, so non-ASCII characters only come
  // from callers holding an already decoded string; their UTF-8 bytes are what they meant.
  const input = Buffer.from(component, 'utf8');
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === PERCENT) {
      const hi = i + 1 < input.length ? hexValue(input[i + 1]) : -1;
      const lo = i + 2 < input.length ? hexValue(input[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        const escape = input.subarray(i, i + 3).toString('latin1');
        return { failure: `malformed percent escape "${escape}" in query` };
      }
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = c === PLUS ? SPACE : c;
    }
  }
  return out.subarray(0, n);
}

/** Splits a raw query (with or without its leading '?') into keys and the byte values of each. */
export function parseQueryString(raw: string): Map<string, Buffer[]> | TrackerFailure {
  const query = new Map<string, Buffer[]>();
  const body = raw.startsWith('?') ? raw.slice(1) : raw;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = percentDecode(eq < 0 ? pair : pair.slice(0, eq));
    if (isTrackerFailure(key)) return key;
    const value = percentDecode(eq < 0 ? '' : pair.slice(eq + 1));
    if (isTrackerFailure(value)) return value;
    const name = key.toString('latin1');
    const values = query.get(name);
    if (values) values.push(value);
    else query.set(name, [value]);
  }
  return query;
}

/** IPv4 peers reach a dual-stack socket as ::ffff:a.b.c.d; the compact format wants a.b.c.d. */
export function unwrapMappedIpv4(ip: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return match ? match[1] : ip;
}

/** The one value of a parameter; a repeated one is refused, since which was meant is unknown. */
function single(query: Map<string, Buffer[]>, name: string): Buffer | undefined | TrackerFailure {
  const values = query.get(name);
  if (!values) return undefined;
  if (values.length > 1) return { failure: `${name} given more than once` };
  return values[0];
}

function requiredId(query: Map<string, Buffer[]>, name: string): Buffer | TrackerFailure {
  const value = single(query, name);
  if (isTrackerFailure(value)) return value;
  if (value === undefined) return { failure: `missing ${name}` };
  if (value.length !== 20) return { failure: `${name} must be 20 bytes, got ${value.length}` };
  return value;
}

function decimal(value: Buffer): number | undefined {
  const text = value.toString('latin1');
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function requiredCount(query: Map<string, Buffer[]>, name: string): number | TrackerFailure {
  const value = single(query, name);
  if (isTrackerFailure(value)) return value;
  if (value === undefined) return { failure: `missing ${name}` };
  const n = decimal(value);
  if (n === undefined) return { failure: `invalid ${name}: must be a non-negative integer` };
  return n;
}

function flag(query: Map<string, Buffer[]>, name: string, absent: boolean): boolean | TrackerFailure {
  const value = single(query, name);
  if (isTrackerFailure(value)) return value;
  if (value === undefined) return absent;
  const text = value.toString('latin1');
  if (text === '1') return true;
  if (text === '0') return false;
  return { failure: `invalid ${name}: must be 0 or 1` };
}

function parseEvent(query: Map<string, Buffer[]>): AnnounceEvent | TrackerFailure {
  const value = single(query, 'event');
  if (isTrackerFailure(value)) return value;
  const text = value === undefined ? '' : value.toString('latin1');
  switch (text) {
    case 'started':
    case 'completed':
    case 'stopped':
      return text;
    case '':
    case 'empty':
    // BEP 21's `paused` (a partial seed taking a break) is a regular announce as far as the
    // peer list goes; refusing it would cut libtorrent 2 clients off.
    case 'paused':
      return 'empty';
    default:
      return { failure: `unknown event "${text}": expected started, completed, stopped or none` };
  }
}

export function parseAnnounceRequest(query: Map<string, Buffer[]>, remoteIp: string): AnnounceRequest | TrackerFailure {
  const infoHash = requiredId(query, 'info_hash');
  if (isTrackerFailure(infoHash)) return infoHash;
  const peerId = requiredId(query, 'peer_id');
  if (isTrackerFailure(peerId)) return peerId;

  const portValue = single(query, 'port');
  if (isTrackerFailure(portValue)) return portValue;
  if (portValue === undefined) return { failure: 'missing port' };
  const port = decimal(portValue);
  if (port === undefined || port < 1 || port > 65535) {
    return { failure: 'invalid port: must be an integer from 1 to 65535' };
  }

  const uploaded = requiredCount(query, 'uploaded');
  if (isTrackerFailure(uploaded)) return uploaded;
  const downloaded = requiredCount(query, 'downloaded');
  if (isTrackerFailure(downloaded)) return downloaded;
  const left = requiredCount(query, 'left');
  if (isTrackerFailure(left)) return left;

  const event = parseEvent(query);
  if (isTrackerFailure(event)) return event;
  const compact = flag(query, 'compact', true);
  if (isTrackerFailure(compact)) return compact;
  const noPeerId = flag(query, 'no_peer_id', false);
  if (isTrackerFailure(noPeerId)) return noPeerId;

  let numwant: number = defaultSettings.trackerDefaultNumwant;
  const numwantValue = single(query, 'numwant');
  if (isTrackerFailure(numwantValue)) return numwantValue;
  if (numwantValue !== undefined) {
    const n = decimal(numwantValue);
    if (n === undefined) return { failure: 'invalid numwant: must be a non-negative integer' };
    numwant = Math.min(n, defaultSettings.trackerMaxNumwant);
  }

  return {
    infoHash,
    peerId,
    ip: unwrapMappedIpv4(remoteIp),
    port,
    uploaded,
    downloaded,
    left,
    event,
    compact,
    noPeerId,
    numwant,
  };
}

/** The info hashes asked for; an empty list asks for every served swarm. */
export function parseScrapeRequest(query: Map<string, Buffer[]>): Buffer[] | TrackerFailure {
  const hashes = query.get('info_hash') ?? [];
  for (const hash of hashes) {
    if (hash.length !== 20) return { failure: `info_hash must be 20 bytes, got ${hash.length}` };
  }
  return hashes;
}
