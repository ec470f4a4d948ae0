/** What a connection to our one port is, from its first bytes (src/main/net/connection-kind.ts). */
import { randomBytes } from 'node:crypto';
import { connectionKind } from '../../src/main/net/connection-kind.js';
import { encodeHandshake } from '../../src/main/wire/wire-codec.js';

const plain = encodeHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2));

test('a BitTorrent handshake once its 20 first bytes are in, and not before', () => {
  for (let length = 1; length < 20; length++) expect(connectionKind(plain.subarray(0, length))).toBeNull();
  expect(connectionKind(plain.subarray(0, 20))).toBe('bittorrent');
  expect(connectionKind(plain)).toBe('bittorrent');
});

test.each(['GET /status HTTP/1.1\r\n', 'POST /torrents HTTP/1.1\r\n', 'DELETE /torrents/ab HTTP/1.1\r\n', 'OPTIONS * HTTP/1.1\r\n'])('HTTP: %j', (request) => {
  expect(connectionKind(Buffer.from(request))).toBe('http');
  expect(connectionKind(Buffer.from(request.slice(0, 2)))).toBeNull();
});

test('an encrypted handshake that starts with 19 or a capital letter is not taken for a plain handshake or HTTP', () => {
  const key = randomBytes(96);
  key[0] = 19;
  key[1] = 0x42;
  key[2] = 0x00;
  expect(connectionKind(key)).toBe('other');
  key.write('GE', 0, 'latin1');
  expect(connectionKind(key.subarray(0, 2))).toBeNull();
  key[2] = 0x80;
  expect(connectionKind(key)).toBe('other');
  expect(connectionKind(Buffer.from([0x8a, 0x11, 0x00, 0x42]))).toBe('other');
});
