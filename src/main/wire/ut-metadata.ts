/**
 * The BEP 9 `ut_metadata` payload, carried in a BEP 10 extended message: a bencoded dictionary
 * (`msg_type` 0 request, 1 data, 2 reject, and the `piece` it is about), followed, in a data
 * message only, by the bytes of that piece of the info dictionary.
 */
import { asInteger, decodeBencodePrefix, encodeBencode, isDict, type BencodeValue } from '../../io/bencode.js';
import { WireProtocolError } from './wire-messages.js';

/** Every metadata piece is this long except the last (BEP 9). */
export const METADATA_PIECE_LENGTH = 16 * 1024;

export type MetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Buffer }
  | { type: 'reject'; piece: number };

/**
 * What a peer may send: one of ours, or a kind BEP 9 may add later, which it says "MUST be
 * ignored" rather than treated as a breach.
 */
export type ReceivedMetadataMessage = MetadataMessage | { type: 'unknown'; msgType: number };

const MSG_TYPE = { request: 0, data: 1, reject: 2 } as const;

/** Nothing in a metadata message nests; a little room is left for keys a later BEP may add. */
const MAX_DEPTH = 4;

export function metadataPieceCount(size: number): number {
  return size > 0 ? Math.ceil(size / METADATA_PIECE_LENGTH) : 0;
}

export function encodeMetadataMessage(message: MetadataMessage): Buffer {
  if (message.type !== 'data') return encodeBencode({ msg_type: MSG_TYPE[message.type], piece: message.piece });
  const head = encodeBencode({ msg_type: MSG_TYPE.data, piece: message.piece, total_size: message.totalSize });
  return Buffer.concat([head, message.data]);
}

function refuse(detail: string): never {
  throw new WireProtocolError('bad-metadata', `The peer's ut_metadata message ${detail}; the connection is closed.`);
}

function nonNegative(value: BencodeValue | undefined, key: string): number {
  const n = asInteger(value);
  if (n === undefined) refuse(`has no integer "${key}"`);
  if (n < 0) refuse(`has a negative "${key}" (${n})`);
  return n;
}

/** Throws WireProtocolError ('bad-metadata') for a malformed message; a data message's bytes are a view on `payload`. */
export function decodeMetadataMessage(payload: Buffer): ReceivedMetadataMessage {
  let dict: BencodeValue;
  let end: number;
  try {
    ({ value: dict, end } = decodeBencodePrefix(payload, { maxDepth: MAX_DEPTH }));
  } catch (e) {
    refuse(`does not start with valid bencode (${(e as Error).message})`);
  }
  if (!isDict(dict)) refuse('is not a bencoded dictionary');
  const msgType = asInteger(dict['msg_type']);
  if (msgType === undefined) refuse('has no integer "msg_type"');
  if (msgType !== MSG_TYPE.request && msgType !== MSG_TYPE.data && msgType !== MSG_TYPE.reject) {
    return { type: 'unknown', msgType };
  }
  const piece = nonNegative(dict['piece'], 'piece');
  const trailing = payload.length - end;
  if (msgType !== MSG_TYPE.data) {
    if (trailing > 0) refuse(`has ${trailing} bytes after its dictionary, which only a data message may have`);
    return { type: msgType === MSG_TYPE.request ? 'request' : 'reject', piece };
  }
  const totalSize = nonNegative(dict['total_size'], 'total_size');
  if (trailing > METADATA_PIECE_LENGTH) refuse(`carries ${trailing} bytes, more than a metadata piece (${METADATA_PIECE_LENGTH})`);
  return { type: 'data', piece, totalSize, data: payload.subarray(end) };
}
