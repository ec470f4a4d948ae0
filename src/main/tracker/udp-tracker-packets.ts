/**
 * The packets of the UDP tracker protocol (BEP 15) as data: the constants, the offsets of every
 * field, the one table of packet lengths and the packet types both sides share. All numbers are
 * big-endian. The encoders and decoders are in udp-tracker-codec.ts; the udp:// URL and the BEP 41
 * options of an announce in udp-tracker-url.ts.
 *
 * Requests (client to tracker) start with a 64-bit connection id (the protocol id in a connect),
 * then a 32-bit action and a 32-bit transaction id; responses start with the action and the
 * transaction id. As BEP 15 asks, a packet longer than its layout is accepted and the extra bytes
 * ignored (an announce request's are BEP 41 options).
 */
import type { AnnounceEvent } from './tracker-query.js';

/** The connection id of every connect request ("magic constant" of BEP 15). */
export const PROTOCOL_ID = 0x41727101980n;

export const UdpAction = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
export type UdpActionName = keyof typeof UdpAction;
const ACTION_NAMES: readonly UdpActionName[] = ['connect', 'announce', 'scrape', 'error'];

/** BEP 15's event numbers: 0 none, 1 completed, 2 started, 3 stopped (`empty` is "none"). */
export const UDP_EVENTS: readonly AnnounceEvent[] = ['empty', 'completed', 'started', 'stopped'];

/** Most info hashes one scrape request may name: BEP 15 says about 74 fit in a packet. */
export const MAX_SCRAPE_INFO_HASHES = 74;

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
  infoHashes: readonly Buffer[];
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

export function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** The action named by a packet's action field, or undefined for a number BEP 15 does not define. */
export function actionName(value: number): UdpActionName | undefined {
  return ACTION_NAMES[value];
}
