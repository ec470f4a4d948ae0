import { defaultSettings as settings } from '../../src/io/settings.js';
import { encodeHandshake, encodeMessage } from '../../src/main/wire/wire-codec.js';
import type { WireMessage } from '../../src/main/wire/wire-messages.js';
import { WireParser, type ParseResult, type ParserEvent } from '../../src/main/wire/wire-parser.js';
import { feedChunks } from '../helpers/wire-feed.js';

const PIECE_COUNT = 21; // not a multiple of 8, so the bitfield has spare bits
const infoHash = Buffer.alloc(20, 0x11);
const peerId = Buffer.from('-XX0001-000000000000');

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function block(seed: number, length: number): Buffer {
  const next = random(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** What a peer could send after its handshake: every kind, 16 KiB pieces, keep-alives, an extended message. */
const messages: WireMessage[] = [
  { kind: 'bitfield', bits: Buffer.from([0xff, 0x0f, 0xa8]) },
  { kind: 'keep-alive' },
  { kind: 'unchoke' },
  { kind: 'interested' },
  { kind: 'have', index: 20 },
  { kind: 'extended', extId: 0, payload: Buffer.from('d1:md6:ut_pexi1ee1:pi6882ee') },
  { kind: 'request', index: 3, begin: 16384, length: 16384 },
  { kind: 'piece', index: 0, begin: 0, block: block(1, 16384) },
  { kind: 'keep-alive' },
  { kind: 'piece', index: 0, begin: 16384, block: block(2, 16384) },
  { kind: 'cancel', index: 3, begin: 16384, length: 16384 },
  { kind: 'piece', index: 7, begin: 32768, block: block(3, 16384) },
  { kind: 'port', port: 6881 },
  { kind: 'not-interested' },
  { kind: 'choke' },
  { kind: 'piece', index: 20, begin: 0, block: block(4, 1000) },
  { kind: 'extended', extId: 1, payload: Buffer.from('d5:added6:\x7f\x00\x00\x01\x1a\xe2e', 'latin1') },
  { kind: 'keep-alive' },
  { kind: 'have-all' },
  { kind: 'allowed-fast', index: 20 },
  { kind: 'suggest', index: 0 },
  { kind: 'reject', index: 3, begin: 16384, length: 16384 },
  { kind: 'have-none' },
];
const expected: ParserEvent[] = [{ kind: 'handshake', handshake: { reserved: Buffer.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]), infoHash, peerId } }, ...messages];
const stream = Buffer.concat([encodeHandshake(infoHash, peerId), ...messages.map(encodeMessage)]);

function parseChunks(chunks: Buffer[], parser?: WireParser): ParseResult {
  return feedChunks(chunks, PIECE_COUNT, parser);
}

/** An event's fields in one flat record, the handshake's included. */
function fields(event: ParserEvent): Record<string, unknown> {
  return event.kind === 'handshake' ? { kind: event.kind, ...event.handshake } : { ...event };
}

/** Compares events field by field, buffers with equals() (jest's deep equality is too slow for this many). */
function mismatch(actual: ParserEvent[], wanted: ParserEvent[]): string | null {
  if (actual.length !== wanted.length) return `${actual.length} events instead of ${wanted.length}`;
  for (let i = 0; i < wanted.length; i++) {
    const a = fields(actual[i]);
    const w = fields(wanted[i]);
    if (Object.keys(a).length !== Object.keys(w).length) return `event ${i} has other fields`;
    for (const [key, wv] of Object.entries(w)) {
      const av = a[key];
      const same = Buffer.isBuffer(wv) ? Buffer.isBuffer(av) && av.equals(wv) : av === wv;
      if (!same) return `event ${i} (${String(w.kind)}) differs in ${key}`;
    }
  }
  return null;
}

function split(buffer: Buffer, sizes: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < buffer.length; ) {
    const size = Math.min(sizes(), buffer.length - at);
    // Copies, as a socket delivers fresh buffers, so views cannot alias the test's stream.
    chunks.push(Buffer.from(buffer.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}

describe('a recorded stream', () => {
  test('parses in one chunk to the messages sent', () => {
    const result = parseChunks([stream]);
    expect(result.error).toBeUndefined();
    expect(mismatch(result.events, expected)).toBeNull();
  });

  test('split at every byte offset into two chunks parses the same', () => {
    for (let at = 0; at <= stream.length; at++) {
      const result = parseChunks([stream.subarray(0, at), stream.subarray(at)]);
      const problem = result.error?.message ?? mismatch(result.events, expected);
      if (problem !== null) throw new Error(`split at ${at}: ${problem}`);
    }
  });

  test('split into random chunk sizes parses the same', () => {
    const next = random(42);
    for (let run = 0; run < 150; run++) {
      // Small, medium and socket-sized chunks, so both headers and blocks straddle boundaries.
      const scale = [16, 1500, 40000][run % 3];
      const parser = new WireParser({ expectHandshake: true });
      const result = parseChunks(split(stream, () => 1 + Math.floor(next() * scale)), parser);
      const problem = result.error?.message ?? mismatch(result.events, expected);
      if (problem !== null) throw new Error(`run ${run}: ${problem}`);
      expect(parser.buffered).toBe(0);
    }
  });

  test('one byte at a time parses the same', () => {
    const result = parseChunks(split(stream, () => 1));
    expect(result.error).toBeUndefined();
    expect(mismatch(result.events, expected)).toBeNull();
  });
});

describe('piece blocks', () => {
  const piece = encodeMessage({ kind: 'piece', index: 1, begin: 16384, block: block(9, 16384) });

  test('a block wholly inside one chunk is a view on that chunk', () => {
    const chunk = Buffer.concat([encodeMessage({ kind: 'have', index: 1 }), piece, Buffer.from([0, 0])]);
    const parser = new WireParser({ expectHandshake: false });
    const { events } = parser.push(chunk);
    const event = events[1];
    if (event.kind !== 'piece') throw new Error('expected a piece');
    expect(event.block.buffer).toBe(chunk.buffer);
    expect(event.block.byteOffset).toBe(chunk.byteOffset + 9 + 13);
    expect(event.block.length).toBe(16384);
    expect(parser.buffered).toBe(2);
  });

  test('a block whose header is split but whose body lies in one chunk is still a view', () => {
    const second = Buffer.from(piece.subarray(6));
    const parser = new WireParser({ expectHandshake: false });
    expect(parser.push(Buffer.from(piece.subarray(0, 6))).events).toEqual([]);
    const event = parser.push(second).events[0];
    if (event.kind !== 'piece') throw new Error('expected a piece');
    expect(event.block.buffer).toBe(second.buffer);
  });

  test('a block spanning chunks is copied once into a buffer of exactly its size', () => {
    const parser = new WireParser({ expectHandshake: false });
    parser.push(Buffer.from(piece.subarray(0, 5000)));
    parser.push(Buffer.from(piece.subarray(5000, 9000)));
    const event = parser.push(Buffer.from(piece.subarray(9000))).events[0];
    if (event.kind !== 'piece') throw new Error('expected a piece');
    expect(event.block.byteOffset).toBe(0);
    expect(event.block.buffer.byteLength).toBe(16384);
    expect(event.block.equals(piece.subarray(13))).toBe(true);
  });
});

describe('pause after the handshake', () => {
  const after = Buffer.concat([
    encodeMessage({ kind: 'bitfield', bits: Buffer.from([0xff, 0xff, 0xf8]) }),
    encodeMessage({ kind: 'have', index: 3 }),
  ]);

  test('messages wait for setPieceCount, then drain() returns them', () => {
    const parser = new WireParser({ expectHandshake: true });
    const first = parser.push(Buffer.concat([encodeHandshake(infoHash, peerId), after.subarray(0, 7)]));
    expect(first.events.map((e) => e.kind)).toEqual(['handshake']);
    expect(parser.buffered).toBe(7);
    expect(parser.push(after.subarray(7)).events).toEqual([]);
    expect(parser.buffered).toBe(after.length);
    parser.setPieceCount(PIECE_COUNT);
    const drained = parser.drain();
    expect(drained.error).toBeUndefined();
    expect(drained.events).toEqual([
      { kind: 'bitfield', bits: Buffer.from([0xff, 0xff, 0xf8]) },
      { kind: 'have', index: 3 },
    ]);
    expect(parser.buffered).toBe(0);
  });

  test('the checks that need the torrent apply to the kept bytes', () => {
    const parser = new WireParser({ expectHandshake: true });
    parser.push(Buffer.concat([encodeHandshake(infoHash, peerId), after]));
    parser.setPieceCount(3);
    expect(parser.drain().error?.reason).toBe('bad-length');
  });

  test('no pause when the piece count was given before the handshake', () => {
    const parser = new WireParser({ expectHandshake: true });
    parser.setPieceCount(PIECE_COUNT);
    const { events } = parser.push(Buffer.concat([encodeHandshake(infoHash, peerId), after]));
    expect(events.map((e) => e.kind)).toEqual(['handshake', 'bitfield', 'have']);
  });

  test('without a handshake, messages parse at once', () => {
    const parser = new WireParser({ expectHandshake: false });
    expect(parser.push(encodeMessage({ kind: 'unchoke' })).events).toEqual([{ kind: 'unchoke' }]);
  });
});

describe('a message sent a byte at a time', () => {
  test('is held in few buffers and read in time (was one Buffer per byte: 60 MB and minutes for 256 KiB)', () => {
    const payload = block(5, settings.maxExtendedMessageLength - 1);
    const stream = encodeMessage({ kind: 'extended', extId: 1, payload });
    const parser = new WireParser({ expectHandshake: false });
    let early = 0;
    for (let i = 0; i < stream.length - 1; i++) early += parser.push(stream.subarray(i, i + 1)).events.length;
    expect(early).toBe(0);
    // All but the last byte, less the length prefix and id already read.
    expect(parser.buffered).toBe(stream.length - 1 - 5);
    expect(parser.heldChunks).toBeLessThanOrEqual(Math.ceil(parser.buffered / 1024));
    const { events } = parser.push(stream.subarray(stream.length - 1));
    expect(events).toHaveLength(1);
    expect((events[0] as { payload: Buffer }).payload.equals(payload)).toBe(true);
  });
});

describe('unknown message ids', () => {
  test('are skipped without an event, even when split, and without buffering their body', () => {
    // BEP 52's hash request (id 21, 48 bytes of body), which we do not speak.
    const hashRequest = Buffer.concat([Buffer.from([0, 0, 0, 49, 21]), Buffer.alloc(48, 1)]);
    const big = Buffer.concat([Buffer.from([0, 0, 0x40, 0x01, 99]), Buffer.alloc(0x4000, 0xee)]);
    const have = encodeMessage({ kind: 'have', index: 2 });
    const parser = new WireParser({ expectHandshake: false });
    expect(parser.push(hashRequest).events).toEqual([]);
    expect(parser.push(big.subarray(0, 9000)).events).toEqual([]);
    expect(parser.buffered).toBe(0);
    const { events, error } = parser.push(Buffer.concat([big.subarray(9000), have]));
    expect(error).toBeUndefined();
    expect(events).toEqual([{ kind: 'have', index: 2 }]);
  });
});

describe('malformed input is refused', () => {
  function refuse(bytes: Buffer, options: { pieceCount?: number; maxFrameLength?: number } = {}): ParseResult {
    const parser = new WireParser({ expectHandshake: false, maxFrameLength: options.maxFrameLength });
    if (options.pieceCount !== undefined) parser.setPieceCount(options.pieceCount);
    const result = parser.push(bytes);
    expect(result.error).toBeDefined();
    expect(parser.buffered).toBe(0);
    // A dead parser keeps answering with the same error.
    const again = parser.push(encodeMessage({ kind: 'choke' }));
    expect(again.error).toBe(result.error);
    expect(again.events).toEqual([]);
    expect(parser.drain().error).toBe(result.error);
    return result;
  }

  function frame(length: number, id: number, bodyBytes = length - 1): Buffer {
    const out = Buffer.alloc(5 + Math.max(0, bodyBytes));
    out.writeUInt32BE(length, 0);
    out[4] = id;
    return out;
  }

  test('a handshake whose pstrlen is not 19, as soon as its first byte arrives', () => {
    const parser = new WireParser({ expectHandshake: true });
    const result = parser.push(Buffer.from([18]));
    expect(result.error?.reason).toBe('bad-handshake');
    expect(result.error?.message).toMatch(/19/);
  });

  test('a handshake naming another protocol', () => {
    const bytes = encodeHandshake(infoHash, peerId);
    bytes.write('X', 5, 'latin1');
    const parser = new WireParser({ expectHandshake: true });
    expect(parser.push(bytes.subarray(0, 4)).error).toBeUndefined();
    expect(parser.push(bytes.subarray(4, 6)).error?.reason).toBe('bad-handshake');
  });

  test('a frame over the limit, after only its 4 prefix bytes', () => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(settings.maxFrameLength + 1);
    expect(refuse(prefix).error?.reason).toBe('frame-too-long');
    expect(refuse(Buffer.from([0, 0, 1, 1]), { maxFrameLength: 256 }).error?.message).toMatch(/257 bytes/);
    expect(refuse(Buffer.from([0xff, 0xff, 0xff, 0xff])).error?.reason).toBe('frame-too-long');
  });

  test('a frame at the limit is accepted', () => {
    const parser = new WireParser({ expectHandshake: false, maxFrameLength: 300 });
    const result = parser.push(frame(300, 99));
    expect(result).toEqual({ events: [] });
  });

  const badLengths: [string, number, number][] = [
    ['choke', 0, 2],
    ['unchoke', 1, 2],
    ['interested', 2, 5],
    ['not-interested', 3, 2],
    ['have', 4, 4],
    ['have', 4, 6],
    ['request', 6, 12],
    ['request', 6, 14],
    ['piece', 7, 8],
    ['piece', 7, 9 + settings.maxRequestLength + 1],
    ['cancel', 8, 14],
    ['port', 9, 2],
    ['port', 9, 4],
    ['extended', 20, 1],
    ['extended', 20, 1 + settings.maxExtendedMessageLength + 1],
    ['bitfield', 5, 2], // 21 pieces take 3 bytes
    ['bitfield', 5, 5],
    ['suggest-piece', 13, 4],
    ['suggest-piece', 13, 6],
    ['have-all', 14, 2],
    ['have-none', 15, 5],
    ['reject-request', 16, 12],
    ['reject-request', 16, 14],
    ['allowed-fast', 17, 4],
    ['allowed-fast', 17, 6],
  ];
  test.each(badLengths)('a %s message (id %i) of length %i, before its body is read', (name, id, length) => {
    // Only the prefix and the id are pushed: the length table decides before any body arrives.
    const result = refuse(frame(length, id, 0), { pieceCount: PIECE_COUNT });
    expect(result.error?.reason).toBe('bad-length');
    expect(result.error?.message).toContain(`${name} message of length ${length}`);
  });

  test('messages just inside their limits are accepted', () => {
    const parser = new WireParser({ expectHandshake: false });
    const piece = encodeMessage({ kind: 'piece', index: 0, begin: 0, block: Buffer.alloc(settings.maxRequestLength) });
    const extended = encodeMessage({ kind: 'extended', extId: 2, payload: Buffer.alloc(settings.maxExtendedMessageLength - 1) });
    const result = parser.push(Buffer.concat([piece, extended]));
    expect(result.error).toBeUndefined();
    expect(result.events.map((e) => e.kind)).toEqual(['piece', 'extended']);
  });

  test('a bitfield with spare bits set', () => {
    const bits = Buffer.from([0xff, 0xff, 0xfc]); // 22 bits set, 21 pieces
    const result = refuse(encodeMessage({ kind: 'bitfield', bits }), { pieceCount: PIECE_COUNT });
    expect(result.error?.reason).toBe('bad-bitfield');
    const full = new WireParser({ expectHandshake: false });
    full.setPieceCount(16);
    expect(full.push(encodeMessage({ kind: 'bitfield', bits: Buffer.from([0xff, 0xff]) })).error).toBeUndefined();
  });

  test('a have index past the last piece', () => {
    const result = refuse(encodeMessage({ kind: 'have', index: PIECE_COUNT }), { pieceCount: PIECE_COUNT });
    expect(result.error?.reason).toBe('bad-have');
    expect(result.error?.message).toContain(`piece ${PIECE_COUNT}`);
  });

  test.each([
    ['suggest-piece', { kind: 'suggest', index: PIECE_COUNT }],
    ['allowed-fast', { kind: 'allowed-fast', index: PIECE_COUNT + 1000 }],
  ] as [string, WireMessage][])('a %s index past the last piece', (name, message) => {
    const result = refuse(encodeMessage(message), { pieceCount: PIECE_COUNT });
    expect(result.error?.reason).toBe('bad-piece-index');
    expect(result.error?.message).toContain(`${name} for piece ${(message as { index: number }).index}`);
  });

  test('events before the error are still returned', () => {
    const parser = new WireParser({ expectHandshake: false });
    const result = parser.push(Buffer.concat([encodeMessage({ kind: 'interested' }), frame(2, 0)]));
    expect(result.events).toEqual([{ kind: 'interested' }]);
    expect(result.error?.reason).toBe('bad-length');
  });
});
