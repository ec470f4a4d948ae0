/**
 * The BEP 10 extension handshake: the bencoded dictionary carried by extended message 0.
 * Decoding is tolerant, as the BEP asks: unknown keys are ignored and values of the wrong type
 * dropped, so that one odd field does not cost a peer; only a payload that is not a bencoded
 * dictionary is refused.
 */
import { asBytes, asInteger, asText, decodeBencode, encodeBencode, isDict, type BencodeValue } from '../../io/bencode.js';
import { WireProtocolError } from './wire-messages.js';

export interface ExtensionHandshake {
  /** Extension name to the id the sender wants it sent with; 0 disables it. */
  m: Record<string, number>;
  /** The sender's listening port. */
  p?: number;
  /** Client name and version. */
  v?: string;
  /** Requests the sender queues without dropping. */
  reqq?: number;
  /** Our address as the sender sees it (4 or 16 bytes). */
  yourip?: Buffer;
  /** Bytes of the torrent's info dictionary, which the sender gives out with ut_metadata (BEP 9). */
  metadata_size?: number;
}

/** The ids under which we accept each extension message (our handshake's `m`). */
export const LOCAL_EXTENSION_IDS = { ut_pex: 1, ut_metadata: 2 } as const;

const MAX_EXTENSION_ID = 255;
const MAX_PORT = 65535;

export function encodeExtensionHandshake(h: ExtensionHandshake): Buffer {
  return encodeBencode({ m: h.m, p: h.p, v: h.v, reqq: h.reqq, yourip: h.yourip, metadata_size: h.metadata_size });
}

function inRange(v: BencodeValue | undefined, min: number, max: number): number | undefined {
  const n = asInteger(v);
  return n !== undefined && n >= min && n <= max ? n : undefined;
}

export function decodeExtensionHandshake(payload: Buffer): ExtensionHandshake {
  let dict: BencodeValue;
  try {
    dict = decodeBencode(payload);
  } catch (e) {
    throw new WireProtocolError(
      'bad-extension-handshake',
      `The peer's extension handshake is not valid bencode (${(e as Error).message}); the connection is closed.`,
    );
  }
  if (!isDict(dict)) {
    throw new WireProtocolError(
      'bad-extension-handshake',
      "The peer's extension handshake is not a bencoded dictionary; the connection is closed.",
    );
  }
  // No prototype, so that a peer's key such as "__proto__" is just a name.
  const m = Object.create(null) as Record<string, number>;
  const names = dict.m;
  if (isDict(names)) {
    for (const name of Object.keys(names)) {
      const id = inRange(names[name], 0, MAX_EXTENSION_ID);
      if (id !== undefined) m[name] = id;
    }
  }
  const out: ExtensionHandshake = { m };
  const p = inRange(dict.p, 1, MAX_PORT);
  if (p !== undefined) out.p = p;
  const v = asText(dict.v);
  if (v !== undefined) out.v = v;
  const reqq = inRange(dict.reqq, 1, Number.MAX_SAFE_INTEGER);
  if (reqq !== undefined) out.reqq = reqq;
  const yourip = asBytes(dict.yourip);
  // Copied: the payload may be a view on a received chunk.
  if (yourip !== undefined && (yourip.length === 4 || yourip.length === 16)) out.yourip = Buffer.from(yourip);
  // Any positive size is kept here; whether it is acceptable is the metadata fetch's to judge.
  const metadataSize = inRange(dict.metadata_size, 1, Number.MAX_SAFE_INTEGER);
  if (metadataSize !== undefined) out.metadata_size = metadataSize;
  return out;
}
