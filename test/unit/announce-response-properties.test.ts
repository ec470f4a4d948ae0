/**
 * Properties of the announce client's reader of tracker replies (fast-check; seed and run count:
 * test/helpers/property.ts): any body up to maxTrackerResponseLength, random, damaged or a peer
 * list as long as the limit allows, gives an announce result or an AnnounceError, never another
 * exception; replies our tracker writes are read back with the same peers.
 */
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { encodeBencode } from '../../src/io/bencode.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { AnnounceError, parseAnnounceResponse, type AnnounceResult } from '../../src/main/tracker/announce-client.js';
import { encodeAnnounceReply } from '../../src/main/tracker/tracker-responses.js';
import { mutated, propertyRuns, randomBytes } from '../helpers/property.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

function readOrRefuse(body: Buffer): AnnounceResult | AnnounceError {
  try {
    return parseAnnounceResponse(body);
  } catch (err) {
    if (err instanceof AnnounceError) return err;
    throw err;
  }
}

const peer = fc.record({
  ip: fc.oneof(fc.ipV4(), fc.ipV6()),
  port: fc.integer({ min: 1, max: 65535 }),
  peerId: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((id) => Buffer.from(id)),
});
const reply = fc.record({
  intervalS: fc.nat(100_000),
  minIntervalS: fc.nat(100_000),
  complete: fc.nat(),
  incomplete: fc.nat(),
  peers: fc.array(peer, { maxLength: 20 }),
});

/** The canonical text of an address, as the reader gives it. */
function canonical(ip: string): string {
  if (!isIPv6(ip)) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

describe('tracker reply properties', () => {
  test('a reply our tracker writes is read back with the same peers, compact or not', () => {
    fc.assert(
      fc.property(reply, fc.boolean(), (r, compact) => {
        const result = parseAnnounceResponse(encodeAnnounceReply(r, { compact, noPeerId: false }));
        expect(result).toMatchObject({ intervalS: r.intervalS, minIntervalS: r.minIntervalS, complete: r.complete, incomplete: r.incomplete });
        const got = result.peers.map((p) => `${canonical(p.ip)} ${p.port}`);
        if (compact) {
          // IPv4 peers in `peers`, IPv6 ones in `peers6`.
          const v4 = r.peers.filter((p) => !isIPv6(p.ip));
          const v6 = r.peers.filter((p) => isIPv6(p.ip));
          expect(got).toEqual([...v4, ...v6].map((p) => `${canonical(p.ip)} ${p.port}`));
        } else {
          expect(got).toEqual(r.peers.map((p) => `${canonical(p.ip)} ${p.port}`));
          expect(result.peers.map((p) => p.peerId?.toString('hex'))).toEqual(r.peers.map((p) => p.peerId.toString('hex')));
        }
      }),
      propertyRuns(300),
    );
  });

  test('random and damaged replies give a result or an AnnounceError', () => {
    const valid = fc.tuple(reply, fc.boolean()).map(([r, compact]) => encodeAnnounceReply(r, { compact, noPeerId: false }));
    const tokens = fc.constantFrom(b('2147483648:'), b('i-1e'), b('14:failure reason'), b('5:peers'), b('6:peers6'), b('l'.repeat(80)));
    fc.assert(
      fc.property(fc.oneof(randomBytes(100), mutated(valid, tokens)), (body) => {
        const result = readOrRefuse(body);
        if (result instanceof AnnounceError) return;
        expect(Number.isSafeInteger(result.intervalS) && result.intervalS >= 0).toBe(true);
        for (const p of result.peers) expect(p.port >= 1 && p.port <= 65535).toBe(true);
      }),
      propertyRuns(1000),
    );
  });

  test('a compact peer list as long as the reply limit allows is read whole', () => {
    const entries = Math.floor((settings.maxTrackerResponseLength - 64) / 6);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: entries }), fc.boolean(), (count, six) => {
        const size = six ? 18 : 6;
        const list = Buffer.alloc(Math.floor((count * 6) / size) * size, 1);
        const body = encodeBencode({ interval: 60, [six ? 'peers6' : 'peers']: list });
        expect(body.length).toBeLessThanOrEqual(settings.maxTrackerResponseLength);
        const result = readOrRefuse(body);
        expect(result).not.toBeInstanceOf(AnnounceError);
        expect((result as AnnounceResult).peers).toHaveLength(list.length / size);
      }),
      { ...propertyRuns(5), examples: [[entries, false]] },
    );
  });
});
