/**
 * Properties of the BEP 10 extension handshake and BEP 11 ut_pex readers (fast-check; seed and
 * run count: test/helpers/property.ts): what a peer sends in an extended message, random or a
 * damaged valid payload, gives a value within the documented bounds or a WireProtocolError,
 * never another exception; valid payloads round-trip.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { encodeBencode, type BencodeInput } from '../../src/io/bencode.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { decodeExtensionHandshake, encodeExtensionHandshake, type ExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { WireProtocolError } from '../../src/main/wire/wire-messages.js';
import { decodePex, encodePex, pexPeerKey, type PexMessage, type PexPeer } from '../../src/main/wire/ut-pex.js';
import { mutated, propertyRuns, randomBytes } from '../helpers/property.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A value or a WireProtocolError; anything else fails the property. */
function readOrRefuse<T>(read: () => T): T | WireProtocolError {
  try {
    return read();
  } catch (err) {
    if (err instanceof WireProtocolError) return err;
    throw err;
  }
}

/** Values of any bencode type, for fields a peer fills as it likes. */
const anyValue: fc.Arbitrary<BencodeInput> = fc.oneof(
  fc.maxSafeInteger(),
  fc.constantFrom(0, -1, 256, 65536, 2 ** 31),
  fc.uint8Array({ maxLength: 20 }),
  fc.string(),
  fc.array(fc.nat(), { maxLength: 3 }),
  fc.dictionary(fc.string({ unit: 'binary-ascii', maxLength: 8 }), fc.integer({ min: -2, max: 300 }), { maxKeys: 3 }),
);

const hostileTokens = fc.constantFrom(b('2147483648:'), b('i9007199254740992e'), b('l'.repeat(100)), b('d'), b('e'), b('i-1e'));

describe('extension handshake properties', () => {
  const names = fc.constantFrom('ut_pex', 'ut_metadata', 'lt_donthave', 'upload_only', '__proto__', 'constructor', 'x');
  const handshake: fc.Arbitrary<ExtensionHandshake> = fc
    .record(
      {
        m: fc.dictionary(names, fc.nat(255), { maxKeys: 5, noNullPrototype: true }),
        p: fc.integer({ min: 1, max: 65535 }),
        v: fc.string({ unit: 'grapheme', maxLength: 20 }),
        reqq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        yourip: fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map((x) => Buffer.from(x)),
      },
      { requiredKeys: ['m'] },
    );

  function checkBounds(h: ExtensionHandshake): void {
    for (const id of Object.values(h.m)) expect(Number.isInteger(id) && id >= 0 && id <= 255).toBe(true);
    if (h.p !== undefined) expect(h.p >= 1 && h.p <= 65535).toBe(true);
    if (h.reqq !== undefined) expect(Number.isSafeInteger(h.reqq) && h.reqq >= 1).toBe(true);
    if (h.yourip !== undefined) expect([4, 16]).toContain(h.yourip.length);
    // The prototype is never reached through a name a peer chose.
    expect(Object.getPrototypeOf(h.m)).toBeNull();
  }

  test('a valid handshake decodes to what was encoded', () => {
    fc.assert(
      fc.property(handshake, (h) => {
        const decoded = decodeExtensionHandshake(encodeExtensionHandshake(h));
        expect({ ...decoded, m: { ...decoded.m } }).toEqual({ ...h, m: { ...h.m } });
      }),
      propertyRuns(500),
    );
  });

  test('fields of any type give a handshake within bounds, odd fields dropped', () => {
    const fields = fc.dictionary(fc.constantFrom('m', 'p', 'v', 'reqq', 'yourip', 'e', 'metadata_size'), anyValue, { maxKeys: 6 });
    fc.assert(
      fc.property(fields, (dict) => {
        const result = readOrRefuse(() => decodeExtensionHandshake(encodeBencode(dict)));
        expect(result).not.toBeInstanceOf(WireProtocolError);
        checkBounds(result as ExtensionHandshake);
      }),
      propertyRuns(500),
    );
  });

  test('random and damaged payloads give a handshake within bounds or a WireProtocolError', () => {
    const payload = fc.oneof(randomBytes(64), mutated(handshake.map(encodeExtensionHandshake), hostileTokens));
    fc.assert(
      fc.property(payload, (bytes) => {
        const result = readOrRefuse(() => decodeExtensionHandshake(bytes));
        if (result instanceof WireProtocolError) expect(result.reason).toBe('bad-extension-handshake');
        else checkBounds(result);
      }),
      propertyRuns(1000),
    );
  });
});

describe('ut_pex properties', () => {
  const port = fc.integer({ min: 1, max: 65535 });
  const peer: fc.Arbitrary<PexPeer> = fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6()), port, flags: fc.nat(255) });
  const pexMessage: fc.Arbitrary<PexMessage> = fc.record({
    added: fc.array(peer, { maxLength: 20 }),
    dropped: fc.array(peer.map(({ ip, port: p }) => ({ ip, port: p })), { maxLength: 20 }),
  });

  const isV6Key = (key: string): boolean => key.startsWith('[');
  const isUnspecified = (key: string): boolean => key.startsWith('0.0.0.0:') || key.startsWith('[::]:');

  /** The keys a reader sees: IPv4 (mapped ones included) first, then IPv6, unusable addresses left out. */
  function expectedKeys(peers: PexPeer[]): string[] {
    const keys = peers.map(pexPeerKey).filter((key) => !isUnspecified(key));
    return [...keys.filter((key) => !isV6Key(key)), ...keys.filter(isV6Key)];
  }

  function checkBounds(message: PexMessage): void {
    for (const list of [message.added, message.dropped]) {
      expect(list.length).toBeLessThanOrEqual(settings.pexMaxReceivedPeers);
      for (const p of list) {
        expect(isIP(p.ip)).not.toBe(0);
        expect(p.port >= 1 && p.port <= 65535).toBe(true);
        if (p.flags !== undefined) expect(p.flags >= 0 && p.flags <= 255).toBe(true);
        // A received entry can always be sent on, to other peers or in /status.
        expect(() => pexPeerKey(p)).not.toThrow();
      }
    }
    for (const p of message.dropped) expect(p.flags).toBeUndefined();
  }

  test('an encoded message decodes to the same peers, IPv4 first, in canonical spelling', () => {
    fc.assert(
      fc.property(pexMessage, (message) => {
        const decoded = decodePex(encodePex(message));
        checkBounds(decoded);
        expect(decoded.added.map(pexPeerKey)).toEqual(expectedKeys(message.added));
        expect(decoded.dropped.map(pexPeerKey)).toEqual(expectedKeys(message.dropped));
        const flagsByKey = new Map(message.added.map((p) => [pexPeerKey(p), p.flags]));
        for (const p of decoded.added) expect(p.flags).toBe(flagsByKey.get(pexPeerKey(p)));
      }),
      propertyRuns(200),
    );
  });

  test('lists of any type and length give a message within bounds or a WireProtocolError', () => {
    const compact = fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.integer({ min: 0, max: 300 }).map((n) => new Uint8Array(n * 6).fill(1)));
    const fields = fc.dictionary(
      fc.constantFrom('added', 'added.f', 'added6', 'added6.f', 'dropped', 'dropped6', 'x'),
      fc.oneof(compact, anyValue),
      { maxKeys: 7 },
    );
    fc.assert(
      fc.property(fields, (dict) => {
        const result = readOrRefuse(() => decodePex(encodeBencode(dict)));
        if (result instanceof WireProtocolError) expect(result.reason).toBe('bad-pex');
        else checkBounds(result);
      }),
      propertyRuns(500),
    );
  });

  test('random and damaged payloads give a message within bounds or a WireProtocolError', () => {
    const payload = fc.oneof(randomBytes(64), mutated(pexMessage.map(encodePex), hostileTokens));
    fc.assert(
      fc.property(payload, (bytes) => {
        const result = readOrRefuse(() => decodePex(bytes));
        if (result instanceof WireProtocolError) expect(result.reason).toBe('bad-pex');
        else checkBounds(result);
      }),
      propertyRuns(1000),
    );
  });
});
