/**
 * Properties of the tracker's query parser (fast-check; seed and run count:
 * test/helpers/property.ts): any query string, random or a damaged valid announce, gives a
 * request within bounds or a failure reason, never an exception; percent-encoded bytes and valid
 * announces round-trip.
 */
import fc from 'fast-check';
import { defaultSettings as settings } from '../../src/io/settings.js';
import {
  isTrackerFailure,
  parseAnnounceRequest,
  parseQueryString,
  parseScrapeRequest,
  type AnnounceRequest,
  type TrackerFailure,
} from '../../src/main/tracker/tracker-query.js';
import { mutated, propertyRuns } from '../helpers/property.js';

/** Characters sent as they are; every other byte is escaped. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** A byte string as a client writes it: each byte escaped (upper or lower hex) or, when unreserved, maybe not. */
function encodeBytes(bytes: Uint8Array, escapeAll: boolean[]): string {
  return [...bytes]
    .map((byte, i) => {
      const char = String.fromCharCode(byte);
      const choice = escapeAll[i % Math.max(1, escapeAll.length)] ?? true;
      if (UNRESERVED.test(char) && !choice) return char;
      const hex = byte.toString(16).padStart(2, '0');
      return `%${i % 2 === 0 ? hex.toUpperCase() : hex}`;
    })
    .join('');
}

const byteString = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));

/** Query text as it reaches the parser: what an HTTP request line may carry and what a caller may hand in. */
const queryText = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'%&=+?0123456789abcdefABCDEFgG_'.split('')), maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);

const announce = fc.record({
  infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b)),
  peerId: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b)),
  port: fc.integer({ min: 1, max: 65535 }),
  uploaded: fc.maxSafeNat(),
  downloaded: fc.maxSafeNat(),
  left: fc.maxSafeNat(),
  event: fc.constantFrom('started', 'completed', 'stopped', 'empty', undefined),
  compact: fc.constantFrom('0', '1', undefined),
  noPeerId: fc.constantFrom('0', '1', undefined),
  numwant: fc.option(fc.nat(10_000), { nil: undefined }),
  escapes: fc.array(fc.boolean(), { maxLength: 20 }),
});
type AnnounceFields = typeof announce extends fc.Arbitrary<infer T> ? T : never;

function announceQuery(a: AnnounceFields): string {
  const params: [string, string | undefined][] = [
    ['info_hash', encodeBytes(a.infoHash, a.escapes)],
    ['peer_id', encodeBytes(a.peerId, a.escapes)],
    ['port', String(a.port)],
    ['uploaded', String(a.uploaded)],
    ['downloaded', String(a.downloaded)],
    ['left', String(a.left)],
    ['event', a.event],
    ['compact', a.compact],
    ['no_peer_id', a.noPeerId],
    ['numwant', a.numwant === undefined ? undefined : String(a.numwant)],
  ];
  return params
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function checkBounds(request: AnnounceRequest | TrackerFailure): void {
  if (isTrackerFailure(request)) {
    expect(request.failure.length).toBeGreaterThan(0);
    return;
  }
  expect(request.infoHash.length).toBe(20);
  expect(request.peerId.length).toBe(20);
  expect(request.port >= 1 && request.port <= 65535).toBe(true);
  for (const n of [request.uploaded, request.downloaded, request.left]) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
  expect(request.numwant >= 0 && request.numwant <= settings.trackerMaxNumwant).toBe(true);
  expect(['started', 'completed', 'stopped', 'empty']).toContain(request.event);
}

/** Parses a whole query to an announce, or the failure of the first step that refused it. */
function announceFrom(raw: string): AnnounceRequest | TrackerFailure {
  const query = parseQueryString(raw);
  return isTrackerFailure(query) ? query : parseAnnounceRequest(query, '127.0.0.1');
}

describe('tracker query properties', () => {
  test('percent-encoded keys and values come back byte for byte, repeats in order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(byteString(8), byteString(24)), { maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 8 }), (pairs, escapes) => {
        const raw = pairs.map(([k, v]) => `${encodeBytes(k, escapes)}=${encodeBytes(v, escapes)}`).join('&');
        const parsed = parseQueryString(`?${raw}`);
        if (isTrackerFailure(parsed)) throw new Error(parsed.failure);
        const wanted = new Map<string, string[]>();
        for (const [k, v] of pairs) {
          const key = k.toString('latin1');
          wanted.set(key, [...(wanted.get(key) ?? []), v.toString('hex')]);
        }
        const got = new Map([...parsed].map(([k, values]) => [k, values.map((v) => v.toString('hex'))]));
        expect(got).toEqual(wanted);
      }),
      propertyRuns(500),
    );
  });

  test('any query text gives keys and byte values or a failure reason', () => {
    fc.assert(
      fc.property(queryText, (raw) => {
        const parsed = parseQueryString(raw);
        if (isTrackerFailure(parsed)) expect(parsed.failure).toMatch(/percent escape/);
        else for (const values of parsed.values()) for (const v of values) expect(Buffer.isBuffer(v)).toBe(true);
      }),
      propertyRuns(1000),
    );
  });

  test('a valid announce is read with every field as sent', () => {
    fc.assert(
      fc.property(announce, (a) => {
        const request = announceFrom(announceQuery(a));
        if (isTrackerFailure(request)) throw new Error(request.failure);
        checkBounds(request);
        expect(request.infoHash.equals(a.infoHash)).toBe(true);
        expect(request.peerId.equals(a.peerId)).toBe(true);
        expect([request.port, request.uploaded, request.downloaded, request.left]).toEqual([a.port, a.uploaded, a.downloaded, a.left]);
        expect(request.event).toBe(a.event ?? 'empty');
        expect(request.compact).toBe(a.compact !== '0');
        expect(request.noPeerId).toBe(a.noPeerId === '1');
        expect(request.numwant).toBe(Math.min(a.numwant ?? settings.trackerDefaultNumwant, settings.trackerMaxNumwant));
      }),
      propertyRuns(500),
    );
  });

  test('damaged announces and random parameters give an announce within bounds or a failure reason', () => {
    const damaged = mutated(announce.map((a) => Buffer.from(announceQuery(a), 'latin1'))).map((bytes) => bytes.toString('latin1'));
    const names = fc.constantFrom('info_hash', 'peer_id', 'port', 'uploaded', 'downloaded', 'left', 'event', 'compact', 'no_peer_id', 'numwant', 'ip', 'key');
    const randomParams = fc
      .array(fc.tuple(names, queryText), { maxLength: 12 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
    fc.assert(fc.property(fc.oneof(damaged, randomParams, queryText), (raw) => checkBounds(announceFrom(raw))), propertyRuns(1000));
  });

  test('a scrape gives 20-byte hashes or a failure reason', () => {
    const scrape = fc.array(byteString(24), { maxLength: 4 }).map((hashes) => hashes.map((h) => `info_hash=${encodeBytes(h, [true])}`).join('&'));
    fc.assert(
      fc.property(fc.oneof(scrape, queryText), (raw) => {
        const query = parseQueryString(raw);
        if (isTrackerFailure(query)) return;
        const hashes = parseScrapeRequest(query);
        if (!isTrackerFailure(hashes)) for (const hash of hashes) expect(hash.length).toBe(20);
      }),
      propertyRuns(500),
    );
  });
});
