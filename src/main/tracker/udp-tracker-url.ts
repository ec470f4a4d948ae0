/**
 * Where a udp:// tracker is and what it is told of its URL: the URL's host and port, and its path
 * and query as BEP 41 URLData options, which follow the fields of an announce request. Pure, no
 * socket; nothing a stranger sends makes it throw.
 */
import { refuse, type Decoded } from './udp-tracker-packets.js';

/** BEP 41 option types; every other type is followed by a length byte, and skipped. */
export const OptionType = { endOfOptions: 0, nop: 1, urlData: 2 } as const;
/** The data of one URLData option is at most 255 bytes; longer URL data takes several, concatenated. */
export const MAX_OPTION_DATA = 255;

/** The BEP 41 options that carry `urlData` (URLData options of up to 255 bytes, then EndOfOptions); empty without URL data. */
export function encodeOptions(urlData: Buffer): Buffer {
  if (urlData.length === 0) return Buffer.alloc(0);
  const chunks = Math.ceil(urlData.length / MAX_OPTION_DATA);
  const out = Buffer.alloc(chunks * 2 + urlData.length + 1);
  let at = 0;
  for (let from = 0; from < urlData.length; from += MAX_OPTION_DATA) {
    const part = urlData.subarray(from, from + MAX_OPTION_DATA);
    out[at++] = OptionType.urlData;
    out[at++] = part.length;
    at += part.copy(out, at);
  }
  out[at] = OptionType.endOfOptions;
  return out;
}

/** The URL data of the BEP 41 options in `options` (URLData options concatenated, others skipped), or a reason. */
export function decodeOptions(options: Buffer): Decoded<Buffer> {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < options.length) {
    const type = options[at++];
    if (type === OptionType.endOfOptions) break;
    if (type === OptionType.nop) continue;
    if (at >= options.length) return refuse(`BEP 41 option ${type} at byte ${at - 1} has no length byte`);
    const length = options[at++];
    if (at + length > options.length) return refuse(`BEP 41 option ${type} of ${length} bytes runs past the end of the packet`);
    if (type === OptionType.urlData) parts.push(options.subarray(at, at + length));
    at += length;
  }
  return { ok: true, packet: Buffer.concat(parts) };
}

export interface UdpTrackerTarget {
  /** A name or an address (an IPv6 one without its brackets). */
  host: string;
  port: number;
  /** BEP 41 URL data: the URL's path and query, as sent in the announce's URLData options. */
  urlData: Buffer;
}

/** `udp://host:port/path?query` as its host, port and BEP 41 URL data; a reason when it is not such a URL. */
export function parseUdpTrackerUrl(url: string): Decoded<UdpTrackerTarget> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse(`${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'udp:') return refuse(`${url} is not a udp:// URL`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host === '') return refuse(`${url} names no host`);
  if (parsed.port === '') return refuse(`${url} names no port (a udp:// tracker has no default port)`);
  const port = Number(parsed.port);
  if (port < 1 || port > 65535) return refuse(`${url}: port ${parsed.port} is not from 1 to 65535`);
  // The URL parser keeps the path and query of a udp:// URL as written, non-ASCII percent-encoded.
  return { ok: true, packet: { host, port, urlData: Buffer.from(parsed.pathname + parsed.search, 'latin1') } };
}
