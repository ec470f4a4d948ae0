/** The BEP 14 announcement (src/main/discovery/lsd-message.ts): what we send, and what we accept from the network. */
import fc from 'fast-check';
import { encodeLsdAnnouncement, LSD_GROUP, LSD_PORT, lsdOverheadBytes, parseLsdAnnouncement } from '../../src/main/discovery/lsd-message.js';

const HASH_A = 'a'.repeat(40);
const HASH_B = '0123456789abcdef0123456789abcdef01234567';

test('an announcement is BEP 14\'s request, with one Infohash line per swarm, and reads back the same', () => {
  const packet = encodeLsdAnnouncement({ port: 6881, infoHashes: [HASH_A, HASH_B], cookie: 'c00k1e' });
  expect(packet.toString('latin1')).toBe(
    `BT-SEARCH * HTTP/1.1\r\nHost: ${LSD_GROUP}:${LSD_PORT}\r\nPort: 6881\r\nInfohash: ${HASH_A}\r\nInfohash: ${HASH_B}\r\ncookie: c00k1e\r\n\r\n\r\n`,
  );
  expect(parseLsdAnnouncement(packet)).toEqual({ port: 6881, infoHashes: [HASH_A, HASH_B], cookie: 'c00k1e' });
  expect(lsdOverheadBytes(6881, 'c00k1e')).toBe(packet.length - 2 * 52);
});

test('other clients\' spellings are read: header case, spaces, upper-case hex, extra headers, no cookie', () => {
  const text = `BT-SEARCH * HTTP/1.1\r\nHOST: ${LSD_GROUP}:${LSD_PORT}\r\nport:  51413 \r\nX-Other: 1\r\ninfohash: ${HASH_B.toUpperCase()}\r\n\r\n\r\n`;
  expect(parseLsdAnnouncement(Buffer.from(text))).toEqual({ port: 51413, infoHashes: [HASH_B] });
});

test.each([
  ['another method', `M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${HASH_A}\r\n\r\n`],
  ['no port', `BT-SEARCH * HTTP/1.1\r\nInfohash: ${HASH_A}\r\n\r\n`],
  ['port 0', `BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: ${HASH_A}\r\n\r\n`],
  ['a port too large', `BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: ${HASH_A}\r\n\r\n`],
  ['no valid info hash', `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${HASH_A.slice(1)}\r\nInfohash: zz\r\n\r\n`],
  ['too large a datagram', `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${HASH_A}\r\n${'X: y\r\n'.repeat(400)}\r\n`],
])('%s is not an announcement', (_what, text) => {
  expect(parseLsdAnnouncement(Buffer.from(text))).toBeNull();
});

test('a datagram of any content is an announcement or null, never an exception; repeated info hashes count once', () => {
  const line = fc.oneof(
    fc.constantFrom('BT-SEARCH * HTTP/1.1', 'Port: 6881', `Infohash: ${HASH_A}`, `Infohash: ${HASH_B}`, 'cookie: x', '', ':', 'Port: -1'),
    fc.string({ maxLength: 60 }),
  );
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 2100 }).map((bytes) => Buffer.from(bytes)), fc.array(line, { maxLength: 80 }).map((lines) => Buffer.from(lines.join('\r\n')))), (packet) => {
      const parsed = parseLsdAnnouncement(packet);
      if (parsed) {
        expect(parsed.infoHashes.length).toBeGreaterThan(0);
        expect(parsed.infoHashes.length).toBeLessThan(40);
        expect(parsed.port).toBeGreaterThanOrEqual(1);
      }
    }),
    { numRuns: 2_000 },
  );
  const many = Array.from({ length: 30 }, (_, i) => `Infohash: ${i.toString(16).padStart(40, '0')}`).join('\r\n');
  const twice = `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n${many}\r\n${many}\r\n\r\n`;
  expect(parseLsdAnnouncement(Buffer.from(twice.slice(0, 2048)))?.infoHashes).toHaveLength(30);
});
