/**
 * Properties of the UDP tracker codec (fast-check; seed and run count: test/helpers/property.ts):
 * every packet kind of BEP 15 (and BEP 41's URL data) reads back as written; any bytes, of any
 * length up to 2000, random or damaged, give a packet or a reason and never an exception; a
 * packet cut short or with its action changed is refused with a reason.
 */
import fc from 'fast-check';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/main/tracker/udp-tracker-codec.js';
import {
  MAX_SCRAPE_INFO_HASHES,
  UDP_EVENTS,
  type AddressFamily,
  type Decoded,
  type UdpTrackerRequest,
  type UdpTrackerResponse,
} from '../../src/main/tracker/udp-tracker-packets.js';
import { mutated, propertyRuns, randomBytes } from '../helpers/property.js';

const id20 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b));
const uint32 = fc.nat({ max: 0xffffffff });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const int32Count = fc.nat({ max: 0x7fffffff });

const connectRequest = fc.record({ action: fc.constant('connect' as const), transactionId: uint32 });
const announceRequest = fc.record({
  action: fc.constant('announce' as const),
  connectionId: uint64,
  transactionId: uint32,
  infoHash: id20,
  peerId: id20,
  downloaded: count,
  left: count,
  uploaded: count,
  event: fc.constantFrom(...UDP_EVENTS),
  ip: uint32,
  key: uint32,
  numWant: fc.oneof(fc.constant(-1), int32Count),
  port: fc.nat({ max: 65535 }),
  urlData: fc.uint8Array({ maxLength: 700 }).map((b) => Buffer.from(b)),
});
const scrapeRequest = fc.record({
  action: fc.constant('scrape' as const),
  connectionId: uint64,
  transactionId: uint32,
  infoHashes: fc.array(id20, { minLength: 1, maxLength: MAX_SCRAPE_INFO_HASHES }),
});
const request: fc.Arbitrary<UdpTrackerRequest> = fc.oneof(connectRequest, announceRequest, scrapeRequest);

/** Peers as the decoder gives them: canonical addresses, ports from 1 (port 0 is left out). */
function peers(family: AddressFamily): fc.Arbitrary<{ ip: string; port: number }[]> {
  const ip = family === 'IPv4' ? fc.ipV4() : fc.ipV6().map((a) => new URL(`http://[${a}]/`).hostname.slice(1, -1));
  return fc.array(fc.record({ ip, port: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 60 });
}

function response(family: AddressFamily): fc.Arbitrary<UdpTrackerResponse> {
  return fc.oneof(
    fc.record({ action: fc.constant('connect' as const), transactionId: uint32, connectionId: uint64 }),
    fc.record({
      action: fc.constant('announce' as const),
      transactionId: uint32,
      intervalS: int32Count,
      leechers: int32Count,
      seeders: int32Count,
      peers: peers(family),
    }),
    fc.record({
      action: fc.constant('scrape' as const),
      transactionId: uint32,
      files: fc.array(fc.record({ seeders: int32Count, completed: int32Count, leechers: int32Count }), { maxLength: 74 }),
    }),
    fc.record({
      action: fc.constant('error' as const),
      transactionId: uint32,
      // A message as a tracker writes it: any text without a trailing NUL (which readers drop).
      message: fc.string({ unit: 'grapheme', maxLength: 100 }).filter((m) => !m.endsWith('\0')),
    }),
  );
}
const family = fc.constantFrom<AddressFamily>('IPv4', 'IPv6');

/** Calls `decode` and fails the property if it throws; checks a refusal has a reason. */
function safely<T>(decode: () => Decoded<T>): Decoded<T> {
  const result = decode();
  if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  return result;
}

describe('UDP tracker codec properties', () => {
  test('every request reads back as written', () => {
    fc.assert(
      fc.property(request, (packet) => {
        const decoded = decodeRequest(encodeRequest(packet));
        expect(decoded).toEqual({ ok: true, packet });
      }),
      propertyRuns(500),
    );
  });

  test('every response reads back as written, in the address family it was written for', () => {
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), response(f))),
        ([f, packet]) => {
          expect(decodeResponse(encodeResponse(packet, f), f)).toEqual({ ok: true, packet });
        },
      ),
      propertyRuns(500),
    );
  });

  test('any bytes from 0 to 2000 long give a packet or a reason, never an exception', () => {
    fc.assert(
      fc.property(randomBytes(2000), family, (bytes, f) => {
        safely(() => decodeRequest(bytes));
        safely(() => decodeResponse(bytes, f));
      }),
      propertyRuns(1000),
    );
  });

  test('damaged packets of every kind give a packet or a reason, never an exception', () => {
    const valid = fc.oneof(
      request.map((r) => encodeRequest(r)),
      family.chain((f) => response(f).map((r) => encodeResponse(r, f))),
    );
    const tokens = fc.constantFrom(
      Buffer.from('0000041727101980', 'hex'),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from([0, 0, 0, 3]),
      Buffer.from([2, 255]),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    );
    fc.assert(
      fc.property(mutated(valid, tokens), family, (bytes, f) => {
        const asRequest = safely(() => decodeRequest(bytes));
        const asResponse = safely(() => decodeResponse(bytes, f));
        // What is accepted is whole: re-encoding it gives a packet that reads the same.
        if (asRequest.ok) expect(decodeRequest(encodeRequest(asRequest.packet))).toEqual(asRequest);
        if (asResponse.ok) expect(decodeResponse(encodeResponse(asResponse.packet, f), f)).toEqual(asResponse);
      }),
      propertyRuns(1000),
    );
  });

  test('a request cut short of its fixed part is refused with a reason', () => {
    fc.assert(
      fc.property(request, fc.nat(), (packet, cut) => {
        const bytes = encodeRequest(packet);
        const fixed = packet.action === 'connect' ? 16 : packet.action === 'announce' ? 98 : 36;
        const short = bytes.subarray(0, cut % fixed);
        expect(decodeRequest(short)).toEqual({ ok: false, reason: expect.stringMatching(/truncated/) });
      }),
      propertyRuns(300),
    );
  });

  test('a response cut short of its header, or inside an entry, is refused with a reason', () => {
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), response(f))),
        fc.nat(),
        ([f, packet], cut) => {
          const bytes = encodeResponse(packet, f);
          const header = { connect: 16, announce: 20, scrape: 8, error: 8 }[packet.action];
          expect(decodeResponse(bytes.subarray(0, cut % header), f)).toEqual({ ok: false, reason: expect.stringMatching(/truncated/) });
          const entry = packet.action === 'announce' ? (f === 'IPv6' ? 18 : 6) : packet.action === 'scrape' ? 12 : 0;
          if (entry > 0 && bytes.length > header) {
            const inside = bytes.length - 1 - (cut % (entry - 1));
            expect(decodeResponse(bytes.subarray(0, inside), f)).toEqual({ ok: false, reason: expect.stringMatching(/entries/) });
          }
        },
      ),
      propertyRuns(300),
    );
  });

  test('a response with an action past 3 and a request with action 3 or past it are refused', () => {
    fc.assert(
      fc.property(request, fc.integer({ min: 3, max: 0xffffffff }), family, (packet, action, f) => {
        const bytes = Buffer.from(encodeRequest(packet));
        bytes.writeUInt32BE(action, 8);
        expect(decodeRequest(bytes)).toEqual({ ok: false, reason: expect.stringMatching(/not a request/) });
        const asResponse = Buffer.from(bytes);
        asResponse.writeUInt32BE(Math.max(4, action), 0);
        expect(decodeResponse(asResponse, f)).toEqual({ ok: false, reason: expect.stringMatching(/not a response/) });
      }),
      propertyRuns(300),
    );
  });
});
