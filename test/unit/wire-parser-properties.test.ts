/**
 * Properties of the peer wire parser (fast-check; seed and run count: test/helpers/property.ts):
 * encoded messages come back the same however the stream is cut; any stream, random or a damaged
 * valid one, gives messages and at most one WireProtocolError, never another exception, the same
 * for every split, and never an allocation for a length that was only declared.
 */
import fc from 'fast-check';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { encodeHandshake, encodeMessage } from '../../src/main/wire/wire-codec.js';
import { HANDSHAKE_LENGTH, WireProtocolError, type WireMessage } from '../../src/main/wire/wire-messages.js';
import { SMALL_CHUNK, TAIL_LENGTH, WireParser, type ParserEvent } from '../../src/main/wire/wire-parser.js';
import { allocations, mutated, propertyRuns, randomBytes } from '../helpers/property.js';
import { feedChunks } from '../helpers/wire-feed.js';

const PIECE_COUNT = 21; // not a multiple of 8, so the bitfield has spare bits
const uint32 = fc.nat({ max: 0xffffffff });
const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));

/** Every message kind, valid for a torrent of PIECE_COUNT pieces. */
const message: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.constantFrom<WireMessage>({ kind: 'keep-alive' }, { kind: 'choke' }, { kind: 'unchoke' }, { kind: 'interested' }, { kind: 'not-interested' }),
  fc.record({ kind: fc.constant('have' as const), index: fc.nat(PIECE_COUNT - 1) }),
  fc
    .uint8Array({ minLength: 3, maxLength: 3 })
    .map((b): WireMessage => ({ kind: 'bitfield', bits: Buffer.from([b[0], b[1], b[2] & 0xf8]) })),
  fc.record({ kind: fc.constantFrom('request' as const, 'cancel' as const), index: uint32, begin: uint32, length: uint32 }),
  fc.record({ kind: fc.constant('piece' as const), index: uint32, begin: uint32, block: fc.oneof(bytes(600), fc.constant(Buffer.alloc(settings.maxRequestLength, 7))) }),
  fc.record({ kind: fc.constant('port' as const), port: fc.nat(0xffff) }),
  fc.constantFrom<WireMessage>({ kind: 'have-all' }, { kind: 'have-none' }),
  fc.record({ kind: fc.constantFrom('suggest' as const, 'allowed-fast' as const), index: fc.nat(PIECE_COUNT - 1) }),
  fc.record({ kind: fc.constant('reject' as const), index: uint32, begin: uint32, length: uint32 }),
  fc.record({ kind: fc.constant('extended' as const), extId: fc.nat(255), payload: bytes(300) }),
);

const handshake = fc
  .tuple(bytes(20).map((b) => Buffer.concat([b, Buffer.alloc(20 - b.length)])), bytes(20).map((b) => Buffer.concat([b, Buffer.alloc(20 - b.length)])))
  .map(([infoHash, peerId]) => ({ infoHash, peerId, bytes: encodeHandshake(infoHash, peerId) }));

/** A valid stream: a handshake, then messages. */
const validStream = fc
  .tuple(handshake, fc.array(message, { maxLength: 12 }))
  .map(([h, messages]) => ({ h, messages, bytes: Buffer.concat([h.bytes, ...messages.map(encodeMessage)]) }));

/** Cut points, as fractions of the stream, turned into chunks copied as a socket delivers them. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

function split(stream: Buffer, fractions: number[]): Buffer[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * stream.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(Buffer.from(stream.subarray(at, point)));
    at = point;
  }
  return chunks;
}

interface Outcome {
  events: ParserEvent[];
  error?: WireProtocolError;
}

/** Feeds chunks as a connection does; a failed parser must stay failed and hold nothing more. */
function feed(chunks: Buffer[], parser = new WireParser({ expectHandshake: true })): Outcome {
  const outcome = feedChunks(chunks, PIECE_COUNT, parser);
  if (outcome.error) {
    expect(outcome.error).toBeInstanceOf(WireProtocolError);
    expect(parser.push(Buffer.from([0, 0, 0, 0])).error).toBe(outcome.error);
    expect(parser.buffered).toBe(0);
  }
  return outcome;
}

/** Events as plain records, buffers as hex, so that two parses compare with toEqual cheaply. */
function plain(events: ParserEvent[]): unknown[] {
  return events.map((event) => {
    const fields: Record<string, unknown> = event.kind === 'handshake' ? { kind: event.kind, ...event.handshake } : { ...event };
    for (const [key, value] of Object.entries(fields)) if (Buffer.isBuffer(value)) fields[key] = value.toString('hex');
    return fields;
  });
}

/** What a hostile sender writes: huge and limit-straddling length prefixes, unknown ids, a bad bitfield, a bad handshake start. */
function prefix(length: number, ...body: number[]): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(length >>> 0);
  Buffer.from(body).copy(out, 4);
  return out;
}
const hostileTokens = fc.oneof(
  fc.constantFrom(
    prefix(2 ** 31),
    prefix(0xffffffff),
    prefix(settings.maxFrameLength),
    prefix(settings.maxFrameLength + 1),
    prefix(settings.maxFrameLength, 99),
    prefix(1 + 8 + settings.maxRequestLength + 1, 7),
    prefix(1 + settings.maxExtendedMessageLength + 1, 20),
    prefix(4, 5, 0xff, 0xff, 0xff),
    prefix(5, 4, 0, 0, 0, PIECE_COUNT),
    Buffer.from([19]),
    Buffer.from([18]),
  ),
  fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat(255)).map(([length, id]) => prefix(length, id)),
);

/** Frames whose length prefix is right but whose id and body are anything, known ids weighted up. */
const randomFrames = fc
  .array(fc.tuple(fc.oneof(fc.nat(17), fc.constant(20), fc.nat(255)), bytes(24)), { maxLength: 8 })
  .map((frames) => Buffer.concat(frames.map(([id, body]) => prefix(1 + body.length, id, ...body))));

describe('wire parser properties', () => {
  test('encoded messages parse back the same, whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(validStream, cuts, ({ h, messages, bytes: stream }, fractions) => {
        const parser = new WireParser({ expectHandshake: true });
        const outcome = feed(split(stream, fractions), parser);
        expect(outcome.error).toBeUndefined();
        const reserved = stream.subarray(20, 28);
        const wanted: ParserEvent[] = [{ kind: 'handshake', handshake: { reserved, infoHash: h.infoHash, peerId: h.peerId } }, ...messages];
        expect(plain(outcome.events)).toEqual(plain(wanted));
        expect(parser.buffered).toBe(0);
      }),
      propertyRuns(500),
    );
  });

  test('blocks given a destination land in it when they span chunks, and parse the same', () => {
    fc.assert(
      fc.property(validStream, cuts, ({ messages, bytes: stream }, fractions) => {
        const parser = new WireParser({ expectHandshake: true });
        const slots: Buffer[] = [];
        parser.setBlockDestination((_index, _begin, length) => {
          // Made from an ArrayBuffer, so that only the parser's own allocations are counted.
          const slot = Buffer.from(new ArrayBuffer(length));
          slots.push(slot);
          return slot;
        });
        const chunks = split(stream, fractions);
        const { result: outcome, sizes } = allocations(() => feed(chunks, parser));
        expect(plain(outcome.events.slice(1))).toEqual(plain(messages));
        // A block is a view of what was received, or the slot itself: never a copy of its own.
        const blockLengths = outcome.events.flatMap((e) => (e.kind === 'piece' && e.block.length > 0 && e.block.length !== TAIL_LENGTH ? [e.block.length] : []));
        // Allocations are told apart by size only: a copied extended payload or bitfield of a block's size is no copy of a block.
        const otherLengths = outcome.events.flatMap((e) => (e.kind === 'extended' ? [e.payload.length] : e.kind === 'bitfield' ? [e.bits.length] : []));
        expect(sizes.filter((size) => blockLengths.includes(size) && !otherLengths.includes(size))).toEqual([]);
        for (const event of outcome.events) {
          if (event.kind === 'piece' && event.block.byteOffset === 0 && event.block.buffer.byteLength === event.block.length && event.block.length > 0) {
            expect(slots).toContain(event.block);
          }
        }
      }),
      propertyRuns(300),
    );
  });

  test('random bytes or frames after a handshake give messages and at most one WireProtocolError, the same for any split', () => {
    fc.assert(
      fc.property(handshake, fc.oneof(randomBytes(200), randomFrames), cuts, (h, noise, fractions) => {
        const stream = Buffer.concat([h.bytes, noise]);
        const whole = feed([stream]);
        const pieces = feed(split(stream, fractions));
        expect(plain(pieces.events)).toEqual(plain(whole.events));
        expect(pieces.error?.reason).toBe(whole.error?.reason);
      }),
      propertyRuns(1000),
    );
  });

  test('random bytes in place of a handshake give at most one WireProtocolError', () => {
    fc.assert(
      fc.property(randomBytes(100), cuts, (stream, fractions) => {
        const whole = feed([stream]);
        const pieces = feed(split(stream, fractions));
        expect(pieces.error?.reason).toBe(whole.error?.reason);
        expect(plain(pieces.events)).toEqual(plain(whole.events));
        if (stream.length >= HANDSHAKE_LENGTH && whole.error === undefined) expect(whole.events[0]?.kind).toBe('handshake');
      }),
      propertyRuns(500),
    );
  });

  test('damaged valid streams give messages and at most one WireProtocolError, the same for any split, allocating no more than was received', () => {
    fc.assert(
      fc.property(mutated(validStream.map((s) => s.bytes), hostileTokens), cuts, (stream, fractions) => {
        const chunks = split(stream, fractions);
        const { result: whole, largest } = allocations(() => feed([Buffer.from(stream)]));
        // Beside what arrived, only the buffer where small chunks are gathered.
        expect(largest).toBeLessThanOrEqual(Math.max(stream.length, HANDSHAKE_LENGTH, TAIL_LENGTH));
        const pieces = feed(chunks);
        expect(pieces.error?.reason).toBe(whole.error?.reason);
        expect(plain(pieces.events)).toEqual(plain(whole.events));
      }),
      propertyRuns(1000),
    );
  });

  test('a long message sent in chunks of any size is held in about one buffer per KiB', () => {
    const sizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 3 * SMALL_CHUNK })), { minLength: 1, maxLength: 300 });
    fc.assert(
      fc.property(sizes, (chunkSizes) => {
        const payload = Buffer.alloc(settings.maxExtendedMessageLength - 1, 0x61);
        const stream = encodeMessage({ kind: 'extended', extId: 1, payload });
        const parser = new WireParser({ expectHandshake: false });
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const size = i < chunkSizes.length ? chunkSizes[i] : stream.length;
          const { events, error } = parser.push(Buffer.from(stream.subarray(at, at + size)));
          at += size;
          expect(error).toBeUndefined();
          if (at < stream.length) {
            expect(events).toEqual([]);
            expect(parser.heldChunks).toBeLessThanOrEqual(2 * Math.ceil(parser.buffered / SMALL_CHUNK) + 2);
          } else {
            expect(events).toHaveLength(1);
            expect((events[0] as { payload: Buffer }).payload.equals(payload)).toBe(true);
          }
        }
      }),
      propertyRuns(200),
    );
  });

  test('a declared length is neither allocated nor buffered ahead of its bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat(255), randomBytes(64), (length, id, body) => {
        const parser = new WireParser({ expectHandshake: false });
        parser.setPieceCount(PIECE_COUNT);
        const { result, largest } = allocations(() => parser.push(Buffer.concat([prefix(length, id), body])));
        expect(largest).toBeLessThanOrEqual(Math.max(4 + 1 + body.length, TAIL_LENGTH));
        expect(parser.buffered).toBeLessThanOrEqual(1 + body.length);
        if (length > settings.maxFrameLength) expect(result.error?.reason).toBe('frame-too-long');
      }),
      propertyRuns(1000),
    );
  });
});
