import { decodeBencode, encodeBencode, isDict } from '../../src/io/bencode.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { WireProtocolError } from '../../src/main/wire/wire-messages.js';
import {
  PexFlag,
  decodePex,
  encodePex,
  pexPeerKey,
  type PexPeer,
} from '../../src/main/wire/ut-pex.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** n distinct IPv4 entries 10.0.x.y:6881, in compact form. */
function compact4(n: number, port = 6881): Buffer {
  const out = Buffer.alloc(n * 6);
  for (let i = 0; i < n; i++) {
    out.writeUInt8(10, i * 6);
    out.writeUInt8(0, i * 6 + 1);
    out.writeUInt16BE(i + 1, i * 6 + 2);
    out.writeUInt16BE(port, i * 6 + 4);
  }
  return out;
}

/** n distinct IPv6 entries 2001:db8::x:6881, in compact form. */
function compact6(n: number): Buffer {
  const out = Buffer.alloc(n * 18);
  for (let i = 0; i < n; i++) {
    out.writeUInt32BE(0x20010db8, i * 18);
    out.writeUInt16BE(i + 1, i * 18 + 14);
    out.writeUInt16BE(6881, i * 18 + 16);
  }
  return out;
}

function expectRefused(payload: Buffer, pattern?: RegExp): void {
  let error: unknown;
  try {
    decodePex(payload);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WireProtocolError);
  expect((error as WireProtocolError).reason).toBe('bad-pex');
  if (pattern !== undefined) expect((error as Error).message).toMatch(pattern);
}

describe('encodePex', () => {
  test('IPv4 entries have the exact compact layout of BEP 11, with all six keys in byte order', () => {
    const payload = encodePex({
      added: [
        { ip: '1.2.3.4', port: 6881, flags: PexFlag.seed | PexFlag.reachable },
        { ip: '192.168.1.10', port: 51413 },
      ],
      dropped: [{ ip: '10.0.0.1', port: 80 }],
    });
    const expected = Buffer.concat([
      text('d5:added12:'),
      hex('01020304 1ae1 c0a8010a c8d5'),
      text('7:added.f2:'),
      hex('12 00'),
      text('6:added60:8:added6.f0:7:dropped6:'),
      hex('0a000001 0050'),
      text('8:dropped60:e'),
    ]);
    expect(payload.toString('hex')).toBe(expected.toString('hex'));
  });

  test('IPv6 entries take 18 bytes in added6 and dropped6', () => {
    const payload = encodePex({
      added: [{ ip: '2001:db8::1', port: 51413, flags: PexFlag.utp }],
      dropped: [{ ip: '::1', port: 6881 }],
    });
    const expected = Buffer.concat([
      text('d5:added0:7:added.f0:6:added618:'),
      hex('20010db8 00000000 00000000 00000001 c8d5'),
      text('8:added6.f1:'),
      hex('04'),
      text('7:dropped0:8:dropped618:'),
      hex('00000000 00000000 00000000 00000001 1ae1'),
      text('e'),
    ]);
    expect(payload.toString('hex')).toBe(expected.toString('hex'));
  });

  test('an empty message is six empty strings', () => {
    expect(encodePex({ added: [], dropped: [] }).toString('latin1')).toBe(
      'd5:added0:7:added.f0:6:added60:8:added6.f0:7:dropped0:8:dropped60:e',
    );
  });

  test('an IPv4-mapped IPv6 address is sent as IPv4', () => {
    const dict = decodeBencode(encodePex({ added: [{ ip: '::ffff:192.0.2.7', port: 6881 }], dropped: [] }));
    expect(isDict(dict)).toBe(true);
    if (!isDict(dict)) return;
    expect((dict.added as Buffer).toString('hex')).toBe('c0000207' + '1ae1');
    expect((dict.added6 as Buffer).length).toBe(0);
  });

  test.each<[string, PexPeer]>([
    ['a host name', { ip: 'example.com', port: 6881 }],
    ['three octets', { ip: '1.2.3', port: 6881 }],
    ['an octet over 255', { ip: '1.2.3.256', port: 6881 }],
    ['an IPv6 zone', { ip: 'fe80::1%eth0', port: 6881 }],
    ['an empty address', { ip: '', port: 6881 }],
  ])('refuses %s', (_name, peer) => {
    expect(() => encodePex({ added: [peer], dropped: [] })).toThrow(TypeError);
    expect(() => encodePex({ added: [], dropped: [peer] })).toThrow(TypeError);
  });

  test.each([0, -1, 65536, 1.5, NaN])('refuses port %p', (port) => {
    expect(() => encodePex({ added: [{ ip: '1.2.3.4', port }], dropped: [] })).toThrow(RangeError);
  });

  test.each([-1, 256, 0.5])('refuses flags %p', (flags) => {
    expect(() => encodePex({ added: [{ ip: '1.2.3.4', port: 1, flags }], dropped: [] })).toThrow(RangeError);
  });
});

describe('decodePex', () => {
  test('IPv4 and IPv6 peers with flags survive a round trip', () => {
    const message = {
      added: [
        { ip: '1.2.3.4', port: 6881, flags: PexFlag.prefersEncryption | PexFlag.reachable },
        { ip: '255.255.255.254', port: 65535, flags: PexFlag.seed },
        { ip: '2001:db8::1', port: 51413, flags: PexFlag.utp | PexFlag.holepunch },
        { ip: 'fe80::1:2', port: 1, flags: 0xff },
      ],
      dropped: [
        { ip: '10.0.0.1', port: 80 },
        { ip: '2001:db8:1:2:3:4:5:6', port: 443 },
      ],
    };
    // IPv4 entries come before IPv6 ones in each list.
    expect(decodePex(encodePex(message))).toEqual(message);
  });

  test('an added peer without flags comes back with flags 0', () => {
    expect(decodePex(encodePex({ added: [{ ip: '1.2.3.4', port: 6881 }], dropped: [] })).added).toEqual([
      { ip: '1.2.3.4', port: 6881, flags: 0 },
    ]);
  });

  test.each([
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal zero runs is compressed
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longer run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['0:0:0:0:0:0:0:2', '::2'],
    ['fe80:0000::0001', 'fe80::1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::ffff:c000:0207', '192.0.2.7'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s is read back as %s', (ip, canonical) => {
    const { added } = decodePex(encodePex({ added: [{ ip, port: 7 }], dropped: [] }));
    expect(added).toEqual([{ ip: canonical, port: 7, flags: 0 }]);
  });

  test('an IPv4-mapped address received in added6 is read as IPv4', () => {
    const entry = hex('00000000 00000000 0000ffff 0a000005 1ae1');
    expect(decodePex(encodeBencode({ added6: entry })).added).toEqual([{ ip: '10.0.0.5', port: 6881 }]);
  });

  test('missing lists are empty and unknown keys are ignored', () => {
    expect(decodePex(text('de'))).toEqual({ added: [], dropped: [] });
    const payload = encodeBencode({ added: compact4(1), 'x-extra': [1, 2, { a: 'b' }], dropped6: '' });
    expect(decodePex(payload)).toEqual({ added: [{ ip: '10.0.0.1', port: 6881 }], dropped: [] });
  });

  test('flags whose count does not match the entries are ignored, the addresses kept', () => {
    const payload = encodeBencode({ added: compact4(2), 'added.f': hex('02') });
    expect(decodePex(payload).added).toEqual([
      { ip: '10.0.0.1', port: 6881 },
      { ip: '10.0.0.2', port: 6881 },
    ]);
  });

  test('entries with port 0 or the unspecified address are dropped', () => {
    const payload = encodeBencode({
      added: Buffer.concat([hex('01020304 0000'), hex('00000000 1ae1'), hex('05060708 0001')]),
      'added.f': hex('01 02 03'),
      added6: Buffer.concat([hex('00'.repeat(16) + '1ae1'), hex('20010db8' + '00'.repeat(11) + '01 0000')]),
      dropped: hex('01020304 0000'),
      dropped6: hex('00'.repeat(16) + '0050'),
    });
    expect(decodePex(payload)).toEqual({ added: [{ ip: '5.6.7.8', port: 1, flags: 3 }], dropped: [] });
  });

  test(`accepts at most ${settings.pexMaxReceivedPeers} added and ${settings.pexMaxReceivedPeers} dropped`, () => {
    const many = decodePex(encodeBencode({ added: compact4(300), dropped: compact4(250) }));
    expect(many.added).toHaveLength(settings.pexMaxReceivedPeers);
    expect(many.added[settings.pexMaxReceivedPeers - 1]).toEqual({ ip: `10.0.0.${settings.pexMaxReceivedPeers}`, port: 6881 });
    expect(many.dropped).toHaveLength(settings.pexMaxReceivedPeers);

    // IPv4 and IPv6 share one cap per list.
    const mixed = decodePex(encodeBencode({ added: compact4(150), added6: compact6(100), dropped6: compact6(20) }));
    expect(mixed.added).toHaveLength(settings.pexMaxReceivedPeers);
    expect(mixed.added.filter((p) => p.ip.includes(':'))).toHaveLength(settings.pexMaxReceivedPeers - 150);
    expect(mixed.dropped).toHaveLength(20);
  });

  test('entries that are dropped do not count against the cap', () => {
    const payload = encodeBencode({ added: Buffer.concat([compact4(100, 0), compact4(settings.pexMaxReceivedPeers)]) });
    expect(decodePex(payload).added).toHaveLength(settings.pexMaxReceivedPeers);
  });

  test('a malformed list is refused even past the cap', () => {
    expectRefused(encodeBencode({ added: compact4(settings.pexMaxReceivedPeers), added6: Buffer.alloc(17) }), /'added6'/);
  });

  test.each<[string, Buffer, RegExp]>([
    ['an empty payload', Buffer.alloc(0), /not valid bencode/],
    ['truncated bencode', text('d5:added6:abc'), /not valid bencode/],
    ['trailing bytes', text('dei0e'), /not valid bencode/],
    ['a duplicate key', text('d5:added0:5:added0:e'), /not valid bencode/],
    ['a list', text('le'), /not a bencoded dictionary/],
    ['an integer', text('i5e'), /not a bencoded dictionary/],
    ['a byte string', text('3:abc'), /not a bencoded dictionary/],
    ['an integer for added', encodeBencode({ added: 6 }), /'added' that is not a byte string/],
    ['a list for dropped6', encodeBencode({ dropped6: [] }), /'dropped6' that is not a byte string/],
    ['a dictionary for added.f', encodeBencode({ added: compact4(1), 'added.f': {} }), /'added.f'/],
    ['an integer for added6.f', encodeBencode({ 'added6.f': 1 }), /'added6.f'/],
    ['added of 7 bytes', encodeBencode({ added: Buffer.alloc(7, 1) }), /'added' of 7 bytes, not a multiple of 6/],
    ['dropped of 5 bytes', encodeBencode({ dropped: Buffer.alloc(5, 1) }), /'dropped' of 5 bytes/],
    ['added6 of 6 bytes', encodeBencode({ added6: compact4(1) }), /'added6' of 6 bytes, not a multiple of 18/],
    ['dropped6 of 19 bytes', encodeBencode({ dropped6: Buffer.alloc(19, 1) }), /'dropped6' of 19 bytes/],
  ])('refuses %s', (_name, payload, pattern) => {
    expectRefused(payload, pattern);
  });

  test('arbitrary bytes give a message or a WireProtocolError, never another exception', () => {
    // A small deterministic generator, so that a failure can be replayed.
    let seed = 0x2545f491;
    const random = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const valid = encodePex({
      added: [
        { ip: '1.2.3.4', port: 6881, flags: 2 },
        { ip: '2001:db8::7', port: 51413, flags: 16 },
      ],
      dropped: [{ ip: '10.0.0.1', port: 80 }],
    });
    for (let round = 0; round < 5000; round++) {
      let payload: Buffer;
      if (round % 2 === 0) {
        payload = Buffer.from(valid);
        for (let k = 0, n = 1 + random(4); k < n; k++) payload[random(payload.length)] = random(256);
        if (random(4) === 0) payload = payload.subarray(0, random(payload.length + 1));
      } else {
        payload = Buffer.alloc(random(64));
        for (let i = 0; i < payload.length; i++) payload[i] = random(256);
      }
      try {
        const message = decodePex(payload);
        for (const peer of [...message.added, ...message.dropped]) {
          expect(peer.port).toBeGreaterThan(0);
          // Whatever was accepted can be sent on.
          expect(() => pexPeerKey(peer)).not.toThrow();
        }
      } catch (e) {
        if (!(e instanceof WireProtocolError)) throw new Error(`payload ${payload.toString('hex')} threw ${String(e)}`);
      }
    }
  });
});

describe('pexPeerKey', () => {
  test('is the address and port as the status document writes them', () => {
    expect(pexPeerKey({ ip: '1.2.3.4', port: 6881 })).toBe('1.2.3.4:6881');
    expect(pexPeerKey({ ip: '::ffff:1.2.3.4', port: 6881 })).toBe('1.2.3.4:6881');
    expect(pexPeerKey({ ip: '2001:DB8:0:0:0:0:0:1', port: 6881 })).toBe('[2001:db8::1]:6881');
  });

  test('refuses what encodePex would refuse', () => {
    expect(() => pexPeerKey({ ip: 'example.com', port: 6881 })).toThrow(TypeError);
    expect(() => pexPeerKey({ ip: '1.2.3.4', port: 0 })).toThrow(RangeError);
  });

  test('two spellings of one address and port give one key', () => {
    expect(pexPeerKey({ ip: '::ffff:1.2.3.4', port: 80 })).toBe(pexPeerKey({ ip: '1.2.3.4', port: 80 }));
    expect(pexPeerKey({ ip: '2001:DB8::1', port: 80 })).toBe(pexPeerKey({ ip: '2001:db8:0:0:0:0:0:1', port: 80 }));
    expect(pexPeerKey({ ip: '1.2.3.4', port: 80, flags: 2 })).toBe(pexPeerKey({ ip: '1.2.3.4', port: 80 }));
  });

  test('another port or address gives another key', () => {
    expect(pexPeerKey({ ip: '1.2.3.4', port: 80 })).not.toBe(pexPeerKey({ ip: '1.2.3.4', port: 81 }));
    expect(pexPeerKey({ ip: '1.2.3.4', port: 80 })).not.toBe(pexPeerKey({ ip: '1.2.3.5', port: 80 }));
    expect(pexPeerKey({ ip: '::1.2.3.4', port: 80 })).not.toBe(pexPeerKey({ ip: '1.2.3.4', port: 80 }));
  });
});
