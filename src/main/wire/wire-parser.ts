/**
 * Incremental parser of the peer wire protocol: a small state machine over a queue of received
 * chunks. It never joins received chunks (only those under 1 KiB are gathered into one buffer),
 * any split of the stream yields the same messages, and it checks every length against the
 * table in wire-messages.ts before waiting for a body.
 */
import { copyBytes } from '../../io/byte-copy.js';
import { defaultSettings } from '../../io/settings.js';
import {
  HANDSHAKE_LENGTH,
  MessageId,
  PROTOCOL_NAME,
  WireProtocolError,
  lengthRule,
  type Handshake,
  type LengthRule,
  type WireMessage,
} from './wire-messages.js';

export type ParserEvent = { kind: 'handshake'; handshake: Handshake } | WireMessage;

export interface ParseResult {
  events: ParserEvent[];
  error?: WireProtocolError;
}

/**
 * Where a block should land: given a piece message's header, a Buffer of exactly `length` bytes
 * (a slot of the shared slab), or undefined to let the parser keep the block itself.
 */
export type BlockDestination = (index: number, begin: number, length: number) => Buffer | undefined;

export interface WireParserOptions {
  /** True when the stream starts with the BitTorrent handshake. */
  expectHandshake: boolean;
  /** Largest length prefix accepted. */
  maxFrameLength?: number;
}

/**
 * Received chunks shorter than this are copied into a tail buffer of TAIL_LENGTH bytes rather
 * than held one by one. A peer that sends a long message a byte per TCP segment would otherwise
 * make the queue hold one Buffer per byte (some 200 bytes of memory each), and shifting the
 * front off an array of more than 16 384 chunks is a memmove of the whole array: a 256 KiB
 * message sent that way held 60 MB and took minutes to read.
 */
export const SMALL_CHUNK = 1024;
export const TAIL_LENGTH = 4 * SMALL_CHUNK;

/** Received chunks not yet parsed, read front to back without joining them. */
class ByteQueue {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already read. */
  private offset = 0;
  length = 0;
  /** Where small chunks are gathered; only ever appended to, so views handed out stay valid. */
  private tail: Buffer | undefined;
  private tailEnd = 0;
  /** Start in the tail of the last held chunk, while that chunk is a view of the tail that may grow. */
  private tailStart = -1;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.length += chunk.length;
    if (chunk.length >= SMALL_CHUNK) {
      this.chunks.push(chunk);
      this.tailStart = -1;
      return;
    }
    if (this.tail === undefined || this.tailEnd + chunk.length > this.tail.length) {
      this.tail = Buffer.allocUnsafeSlow(TAIL_LENGTH);
      this.tailEnd = 0;
      this.tailStart = -1;
    }
    chunk.copy(this.tail, this.tailEnd);
    this.tailEnd += chunk.length;
    if (this.tailStart >= 0 && this.chunks.length > 0) {
      // The grown view keeps its start, so the read offset into it stays right when it is the front.
      this.chunks[this.chunks.length - 1] = this.tail.subarray(this.tailStart, this.tailEnd);
    } else {
      this.tailStart = this.tailEnd - chunk.length;
      this.chunks.push(this.tail.subarray(this.tailStart, this.tailEnd));
    }
  }

  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
    this.length = 0;
    this.tail = undefined;
    this.tailStart = -1;
  }

  /** Buffers held: received chunks, and views of the tail. */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Byte `i` ahead of the read position, left unread. */
  peek(i: number): number {
    let at = this.offset + i;
    for (const chunk of this.chunks) {
      if (at < chunk.length) return chunk[at];
      at -= chunk.length;
    }
    throw new RangeError(`peek at ${i} past the ${this.length} bytes held`);
  }

  /** Marks `n` bytes of the front chunk read; the caller never asks for more than it holds. */
  private consume(n: number): void {
    this.length -= n;
    this.offset += n;
    if (this.offset === this.chunks[0].length) {
      // Small chunks share a tail buffer, so few are held, and V8 shifts short arrays in place.
      this.chunks.shift();
      this.offset = 0;
      if (this.chunks.length === 0) this.tailStart = -1;
    }
  }

  readUint8(): number {
    const value = this.chunks[0][this.offset];
    this.consume(1);
    return value;
  }

  readUint16(): number {
    const front = this.chunks[0];
    if (this.offset + 2 <= front.length) {
      const value = front.readUInt16BE(this.offset);
      this.consume(2);
      return value;
    }
    return (this.readUint8() << 8) | this.readUint8();
  }

  readUint32(): number {
    const front = this.chunks[0];
    if (this.offset + 4 <= front.length) {
      const value = front.readUInt32BE(this.offset);
      this.consume(4);
      return value;
    }
    // Multiplying the top byte keeps the result unsigned.
    return this.readUint8() * 0x1000000 + ((this.readUint8() << 16) | (this.readUint8() << 8) | this.readUint8());
  }

  /**
   * `n` bytes: a view when they lie in one chunk, else one copy of exactly their size, made into
   * `destination` when one is given.
   */
  take(n: number, destination?: Buffer): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const front = this.chunks[0];
    if (this.offset + n <= front.length) {
      const view = front.subarray(this.offset, this.offset + n);
      this.consume(n);
      return view;
    }
    const out = destination ?? Buffer.allocUnsafeSlow(n);
    this.readInto(out);
    return out;
  }

  readInto(target: Buffer): void {
    let filled = 0;
    while (filled < target.length) {
      const front = this.chunks[0];
      const n = Math.min(target.length - filled, front.length - this.offset);
      copyBytes(front.subarray(this.offset, this.offset + n), target, filled);
      filled += n;
      this.consume(n);
    }
  }

  skip(n: number): void {
    while (n > 0) {
      const k = Math.min(n, this.chunks[0].length - this.offset);
      this.consume(k);
      n -= k;
    }
  }
}

/**
 * handshake: waiting for the 68 handshake bytes; paused: handshake returned, piece count unknown;
 * prefix: waiting for a length prefix; id: waiting for the id byte; body: waiting for the whole
 * body of a known message; skip: discarding the body of an unknown one.
 */
type State = 'handshake' | 'paused' | 'prefix' | 'id' | 'body' | 'skip';

// Messages without fields are shared rather than allocated for each arrival.
const KEEP_ALIVE: WireMessage = Object.freeze({ kind: 'keep-alive' });
const CHOKE: WireMessage = Object.freeze({ kind: 'choke' });
const UNCHOKE: WireMessage = Object.freeze({ kind: 'unchoke' });
const INTERESTED: WireMessage = Object.freeze({ kind: 'interested' });
const NOT_INTERESTED: WireMessage = Object.freeze({ kind: 'not-interested' });
const HAVE_ALL: WireMessage = Object.freeze({ kind: 'have-all' });
const HAVE_NONE: WireMessage = Object.freeze({ kind: 'have-none' });

function describeRule(rule: LengthRule): string {
  return rule.min === rule.max ? `exactly ${rule.min}` : `between ${rule.min} and ${rule.max}`;
}

export class WireParser {
  private readonly queue = new ByteQueue();
  private readonly maxFrameLength: number;
  private state: State;
  private pieceCount: number | undefined;
  private error: WireProtocolError | undefined;
  /** Bytes of the current frame not yet read: after its prefix in state id, after its id in body and skip. */
  private remaining = 0;
  /** Id of the message whose body is awaited. */
  private id = 0;
  private blockDestination: BlockDestination | undefined;

  constructor(options: WireParserOptions) {
    this.state = options.expectHandshake ? 'handshake' : 'prefix';
    this.maxFrameLength = options.maxFrameLength ?? defaultSettings.maxFrameLength;
  }

  /**
   * Appends a chunk and parses what it can. The chunk must not be modified afterwards: message
   * buffers may be views on it. After an error the parser is dead (further calls return the same
   * error) and the caller closes the connection.
   */
  push(chunk: Buffer): ParseResult {
    if (this.error !== undefined) return { events: [], error: this.error };
    this.queue.push(chunk);
    return this.parse();
  }

  /**
   * Enables the bitfield and have checks. After the handshake event, parsing waits for this call
   * (unless it was made before the handshake); drain() then parses the bytes kept meanwhile.
   */
  setPieceCount(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`piece count must be a non-negative integer, got ${count}`);
    this.pieceCount = count;
    if (this.state === 'paused') this.state = 'prefix';
  }

  /**
   * Parses on without the bitfield and have checks: for a torrent whose metadata is still being
   * fetched (a magnet), whose piece count nobody knows yet.
   */
  parseWithoutPieceCount(): void {
    this.pieceCount = undefined;
    if (this.state === 'paused') this.state = 'prefix';
  }

  /**
   * Lets a block that spans received chunks be copied straight into its final place, so that
   * every block is copied exactly once (a block inside one chunk is returned as a view of it).
   */
  setBlockDestination(destination: BlockDestination): void {
    this.blockDestination = destination;
  }

  drain(): ParseResult {
    if (this.error !== undefined) return { events: [], error: this.error };
    return this.parse();
  }

  /** Bytes held and not yet parsed (for memory accounting). */
  get buffered(): number {
    return this.queue.length;
  }

  /** Buffers holding those bytes; small received chunks share one, so this stays near one per KiB. */
  get heldChunks(): number {
    return this.queue.chunkCount;
  }

  private parse(): ParseResult {
    const events: ParserEvent[] = [];
    const error = this.parseInto(events);
    if (error === undefined) return { events };
    this.error = error;
    this.queue.clear();
    return { events, error };
  }

  private parseInto(events: ParserEvent[]): WireProtocolError | undefined {
    const queue = this.queue;
    for (;;) {
      switch (this.state) {
        case 'handshake': {
          const error = this.checkHandshakeStart();
          if (error !== undefined) return error;
          if (queue.length < HANDSHAKE_LENGTH) return undefined;
          events.push({ kind: 'handshake', handshake: this.readHandshake() });
          this.state = this.pieceCount === undefined ? 'paused' : 'prefix';
          break;
        }
        case 'paused':
          return undefined;
        case 'prefix': {
          if (queue.length < 4) return undefined;
          const length = queue.readUint32();
          if (length > this.maxFrameLength) {
            return new WireProtocolError(
              'frame-too-long',
              `The peer announced a message of ${length} bytes, over the limit of ${this.maxFrameLength} bytes (maxFrameLength); it is broken or hostile, so the connection is closed.`,
            );
          }
          if (length === 0) {
            events.push(KEEP_ALIVE);
          } else {
            this.remaining = length;
            this.state = 'id';
          }
          break;
        }
        case 'id': {
          if (queue.length === 0) return undefined;
          const id = queue.readUint8();
          const length = this.remaining;
          this.remaining = length - 1;
          const rule = lengthRule(id, this.pieceCount);
          if (rule === undefined) {
            this.state = 'skip';
          } else if (length < rule.min || length > rule.max) {
            return new WireProtocolError(
              'bad-length',
              `The peer sent a ${rule.name} message of length ${length}, which must be ${describeRule(rule)} (id byte included); the peer breaks the protocol, so the connection is closed.`,
            );
          } else {
            this.id = id;
            this.state = 'body';
          }
          break;
        }
        case 'body': {
          if (queue.length < this.remaining) return undefined;
          const message = this.readBody();
          if (message instanceof WireProtocolError) return message;
          events.push(message);
          this.state = 'prefix';
          break;
        }
        case 'skip': {
          const n = Math.min(this.remaining, queue.length);
          queue.skip(n);
          this.remaining -= n;
          if (this.remaining > 0) return undefined;
          this.state = 'prefix';
          break;
        }
      }
    }
  }

  /** Refuses a stream that is not a BitTorrent handshake as soon as enough of it has arrived. */
  private checkHandshakeStart(): WireProtocolError | undefined {
    const queue = this.queue;
    if (queue.length === 0) return undefined;
    const pstrlen = queue.peek(0);
    if (pstrlen !== PROTOCOL_NAME.length) {
      return new WireProtocolError(
        'bad-handshake',
        `The peer's handshake starts with byte ${pstrlen} instead of 19: it does not speak the plain BitTorrent protocol (encryption is not supported), so the connection is closed.`,
      );
    }
    const known = Math.min(queue.length - 1, PROTOCOL_NAME.length);
    for (let i = 0; i < known; i++) {
      if (queue.peek(1 + i) !== PROTOCOL_NAME.charCodeAt(i)) {
        return new WireProtocolError(
          'bad-handshake',
          `The peer's handshake does not name the "${PROTOCOL_NAME}" protocol, so the connection is closed.`,
        );
      }
    }
    return undefined;
  }

  private readHandshake(): Handshake {
    this.queue.skip(1 + PROTOCOL_NAME.length);
    // Copied, not viewed: the handshake lives as long as the connection and would pin a whole chunk.
    const fields = Buffer.alloc(HANDSHAKE_LENGTH - 1 - PROTOCOL_NAME.length);
    this.queue.readInto(fields);
    return { reserved: fields.subarray(0, 8), infoHash: fields.subarray(8, 28), peerId: fields.subarray(28, 48) };
  }

  /** Reads the body of message `this.id`, whose `this.remaining` bytes are all held. */
  private readBody(): WireMessage | WireProtocolError {
    const queue = this.queue;
    const length = this.remaining;
    switch (this.id) {
      case MessageId.choke:
        return CHOKE;
      case MessageId.unchoke:
        return UNCHOKE;
      case MessageId.interested:
        return INTERESTED;
      case MessageId.notInterested:
        return NOT_INTERESTED;
      case MessageId.have: {
        const index = queue.readUint32();
        if (this.pieceCount !== undefined && index >= this.pieceCount) {
          return new WireProtocolError(
            'bad-have',
            `The peer announced piece ${index}, but the torrent has ${this.pieceCount} pieces (0 to ${this.pieceCount - 1}); the peer breaks the protocol, so the connection is closed.`,
          );
        }
        return { kind: 'have', index };
      }
      case MessageId.bitfield: {
        const bits = queue.take(length);
        if (this.pieceCount !== undefined && this.pieceCount % 8 !== 0) {
          const spare = 8 - (this.pieceCount % 8);
          if ((bits[bits.length - 1] & ((1 << spare) - 1)) !== 0) {
            return new WireProtocolError(
              'bad-bitfield',
              `The peer's bitfield has bits set past the last of the torrent's ${this.pieceCount} pieces; the peer breaks the protocol, so the connection is closed.`,
            );
          }
        }
        return { kind: 'bitfield', bits };
      }
      case MessageId.request:
        return { kind: 'request', index: queue.readUint32(), begin: queue.readUint32(), length: queue.readUint32() };
      case MessageId.cancel:
        return { kind: 'cancel', index: queue.readUint32(), begin: queue.readUint32(), length: queue.readUint32() };
      case MessageId.piece: {
        const index = queue.readUint32();
        const begin = queue.readUint32();
        const destination = this.blockDestination?.(index, begin, length - 8);
        return { kind: 'piece', index, begin, block: queue.take(length - 8, destination?.length === length - 8 ? destination : undefined) };
      }
      case MessageId.port:
        return { kind: 'port', port: queue.readUint16() };
      case MessageId.suggest: {
        const index = this.readIndex('suggest-piece');
        return typeof index === 'number' ? { kind: 'suggest', index } : index;
      }
      case MessageId.haveAll:
        return HAVE_ALL;
      case MessageId.haveNone:
        return HAVE_NONE;
      case MessageId.reject:
        return { kind: 'reject', index: queue.readUint32(), begin: queue.readUint32(), length: queue.readUint32() };
      case MessageId.allowedFast: {
        const index = this.readIndex('allowed-fast');
        return typeof index === 'number' ? { kind: 'allowed-fast', index } : index;
      }
      case MessageId.extended: {
        const extId = queue.readUint8();
        return { kind: 'extended', extId, payload: queue.take(length - 1) };
      }
      default:
        // The length table only lets known ids reach this point.
        throw new Error(`no reader for message id ${this.id}`);
    }
  }

  /** The piece index of a BEP 6 suggest-piece or allowed-fast message, which must exist. */
  private readIndex(name: string): number | WireProtocolError {
    const index = this.queue.readUint32();
    if (this.pieceCount === undefined || index < this.pieceCount) return index;
    return new WireProtocolError(
      'bad-piece-index',
      `The peer sent ${name} for piece ${index}, but the torrent has ${this.pieceCount} pieces (0 to ${this.pieceCount - 1}); the peer breaks the protocol, so the connection is closed.`,
    );
  }
}
