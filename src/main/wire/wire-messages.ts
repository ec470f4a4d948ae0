/**
 * The messages of the peer wire protocol (BEP 3, with BEP 6's Fast extension and BEP 10's
 * extended message) and the one table of their lengths, which the parser consults before it
 * reads a body.
 */
import { defaultSettings } from '../../io/settings.js';

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
} as const;

/**
 * Buffers in parsed messages are views on the received bytes when those lie in one chunk (no
 * copy), otherwise copies of exactly their size; copy what must outlive the handling of the message.
 */
export type WireMessage =
  | { kind: 'keep-alive' }
  | { kind: 'choke' }
  | { kind: 'unchoke' }
  | { kind: 'interested' }
  | { kind: 'not-interested' }
  | { kind: 'have'; index: number }
  | { kind: 'bitfield'; bits: Buffer }
  | { kind: 'request'; index: number; begin: number; length: number }
  | { kind: 'piece'; index: number; begin: number; block: Buffer }
  | { kind: 'cancel'; index: number; begin: number; length: number }
  | { kind: 'port'; port: number }
  | { kind: 'suggest'; index: number }
  | { kind: 'have-all' }
  | { kind: 'have-none' }
  | { kind: 'reject'; index: number; begin: number; length: number }
  | { kind: 'allowed-fast'; index: number }
  | { kind: 'extended'; extId: number; payload: Buffer };

/** BEP 6's messages: legal only on a connection where both handshakes set the Fast bit. */
const FAST_MESSAGE_KINDS: ReadonlySet<WireMessage['kind']> = new Set(['suggest', 'have-all', 'have-none', 'reject', 'allowed-fast']);

export function isFastMessage(message: WireMessage): boolean {
  return FAST_MESSAGE_KINDS.has(message.kind);
}

export interface Handshake {
  /** 8 bytes of feature bits. */
  reserved: Buffer;
  infoHash: Buffer;
  peerId: Buffer;
}

export const PROTOCOL_NAME = 'BitTorrent protocol';
/** pstrlen, pstr, reserved, info hash, peer id. */
export const HANDSHAKE_LENGTH = 1 + PROTOCOL_NAME.length + 8 + 20 + 20;

/** BEP 10: the extension protocol is bit 0x10 of reserved byte 5. */
export const EXTENSION_PROTOCOL_BYTE = 5;
export const EXTENSION_PROTOCOL_BIT = 0x10;

export function supportsExtensionProtocol(h: Handshake): boolean {
  return (h.reserved[EXTENSION_PROTOCOL_BYTE] & EXTENSION_PROTOCOL_BIT) !== 0;
}

/** BEP 6: the Fast extension is bit 0x04 of reserved byte 7. */
export const FAST_EXTENSION_BYTE = 7;
export const FAST_EXTENSION_BIT = 0x04;

export function supportsFast(h: Handshake): boolean {
  return (h.reserved[FAST_EXTENSION_BYTE] & FAST_EXTENSION_BIT) !== 0;
}

/** BEP 5: a peer that runs a DHT node sets bit 0x01 of reserved byte 7, and is sent a PORT message. */
export const DHT_BYTE = 7;
export const DHT_BIT = 0x01;

export function supportsDht(h: Handshake): boolean {
  return (h.reserved[DHT_BYTE] & DHT_BIT) !== 0;
}

export type WireErrorReason =
  | 'bad-handshake'
  | 'frame-too-long'
  | 'bad-length'
  | 'bad-bitfield'
  | 'bad-have'
  | 'bad-piece-index'
  | 'bad-extension-handshake'
  | 'bad-pex'
  | 'bad-metadata';

/** A breach of the protocol by the remote peer: the caller closes that connection only. */
export class WireProtocolError extends Error {
  constructor(
    readonly reason: WireErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'WireProtocolError';
  }
}

/** Allowed values of a frame's length prefix, which counts the id byte and the body. */
export interface LengthRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

function exactly(name: string, length: number): LengthRule {
  return { name, min: length, max: length };
}

/**
 * The one table of message lengths, by id. Ids missing here are unknown and skipped unread
 * (within the frame limit). The bitfield's exact length depends on the torrent: see lengthRule.
 */
export const MESSAGE_LENGTH_RULES: Readonly<Partial<Record<number, LengthRule>>> = {
  [MessageId.choke]: exactly('choke', 1),
  [MessageId.unchoke]: exactly('unchoke', 1),
  [MessageId.interested]: exactly('interested', 1),
  [MessageId.notInterested]: exactly('not-interested', 1),
  [MessageId.have]: exactly('have', 1 + 4),
  [MessageId.bitfield]: { name: 'bitfield', min: 1, max: Infinity },
  [MessageId.request]: exactly('request', 1 + 12),
  [MessageId.piece]: { name: 'piece', min: 1 + 8, max: 1 + 8 + defaultSettings.maxRequestLength },
  [MessageId.cancel]: exactly('cancel', 1 + 12),
  [MessageId.port]: exactly('port', 1 + 2),
  [MessageId.suggest]: exactly('suggest-piece', 1 + 4),
  [MessageId.haveAll]: exactly('have-all', 1),
  [MessageId.haveNone]: exactly('have-none', 1),
  [MessageId.reject]: exactly('reject-request', 1 + 12),
  [MessageId.allowedFast]: exactly('allowed-fast', 1 + 4),
  [MessageId.extended]: { name: 'extended', min: 1 + 1, max: 1 + defaultSettings.maxExtendedMessageLength },
};

/** The table's rule for `id`, with the bitfield made exact once the piece count is known. */
export function lengthRule(id: number, pieceCount: number | undefined): LengthRule | undefined {
  const rule = MESSAGE_LENGTH_RULES[id];
  if (id !== MessageId.bitfield || pieceCount === undefined) return rule;
  return exactly('bitfield', 1 + Math.ceil(pieceCount / 8));
}
