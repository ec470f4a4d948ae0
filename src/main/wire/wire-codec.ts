/** Encoding of the handshake and of peer wire messages, each into one buffer of its exact size. */
import {
  DHT_BIT,
  DHT_BYTE,
  EXTENSION_PROTOCOL_BIT,
  EXTENSION_PROTOCOL_BYTE,
  FAST_EXTENSION_BIT,
  FAST_EXTENSION_BYTE,
  HANDSHAKE_LENGTH,
  MessageId,
  PROTOCOL_NAME,
  type WireMessage,
} from './wire-messages.js';

const HASH_LENGTH = 20;
/** Length prefix, id, index, begin. */
export const PIECE_HEADER_LENGTH = 4 + 1 + 4 + 4;

/**
 * Our handshake: we speak BEP 10 and BEP 6 (the Fast extension) with every peer; with `dht`, we
 * also say that we run a DHT node (BEP 5), in swarms that are not private while the DHT is on.
 */
export function encodeHandshake(infoHash: Buffer, peerId: Buffer, options: { dht?: boolean } = {}): Buffer {
  if (infoHash.length !== HASH_LENGTH) throw new RangeError(`info hash must be 20 bytes, got ${infoHash.length}`);
  if (peerId.length !== HASH_LENGTH) throw new RangeError(`peer id must be 20 bytes, got ${peerId.length}`);
  const out = Buffer.alloc(HANDSHAKE_LENGTH);
  out[0] = PROTOCOL_NAME.length;
  out.write(PROTOCOL_NAME, 1, 'latin1');
  const reserved = 1 + PROTOCOL_NAME.length;
  out[reserved + EXTENSION_PROTOCOL_BYTE] = EXTENSION_PROTOCOL_BIT;
  out[reserved + FAST_EXTENSION_BYTE] = FAST_EXTENSION_BIT;
  if (options.dht) out[reserved + DHT_BYTE] |= DHT_BIT;
  infoHash.copy(out, reserved + 8);
  peerId.copy(out, reserved + 8 + HASH_LENGTH);
  return out;
}

/** A frame with room for `bodyLength` bytes after the id; the caller fills the body. */
function frame(id: number, bodyLength: number): Buffer {
  const out = Buffer.allocUnsafe(4 + 1 + bodyLength);
  out.writeUInt32BE(1 + bodyLength, 0);
  out[4] = id;
  return out;
}

/** have, suggest and allowed-fast: a piece index alone. */
function pieceIndex(id: number, index: number): Buffer {
  const out = frame(id, 4);
  out.writeUInt32BE(index, 5);
  return out;
}

/** request, cancel and reject share their layout. */
function blockReference(id: number, index: number, begin: number, length: number): Buffer {
  const out = frame(id, 12);
  out.writeUInt32BE(index, 5);
  out.writeUInt32BE(begin, 9);
  out.writeUInt32BE(length, 13);
  return out;
}

/** Several REQUEST messages in one buffer, so that a batch costs one socket write. */
export function encodeRequests(blocks: readonly { index: number; begin: number; length: number }[]): Buffer {
  const out = Buffer.allocUnsafe(blocks.length * 17);
  blocks.forEach((block, i) => {
    const at = i * 17;
    out.writeUInt32BE(13, at);
    out[at + 4] = MessageId.request;
    out.writeUInt32BE(block.index, at + 5);
    out.writeUInt32BE(block.begin, at + 9);
    out.writeUInt32BE(block.length, at + 13);
  });
  return out;
}

function writePieceHeader(out: Buffer, index: number, begin: number, blockLength: number): void {
  out.writeUInt32BE(1 + 8 + blockLength, 0);
  out[4] = MessageId.piece;
  out.writeUInt32BE(index, 5);
  out.writeUInt32BE(begin, 9);
}

/** The 13 bytes before a block, so that the block can be written after them without a copy. */
export function encodePieceHeader(index: number, begin: number, blockLength: number): Buffer {
  const out = Buffer.allocUnsafe(PIECE_HEADER_LENGTH);
  writePieceHeader(out, index, begin, blockLength);
  return out;
}

export function encodeMessage(msg: WireMessage): Buffer {
  switch (msg.kind) {
    case 'keep-alive':
      return Buffer.alloc(4);
    case 'choke':
      return frame(MessageId.choke, 0);
    case 'unchoke':
      return frame(MessageId.unchoke, 0);
    case 'interested':
      return frame(MessageId.interested, 0);
    case 'not-interested':
      return frame(MessageId.notInterested, 0);
    case 'have':
      return pieceIndex(MessageId.have, msg.index);
    case 'bitfield': {
      const out = frame(MessageId.bitfield, msg.bits.length);
      msg.bits.copy(out, 5);
      return out;
    }
    case 'request':
      return blockReference(MessageId.request, msg.index, msg.begin, msg.length);
    case 'cancel':
      return blockReference(MessageId.cancel, msg.index, msg.begin, msg.length);
    case 'piece': {
      const out = Buffer.allocUnsafe(PIECE_HEADER_LENGTH + msg.block.length);
      writePieceHeader(out, msg.index, msg.begin, msg.block.length);
      msg.block.copy(out, PIECE_HEADER_LENGTH);
      return out;
    }
    case 'port': {
      const out = frame(MessageId.port, 2);
      out.writeUInt16BE(msg.port, 5);
      return out;
    }
    case 'suggest':
      return pieceIndex(MessageId.suggest, msg.index);
    case 'have-all':
      return frame(MessageId.haveAll, 0);
    case 'have-none':
      return frame(MessageId.haveNone, 0);
    case 'reject':
      return blockReference(MessageId.reject, msg.index, msg.begin, msg.length);
    case 'allowed-fast':
      return pieceIndex(MessageId.allowedFast, msg.index);
    case 'extended': {
      const out = frame(MessageId.extended, 1 + msg.payload.length);
      out.writeUInt8(msg.extId, 5);
      msg.payload.copy(out, 6);
      return out;
    }
  }
}
