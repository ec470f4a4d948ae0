/**
 * The packets of the UDP tracker protocol (BEP 15), both sides, with the BEP 41 options of an
 * announce: pure encoders and decoders, no socket. All numbers are big-endian. Decoders never
 * throw on what a stranger sends: they give `{ ok: true, packet }` or `{ ok: false, reason }`,
 * and check a packet's length against the one table below before they read its body.
 *
 * Requests (client to tracker) start with a 64-bit connection id (the protocol id in a connect),
 * then a 32-bit action and a 32-bit transaction id; responses start with the action and the
 * transaction id. As BEP 15 asks, a packet longer than its layout is accepted and the extra bytes
 * ignored (an announce request's are BEP 41 options).
 */
import type { AnnounceEvent } from './tracker-query.js';
import { decodeCompactPeers, encodeCompactPeers } from './tracker-responses.js';

/** The connection id of every connect request ("magic constant" of BEP 15). */
export const PROTOCOL_ID = 0x41727101980n;

export const UdpAction = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
export type UdpActionName = keyof typeof UdpAction;
const ACTION_NAMES: readonly UdpActionName[] = ['connect', 'announce', 'scrape', 'error'];

/** BEP 15's event numbers: 0 none, 1 completed, 2 started, 3 stopped (`empty` is "none"). */
export const UDP_EVENTS: readonly AnnounceEvent[] = ['empty', 'completed', 'started', 'stopped'];

/** Most info hashes one scrape request may name: BEP 15 says about 74 fit in a packet. */
export const MAX_SCRAPE_INFO_HASHES = 74;

/** BEP 41 option types; every other type is followed by a length byte, and skipped. */
export const OptionType = { endOfOptions: 0, nop: 1, urlData: 2 } as const;
/** The data of one URLData option is at most 255 bytes; longer URL data takes several, concatenated. */
export const MAX_OPTION_DATA = 255;

/** Offsets of the fields of a request (BEP 15's tables). */
export const RequestOffset = {
  connectionId: 0,
  action: 8,
  transactionId: 12,
  /** Announce: */
  infoHash: 16,
  peerId: 36,
  downloaded: 56,
  left: 64,
  uploaded: 72,
  event: 80,
  ip: 84,
  key: 88,
  numWant: 92,
  port: 96,
  /** BEP 41 options follow the port. */
  options: 98,
  /** Scrape: 20 bytes per info hash from here. */
  infoHashes: 16,
} as const;

/** Offsets of the fields of a response (BEP 15's tables). */
export const ResponseOffset = {
  action: 0,
  transactionId: 4,
  /** Connect: */
  connectionId: 8,
  /** Announce: */
  interval: 8,
  leechers: 12,
  seeders: 16,
  peers: 20,
  /** Scrape: 12 bytes per torrent (seeders, completed, leechers) from here. */
  files: 8,
  /** Error: the message, to the end of the packet. */
  message: 8,
} as const;

/**
 * A packet's length: a fixed header, then `entry`-byte entries (peers, info hashes, scrape
 * counts) filling the rest, at least `minEntries` and at most `maxEntries` of them.
 */
export interface PacketLengthRule {
  readonly name: string;
  readonly header: number;
  /** Size of each entry after the header; 0 when the packet has none (extra bytes are ignored). */
  readonly entry: number;
  readonly minEntries: number;
  readonly maxEntries: number;
}

function fixed(name: string, header: number): PacketLengthRule {
  return { name, header, entry: 0, minEntries: 0, maxEntries: 0 };
}

/** The one table of packet lengths, by side and action. */
export const PACKET_LENGTHS = {
  request: {
    connect: fixed('connect request', 16),
    announce: fixed('announce request', RequestOffset.options),
    scrape: { name: 'scrape request', header: 16, entry: 20, minEntries: 1, maxEntries: MAX_SCRAPE_INFO_HASHES },
  },
  response: {
    connect: fixed('connect response', 16),
    /** 6 bytes per IPv4 peer; 18 per IPv6 peer when the request went over IPv6 (see peerEntryLength). */
    announce: { name: 'announce response', header: 20, entry: 6, minEntries: 0, maxEntries: Infinity },
    scrape: { name: 'scrape response', header: 8, entry: 12, minEntries: 0, maxEntries: Infinity },
    error: fixed('error response', 8),
  },
} as const satisfies { request: Record<string, PacketLengthRule>; response: Record<string, PacketLengthRule> };

/** The address family of the packet a response answers: it sets the size of the peers in an announce response. */
export type AddressFamily = 'IPv4' | 'IPv6';

export function peerEntryLength(family: AddressFamily): number {
  return family === 'IPv6' ? 18 : 6;
}

/** Why `length` does not fit `rule`, or null when it does. */
export function lengthProblem(rule: PacketLengthRule, length: number): string | null {
  if (length < rule.header + rule.minEntries * rule.entry) {
    return `${rule.name} of ${length} bytes is truncated: it needs at least ${rule.header + rule.minEntries * rule.entry}`;
  }
  if (rule.entry === 0) return null;
  const body = length - rule.header;
  if (body % rule.entry !== 0) return `${rule.name} of ${length} bytes: ${body} bytes after the header are not a whole number of ${rule.entry}-byte entries`;
  if (body / rule.entry > rule.maxEntries) return `${rule.name} holds ${body / rule.entry} entries, more than ${rule.maxEntries}`;
  return null;
}

export interface UdpConnectRequest {
  action: 'connect';
  transactionId: number;
}

export interface UdpAnnounceRequest {
  action: 'announce';
  connectionId: bigint;
  transactionId: number;
  infoHash: Buffer;
  peerId: Buffer;
  /** Byte counts: int64 on the wire, safe integers here (clamped to 0..2^53-1 on both sides). */
  downloaded: number;
  left: number;
  uploaded: number;
  event: AnnounceEvent;
  /** The IPv4 address field as an unsigned 32-bit number; 0 (the default) means the packet's source. */
  ip: number;
  /** Unsigned 32-bit key the client picks, so that it is recognized across address changes. */
  key: number;
  /** Peers wanted; -1 (the default) leaves it to the tracker. */
  numWant: number;
  port: number;
  /** BEP 41 URLData: the path and query of the tracker's URL (`/announce?x=y`), empty when absent. */
  urlData: Buffer;
}

export interface UdpScrapeRequest {
  action: 'scrape';
  connectionId: bigint;
  transactionId: number;
  infoHashes: Buffer[];
}

export type UdpTrackerRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest;

export interface UdpPeer {
  ip: string;
  port: number;
}

export interface UdpScrapeCounts {
  seeders: number;
  completed: number;
  leechers: number;
}

export interface UdpConnectResponse {
  action: 'connect';
  transactionId: number;
  connectionId: bigint;
}

export interface UdpAnnounceResponse {
  action: 'announce';
  transactionId: number;
  intervalS: number;
  leechers: number;
  seeders: number;
  peers: UdpPeer[];
}

export interface UdpScrapeResponse {
  action: 'scrape';
  transactionId: number;
  /** One per info hash of the request, in its order. */
  files: UdpScrapeCounts[];
}

export interface UdpErrorResponse {
  action: 'error';
  transactionId: number;
  message: string;
}

export type UdpTrackerResponse = UdpConnectResponse | UdpAnnounceResponse | UdpScrapeResponse | UdpErrorResponse;

export type Decoded<T> = { ok: true; packet: T } | { ok: false; reason: string };

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

const MAX_INT32 = 0x7fffffff;
const MAX_UINT32 = 0xffffffff;

/** A count as an int64 on the wire: a non-negative safe integer, whatever was given. */
function int64Of(n: number): bigint {
  if (!Number.isFinite(n) || n <= 0) return 0n;
  return BigInt(Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER));
}

/** An int64 count read from the wire, clamped to 0..2^53-1. */
function countOf(n: bigint): number {
  if (n <= 0n) return 0;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** A count written as an int32: clamped to 0..2^31-1. */
function int32Count(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(Math.floor(n), MAX_INT32);
}

function uint32(n: number): number {
  return Number.isInteger(n) && n >= 0 && n <= MAX_UINT32 ? n : n >>> 0;
}

/** The action named by a packet's action field, or undefined for a number BEP 15 does not define. */
function actionName(value: number): UdpActionName | undefined {
  return ACTION_NAMES[value];
}

// ---- requests ------------------------------------------------------------------------------

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

function requestHeader(length: number, connectionId: bigint, action: number, transactionId: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeBigUInt64BE(BigInt.asUintN(64, connectionId), RequestOffset.connectionId);
  out.writeUInt32BE(action, RequestOffset.action);
  out.writeUInt32BE(uint32(transactionId), RequestOffset.transactionId);
  return out;
}

function copyId(id: Buffer, name: string): Buffer {
  if (id.length !== 20) throw new RangeError(`${name} must be 20 bytes, got ${id.length}`);
  return id;
}

/**
 * The bytes of a request. Throws a RangeError only on a caller's mistake: an info hash or peer id
 * that is not 20 bytes, a scrape of no info hash or of more than MAX_SCRAPE_INFO_HASHES.
 */
export function encodeRequest(packet: UdpTrackerRequest): Buffer {
  switch (packet.action) {
    case 'connect':
      return requestHeader(PACKET_LENGTHS.request.connect.header, PROTOCOL_ID, UdpAction.connect, packet.transactionId);
    case 'announce': {
      const options = encodeOptions(packet.urlData);
      const out = requestHeader(RequestOffset.options + options.length, packet.connectionId, UdpAction.announce, packet.transactionId);
      copyId(packet.infoHash, 'info hash').copy(out, RequestOffset.infoHash);
      copyId(packet.peerId, 'peer id').copy(out, RequestOffset.peerId);
      out.writeBigInt64BE(int64Of(packet.downloaded), RequestOffset.downloaded);
      out.writeBigInt64BE(int64Of(packet.left), RequestOffset.left);
      out.writeBigInt64BE(int64Of(packet.uploaded), RequestOffset.uploaded);
      out.writeInt32BE(Math.max(0, UDP_EVENTS.indexOf(packet.event)), RequestOffset.event);
      out.writeUInt32BE(uint32(packet.ip), RequestOffset.ip);
      out.writeUInt32BE(uint32(packet.key), RequestOffset.key);
      out.writeInt32BE(Number.isInteger(packet.numWant) && packet.numWant >= 0 ? Math.min(packet.numWant, MAX_INT32) : -1, RequestOffset.numWant);
      out.writeUInt16BE(packet.port & 0xffff, RequestOffset.port);
      options.copy(out, RequestOffset.options);
      return out;
    }
    case 'scrape': {
      const count = packet.infoHashes.length;
      if (count < 1 || count > MAX_SCRAPE_INFO_HASHES) throw new RangeError(`a scrape names 1 to ${MAX_SCRAPE_INFO_HASHES} info hashes, got ${count}`);
      const out = requestHeader(RequestOffset.infoHashes + 20 * count, packet.connectionId, UdpAction.scrape, packet.transactionId);
      packet.infoHashes.forEach((hash, i) => copyId(hash, 'info hash').copy(out, RequestOffset.infoHashes + 20 * i));
      return out;
    }
  }
}

/** Reads a request as a tracker receives it. Buffers in the result are copies, safe to keep. */
export function decodeRequest(data: Buffer): Decoded<UdpTrackerRequest> {
  if (data.length < 16) return refuse(`a request of ${data.length} bytes is truncated: every request has at least 16`);
  const connectionId = data.readBigUInt64BE(RequestOffset.connectionId);
  const actionValue = data.readUInt32BE(RequestOffset.action);
  const transactionId = data.readUInt32BE(RequestOffset.transactionId);
  const action = actionName(actionValue);
  if (action === undefined || action === 'error') return refuse(`action ${actionValue} is not a request (0 connect, 1 announce, 2 scrape)`);
  const problem = lengthProblem(PACKET_LENGTHS.request[action], data.length);
  if (problem) return refuse(problem);

  switch (action) {
    case 'connect':
      if (connectionId !== PROTOCOL_ID) return refuse(`a connect request must carry the protocol id 0x41727101980, not 0x${connectionId.toString(16)}`);
      return { ok: true, packet: { action, transactionId } };
    case 'announce': {
      const eventValue = data.readInt32BE(RequestOffset.event);
      const event = UDP_EVENTS[eventValue];
      if (event === undefined) return refuse(`unknown event ${eventValue}: expected 0 none, 1 completed, 2 started or 3 stopped`);
      const options = decodeOptions(data.subarray(RequestOffset.options));
      if (!options.ok) return options;
      return {
        ok: true,
        packet: {
          action,
          connectionId,
          transactionId,
          infoHash: Buffer.from(data.subarray(RequestOffset.infoHash, RequestOffset.infoHash + 20)),
          peerId: Buffer.from(data.subarray(RequestOffset.peerId, RequestOffset.peerId + 20)),
          downloaded: countOf(data.readBigInt64BE(RequestOffset.downloaded)),
          left: countOf(data.readBigInt64BE(RequestOffset.left)),
          uploaded: countOf(data.readBigInt64BE(RequestOffset.uploaded)),
          event,
          ip: data.readUInt32BE(RequestOffset.ip),
          key: data.readUInt32BE(RequestOffset.key),
          // Any negative number asks for the tracker's default, as -1 does.
          numWant: Math.max(-1, data.readInt32BE(RequestOffset.numWant)),
          port: data.readUInt16BE(RequestOffset.port),
          urlData: Buffer.from(options.packet),
        },
      };
    }
    case 'scrape': {
      const infoHashes: Buffer[] = [];
      for (let at = RequestOffset.infoHashes; at < data.length; at += 20) infoHashes.push(Buffer.from(data.subarray(at, at + 20)));
      return { ok: true, packet: { action, connectionId, transactionId, infoHashes } };
    }
  }
}

// ---- responses -----------------------------------------------------------------------------

function responseHeader(length: number, action: number, transactionId: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUInt32BE(action, ResponseOffset.action);
  out.writeUInt32BE(uint32(transactionId), ResponseOffset.transactionId);
  return out;
}

/**
 * The bytes of a response. `family` is that of the request's packet: an announce response lists
 * peers of that family only (6 bytes each for IPv4, 18 for IPv6); others are left out. Never throws.
 */
export function encodeResponse(packet: UdpTrackerResponse, family: AddressFamily = 'IPv4'): Buffer {
  switch (packet.action) {
    case 'connect': {
      const out = responseHeader(PACKET_LENGTHS.response.connect.header, UdpAction.connect, packet.transactionId);
      out.writeBigUInt64BE(BigInt.asUintN(64, packet.connectionId), ResponseOffset.connectionId);
      return out;
    }
    case 'announce': {
      const compact = encodeCompactPeers(packet.peers);
      const peers = family === 'IPv6' ? compact.peers6 : compact.peers;
      const out = responseHeader(ResponseOffset.peers + peers.length, UdpAction.announce, packet.transactionId);
      out.writeInt32BE(int32Count(packet.intervalS), ResponseOffset.interval);
      out.writeInt32BE(int32Count(packet.leechers), ResponseOffset.leechers);
      out.writeInt32BE(int32Count(packet.seeders), ResponseOffset.seeders);
      peers.copy(out, ResponseOffset.peers);
      return out;
    }
    case 'scrape': {
      const out = responseHeader(ResponseOffset.files + 12 * packet.files.length, UdpAction.scrape, packet.transactionId);
      packet.files.forEach((file, i) => {
        const at = ResponseOffset.files + 12 * i;
        out.writeInt32BE(int32Count(file.seeders), at);
        out.writeInt32BE(int32Count(file.completed), at + 4);
        out.writeInt32BE(int32Count(file.leechers), at + 8);
      });
      return out;
    }
    case 'error': {
      const message = Buffer.from(packet.message, 'utf8');
      const out = responseHeader(ResponseOffset.message + message.length, UdpAction.error, packet.transactionId);
      message.copy(out, ResponseOffset.message);
      return out;
    }
  }
}

/** The transaction id of a response (bytes 4 to 8), for routing it to its request; undefined when too short. */
export function responseTransactionId(data: Buffer): number | undefined {
  return data.length >= 8 ? data.readUInt32BE(ResponseOffset.transactionId) : undefined;
}

/**
 * Reads a response as a client receives it; `family` is that of the packet it came in (it sets
 * the size of an announce response's peers). A peer with port 0 is left out (nobody listens there).
 */
export function decodeResponse(data: Buffer, family: AddressFamily = 'IPv4'): Decoded<UdpTrackerResponse> {
  if (data.length < 8) return refuse(`a response of ${data.length} bytes is truncated: every response has at least 8`);
  const actionValue = data.readUInt32BE(ResponseOffset.action);
  const transactionId = data.readUInt32BE(ResponseOffset.transactionId);
  const action = actionName(actionValue);
  if (action === undefined) return refuse(`action ${actionValue} is not a response (0 connect, 1 announce, 2 scrape, 3 error)`);
  const rule = action === 'announce' ? { ...PACKET_LENGTHS.response.announce, entry: peerEntryLength(family) } : PACKET_LENGTHS.response[action];
  const problem = lengthProblem(rule, data.length);
  if (problem) return refuse(problem);

  switch (action) {
    case 'connect':
      return { ok: true, packet: { action, transactionId, connectionId: data.readBigUInt64BE(ResponseOffset.connectionId) } };
    case 'announce': {
      const peers = decodeCompactPeers(data.subarray(ResponseOffset.peers), family === 'IPv6' ? 6 : 4) ?? [];
      return {
        ok: true,
        packet: {
          action,
          transactionId,
          intervalS: Math.max(0, data.readInt32BE(ResponseOffset.interval)),
          leechers: Math.max(0, data.readInt32BE(ResponseOffset.leechers)),
          seeders: Math.max(0, data.readInt32BE(ResponseOffset.seeders)),
          peers: peers.map(({ ip, port }) => ({ ip, port })),
        },
      };
    }
    case 'scrape': {
      const files: UdpScrapeCounts[] = [];
      for (let at = ResponseOffset.files; at < data.length; at += 12) {
        files.push({
          seeders: Math.max(0, data.readInt32BE(at)),
          completed: Math.max(0, data.readInt32BE(at + 4)),
          leechers: Math.max(0, data.readInt32BE(at + 8)),
        });
      }
      return { ok: true, packet: { action, transactionId, files } };
    }
    case 'error': {
      // Some trackers end the message with a NUL, C style.
      const message = data.subarray(ResponseOffset.message).toString('utf8').replace(/\0+$/, '');
      return { ok: true, packet: { action, transactionId, message } };
    }
  }
}

// ---- URLs ----------------------------------------------------------------------------------

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
