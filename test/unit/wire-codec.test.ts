import { encodeBencode } from '../../src/io/bencode.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { encodeHandshake, encodeMessage, encodePieceHeader, encodeRequests } from '../../src/main/wire/wire-codec.js';
import {
  HANDSHAKE_LENGTH,
  WireProtocolError,
  isFastMessage,
  supportsDht,
  supportsExtensionProtocol,
  supportsFast,
  type WireMessage,
} from '../../src/main/wire/wire-messages.js';
import { WireParser, type ParserEvent } from '../../src/main/wire/wire-parser.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

function parseOne(bytes: Buffer): ParserEvent[] {
  const parser = new WireParser({ expectHandshake: false });
  parser.setPieceCount(16);
  const result = parser.push(bytes);
  expect(result.error).toBeUndefined();
  expect(parser.buffered).toBe(0);
  return result.events;
}

describe('encodeMessage', () => {
  // Bytes written out by hand from BEP 3: 4-byte big-endian length, id, fields.
  const cases: [string, WireMessage, string][] = [
    ['keep-alive', { kind: 'keep-alive' }, '00000000'],
    ['choke', { kind: 'choke' }, '00000001 00'],
    ['unchoke', { kind: 'unchoke' }, '00000001 01'],
    ['interested', { kind: 'interested' }, '00000001 02'],
    ['not-interested', { kind: 'not-interested' }, '00000001 03'],
    ['have', { kind: 'have', index: 13 }, '00000005 04 0000000d'],
    ['bitfield', { kind: 'bitfield', bits: hex('ff81') }, '00000003 05 ff81'],
    ['request', { kind: 'request', index: 1, begin: 0x4000, length: 0x4000 }, '0000000d 06 00000001 00004000 00004000'],
    ['piece', { kind: 'piece', index: 2, begin: 0x8000, block: Buffer.from('abc') }, '0000000c 07 00000002 00008000 616263'],
    ['cancel', { kind: 'cancel', index: 0xfffffffe, begin: 0, length: 0x20000 }, '0000000d 08 fffffffe 00000000 00020000'],
    ['port', { kind: 'port', port: 6881 }, '00000003 09 1ae1'],
    // BEP 6's opcodes 0x0D to 0x11.
    ['suggest', { kind: 'suggest', index: 13 }, '00000005 0d 0000000d'],
    ['have-all', { kind: 'have-all' }, '00000001 0e'],
    ['have-none', { kind: 'have-none' }, '00000001 0f'],
    ['reject', { kind: 'reject', index: 3, begin: 0x4000, length: 0x4000 }, '0000000d 10 00000003 00004000 00004000'],
    ['allowed-fast', { kind: 'allowed-fast', index: 7 }, '00000005 11 00000007'],
    ['extended', { kind: 'extended', extId: 3, payload: Buffer.from('d1:xi1ee') }, '0000000a 14 03 6431 3a78 6931 6565'],
  ];

  test.each(cases)('%s encodes to the exact bytes of BEP 3 (or BEP 6) and parses back', (_name, msg, bytes) => {
    const encoded = encodeMessage(msg);
    expect(encoded.toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(parseOne(encoded)).toEqual([msg]);
  });

  test('every message kind is covered', () => {
    expect(new Set(cases.map(([, msg]) => msg.kind)).size).toBe(17);
  });

  test('the five BEP 6 messages, and only they, are Fast messages', () => {
    const fast = cases.filter(([, msg]) => isFastMessage(msg)).map(([, msg]) => msg.kind);
    expect(fast).toEqual(['suggest', 'have-all', 'have-none', 'reject', 'allowed-fast']);
  });

  test('out-of-range fields are refused rather than truncated', () => {
    expect(() => encodeMessage({ kind: 'have', index: 2 ** 32 })).toThrow(/out of range/);
    expect(() => encodeMessage({ kind: 'port', port: 65536 })).toThrow(/out of range/);
    expect(() => encodeMessage({ kind: 'extended', extId: 256, payload: Buffer.alloc(0) })).toThrow(/out of range/);
  });
});

describe('encodePieceHeader', () => {
  test('header followed by the block is the whole piece message', () => {
    const block = Buffer.alloc(16384, 7);
    const header = encodePieceHeader(5, 32768, block.length);
    expect(header.length).toBe(13);
    expect(Buffer.concat([header, block]).equals(encodeMessage({ kind: 'piece', index: 5, begin: 32768, block }))).toBe(true);
  });
});

describe('handshake', () => {
  const infoHash = Buffer.alloc(20, 0xab);
  const peerId = Buffer.from('-SH0100-abcdefghijkl');

  test('encodes pstrlen, protocol, reserved with the BEP 10 and BEP 6 bits, info hash and peer id', () => {
    const expected = Buffer.concat([
      Buffer.from([19]),
      Buffer.from('BitTorrent protocol', 'latin1'),
      hex('0000000000100004'),
      infoHash,
      peerId,
    ]);
    const encoded = encodeHandshake(infoHash, peerId);
    expect(encoded.length).toBe(HANDSHAKE_LENGTH);
    expect(encoded.equals(expected)).toBe(true);
  });

  test('parses back, and the extension protocol and Fast bits are seen', () => {
    const parser = new WireParser({ expectHandshake: true });
    const { events, error } = parser.push(encodeHandshake(infoHash, peerId));
    expect(error).toBeUndefined();
    expect(events).toEqual([{ kind: 'handshake', handshake: { reserved: hex('0000000000100004'), infoHash, peerId } }]);
    const first = events[0];
    if (first.kind !== 'handshake') throw new Error('expected a handshake');
    expect(supportsExtensionProtocol(first.handshake)).toBe(true);
    expect(supportsExtensionProtocol({ ...first.handshake, reserved: hex('ffffffffffefffff') })).toBe(false);
    expect(supportsFast(first.handshake)).toBe(true);
    expect(supportsFast({ ...first.handshake, reserved: hex('fffffffffffffffb') })).toBe(false);
  });

  test('with the DHT on, the DHT bit (BEP 5) is set too, and seen', () => {
    const withDht = encodeHandshake(infoHash, peerId, { dht: true });
    expect(withDht.subarray(20, 28)).toEqual(hex('0000000000100005'));
    const parsed = new WireParser({ expectHandshake: true }).push(withDht).events[0];
    if (parsed.kind !== 'handshake') throw new Error('expected a handshake');
    expect(supportsDht(parsed.handshake)).toBe(true);
    expect(supportsFast(parsed.handshake)).toBe(true);
    expect(supportsDht({ ...parsed.handshake, reserved: hex('0000000000100004') })).toBe(false);
  });

  test('refuses hashes and ids that are not 20 bytes', () => {
    expect(() => encodeHandshake(Buffer.alloc(19), peerId)).toThrow(/must be 20 bytes/);
    expect(() => encodeHandshake(infoHash, Buffer.alloc(21))).toThrow(/must be 20 bytes/);
  });
});

describe('extension handshake', () => {
  test('round trip of every field', () => {
    const h = { m: { ut_pex: 1, ut_metadata: 2 }, p: 6882, v: 'shoal 0.1.0', reqq: 500, yourip: Buffer.from([192, 168, 1, 10]) };
    const payload = encodeExtensionHandshake(h);
    expect(payload.toString('latin1')).toBe(
      'd1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6882e4:reqqi500e1:v11:shoal 0.1.06:yourip4:\xc0\xa8\x01\x0ae',
    );
    expect(decodeExtensionHandshake(payload)).toEqual(h);
  });

  test('omits absent fields', () => {
    expect(encodeExtensionHandshake({ m: {} }).toString()).toBe('d1:mdee');
    expect(decodeExtensionHandshake(Buffer.from('d1:mdee'))).toEqual({ m: {} });
  });

  test('ignores unknown keys and drops values of the wrong type or range', () => {
    const payload = encodeBencode({
      m: { ut_pex: 1, lt_donthave: 'x', big: 300, negative: -1, disabled: 0, __proto__x: 4 },
      p: 70000,
      v: 12,
      reqq: 'many',
      yourip: Buffer.from([1, 2, 3]),
      metadata_size: 'large',
      complete_ago: 1,
      e: 0,
    });
    const decoded = decodeExtensionHandshake(payload);
    expect(decoded).toEqual({ m: { ut_pex: 1, disabled: 0, __proto__x: 4 } });
    expect(decodeExtensionHandshake(encodeBencode({ m: 'nope', p: 0 }))).toEqual({ m: {} });
    expect(decodeExtensionHandshake(encodeBencode({ m: {}, p: 65535 })).p).toBe(65535);
  });

  test('keeps a positive metadata_size (BEP 9) and drops 0 or a negative one', () => {
    expect(decodeExtensionHandshake(encodeBencode({ m: { ut_metadata: 3 }, metadata_size: 31235 }))).toEqual({ m: { ut_metadata: 3 }, metadata_size: 31235 });
    expect(decodeExtensionHandshake(encodeBencode({ m: {}, metadata_size: 0 })).metadata_size).toBeUndefined();
    expect(decodeExtensionHandshake(encodeBencode({ m: {}, metadata_size: -5 })).metadata_size).toBeUndefined();
    expect(encodeExtensionHandshake({ m: {}, metadata_size: 7 }).toString()).toBe('d1:mde13:metadata_sizei7ee');
  });

  test('a key named __proto__ is an ordinary name', () => {
    const decoded = decodeExtensionHandshake(Buffer.from('d1:md9:__proto__i5eee'));
    expect(Object.keys(decoded.m)).toEqual(['__proto__']);
    expect(decoded.m['__proto__']).toBe(5);
  });

  test('yourip is copied out of the payload', () => {
    const payload = encodeBencode({ m: {}, yourip: Buffer.from([10, 0, 0, 1]) });
    const decoded = decodeExtensionHandshake(payload);
    payload.fill(0);
    expect(decoded.yourip).toEqual(Buffer.from([10, 0, 0, 1]));
  });

  test.each([
    ['junk', Buffer.from('hello')],
    ['a list', Buffer.from('li1ee')],
    ['trailing bytes', Buffer.from('d1:mdeexx')],
    ['empty', Buffer.alloc(0)],
  ])('refuses %s with a WireProtocolError', (_name, payload) => {
    let thrown: unknown;
    try {
      decodeExtensionHandshake(payload);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WireProtocolError);
    expect((thrown as WireProtocolError).reason).toBe('bad-extension-handshake');
  });
});

describe('encodeRequests', () => {
  test('is the REQUEST messages of a batch, back to back', () => {
    const blocks = [
      { index: 0, begin: 0, length: 16384 },
      { index: 7, begin: 49152, length: 1000 },
      { index: 0xfffffffe, begin: 16384, length: 16384 },
    ];
    expect(encodeRequests(blocks).equals(Buffer.concat(blocks.map((b) => encodeMessage({ kind: 'request', ...b }))))).toBe(true);
    expect(encodeRequests([])).toHaveLength(0);
  });
});
