/**
 * The UDP tracker codec against BEP 15's tables, byte by byte: every packet built here by hand
 * at the offsets and sizes the BEP gives, independently of the encoder, then read and written.
 */
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, responseTransactionId } from '../../src/main/tracker/udp-tracker-codec.js';
import {
  MAX_SCRAPE_INFO_HASHES,
  PACKET_LENGTHS,
  PROTOCOL_ID,
  type Decoded,
  type UdpAnnounceRequest,
  type UdpTrackerRequest,
  type UdpTrackerResponse,
} from '../../src/main/tracker/udp-tracker-packets.js';
import { decodeOptions, encodeOptions, parseUdpTrackerUrl } from '../../src/main/tracker/udp-tracker-url.js';

const HASH = Buffer.from('aa'.repeat(20), 'hex');
const PEER_ID = Buffer.from('-XX0100-abcdefghijkl', 'latin1');
const CONNECTION_ID = 0x8123456789abcdefn;

/** A buffer written field by field: [size in bytes, value] in order, big-endian. */
function bytes(...fields: [1 | 2 | 4 | 8 | 'raw', number | bigint | Buffer][]): Buffer {
  const parts = fields.map(([size, value]) => {
    if (size === 'raw') return value as Buffer;
    const out = Buffer.alloc(size);
    if (size === 8) out.writeBigUInt64BE(BigInt.asUintN(64, BigInt(value as number | bigint)));
    else if (size === 4) out.writeUInt32BE(Number(value) >>> 0);
    else if (size === 2) out.writeUInt16BE(Number(value));
    else out.writeUInt8(Number(value));
    return out;
  });
  return Buffer.concat(parts);
}

function ok<T>(result: Decoded<T>): T {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.packet;
}

function reason<T>(result: Decoded<T>): string {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.packet, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return result.reason;
}

/** BEP 15's announce request: 98 bytes, then (BEP 41) options. */
function announceBytes(fields: { event?: number; numWant?: number; left?: bigint; options?: Buffer } = {}): Buffer {
  return bytes(
    [8, CONNECTION_ID], // 0 connection_id
    [4, 1], // 8 action: announce
    [4, 0xdeadbeef], // 12 transaction_id
    ['raw', HASH], // 16 info_hash
    ['raw', PEER_ID], // 36 peer_id
    [8, 5_000_000_000n], // 56 downloaded (over 2^32)
    [8, fields.left ?? 1234n], // 64 left
    [8, 42n], // 72 uploaded
    [4, fields.event ?? 2], // 80 event: started
    [4, 0], // 84 IP address: default
    [4, 0x01020304], // 88 key
    [4, fields.numWant ?? -1], // 92 num_want: default
    [2, 6881], // 96 port
    ['raw', fields.options ?? Buffer.alloc(0)], // 98 options
  );
}

describe('requests, as BEP 15 lays them out', () => {
  test('a connect request is the protocol id, action 0 and the transaction id: 16 bytes', () => {
    const packet = bytes([8, 0x41727101980n], [4, 0], [4, 7]);
    expect(encodeRequest({ action: 'connect', transactionId: 7 })).toEqual(packet);
    expect(ok(decodeRequest(packet))).toEqual({ action: 'connect', transactionId: 7 });
    expect(packet.readBigUInt64BE(0)).toBe(PROTOCOL_ID);
  });

  test('a connect request with another id than the protocol id is refused', () => {
    expect(reason(decodeRequest(bytes([8, 0x41727101981n], [4, 0], [4, 7])))).toMatch(/protocol id/);
  });

  test('an announce request is 98 bytes at the offsets of BEP 15, with 64-bit byte counts', () => {
    const packet = announceBytes();
    expect(packet.length).toBe(98);
    const request = ok(decodeRequest(packet));
    expect(request).toEqual({
      action: 'announce',
      connectionId: CONNECTION_ID,
      transactionId: 0xdeadbeef,
      infoHash: HASH,
      peerId: PEER_ID,
      downloaded: 5_000_000_000,
      left: 1234,
      uploaded: 42,
      event: 'started',
      ip: 0,
      key: 0x01020304,
      numWant: -1,
      port: 6881,
      urlData: Buffer.alloc(0),
    });
    expect(encodeRequest(request)).toEqual(packet);
  });

  test('events 0 to 3 are none, completed, started and stopped; any other is refused', () => {
    const events = [0, 1, 2, 3].map((event) => (ok(decodeRequest(announceBytes({ event }))) as UdpAnnounceRequest).event);
    expect(events).toEqual(['empty', 'completed', 'started', 'stopped']);
    expect(reason(decodeRequest(announceBytes({ event: 4 })))).toMatch(/unknown event 4/);
    expect(reason(decodeRequest(announceBytes({ event: -1 })))).toMatch(/unknown event -1/);
  });

  test('a negative byte count reads as 0 and one past 2^53 as the largest safe integer', () => {
    expect((ok(decodeRequest(announceBytes({ left: -5n }))) as UdpAnnounceRequest).left).toBe(0);
    expect((ok(decodeRequest(announceBytes({ left: 2n ** 62n }))) as UdpAnnounceRequest).left).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('BEP 41: URLData options after the port carry the path and query, concatenated; NOP and unknown options are skipped', () => {
    const options = bytes([1, 1], [1, 2], [1, 9], ['raw', Buffer.from('/announce')], [1, 0x7f], [1, 2], [2, 0xffff], [1, 2], [1, 4], ['raw', Buffer.from('?a=b')], [1, 0], ['raw', Buffer.from('junk')]);
    const request = ok(decodeRequest(announceBytes({ options }))) as UdpAnnounceRequest;
    expect(request.urlData.toString()).toBe('/announce?a=b');
  });

  test('BEP 41: URL data longer than 255 bytes goes in several URLData options, then EndOfOptions', () => {
    const urlData = Buffer.from(`/announce?${'x'.repeat(600)}`);
    const options = encodeOptions(urlData);
    expect(options[0]).toBe(2);
    expect(options[1]).toBe(255);
    expect(options[2 + 255]).toBe(2);
    expect(options[2 + 255 + 1]).toBe(255);
    expect(options[2 * (2 + 255)]).toBe(2);
    expect(options[2 * (2 + 255) + 1]).toBe(urlData.length - 510);
    expect(options[options.length - 1]).toBe(0);
    expect(ok(decodeOptions(options))).toEqual(urlData);
    expect(encodeOptions(Buffer.alloc(0)).length).toBe(0);
  });

  test('a BEP 41 option that runs past the end of the packet is refused', () => {
    expect(reason(decodeRequest(announceBytes({ options: bytes([1, 2], [1, 10], ['raw', Buffer.from('/ann')]) })))).toMatch(/runs past the end/);
    expect(reason(decodeRequest(announceBytes({ options: bytes([1, 2]) })))).toMatch(/no length byte/);
  });

  test('an announce request one byte short is refused as truncated', () => {
    expect(reason(decodeRequest(announceBytes().subarray(0, 97)))).toMatch(/announce request of 97 bytes is truncated/);
  });

  test('a scrape request is the header then 20 bytes per info hash, 1 to 74 of them', () => {
    const other = Buffer.from('bb'.repeat(20), 'hex');
    const packet = bytes([8, CONNECTION_ID], [4, 2], [4, 9], ['raw', HASH], ['raw', other]);
    expect(packet.length).toBe(16 + 40);
    const request: UdpTrackerRequest = { action: 'scrape', connectionId: CONNECTION_ID, transactionId: 9, infoHashes: [HASH, other] };
    expect(ok(decodeRequest(packet))).toEqual(request);
    expect(encodeRequest(request)).toEqual(packet);
    expect(reason(decodeRequest(bytes([8, CONNECTION_ID], [4, 2], [4, 9])))).toMatch(/truncated/);
    expect(reason(decodeRequest(packet.subarray(0, 16 + 30)))).toMatch(/not a whole number of 20-byte entries/);
    const many = Buffer.concat([bytes([8, CONNECTION_ID], [4, 2], [4, 9]), Buffer.alloc(20 * (MAX_SCRAPE_INFO_HASHES + 1))]);
    expect(reason(decodeRequest(many))).toMatch(/more than 74/);
  });

  test('actions 3 (error) and unknown ones are not requests; under 16 bytes is no request at all', () => {
    expect(reason(decodeRequest(bytes([8, CONNECTION_ID], [4, 3], [4, 9])))).toMatch(/action 3 is not a request/);
    expect(reason(decodeRequest(bytes([8, CONNECTION_ID], [4, 0x100], [4, 9])))).toMatch(/action 256/);
    expect(reason(decodeRequest(Buffer.alloc(15)))).toMatch(/15 bytes is truncated/);
  });

  test('extra bytes after a connect or after the options are ignored (BEP 15: do not assume sizes)', () => {
    expect(ok(decodeRequest(bytes([8, PROTOCOL_ID], [4, 0], [4, 7], [4, 0xffffffff])))).toEqual({ action: 'connect', transactionId: 7 });
  });
});

describe('responses, as BEP 15 lays them out', () => {
  test('a connect response is action 0, the transaction id and the connection id: 16 bytes', () => {
    const packet = bytes([4, 0], [4, 7], [8, CONNECTION_ID]);
    const response: UdpTrackerResponse = { action: 'connect', transactionId: 7, connectionId: CONNECTION_ID };
    expect(encodeResponse(response)).toEqual(packet);
    expect(ok(decodeResponse(packet))).toEqual(response);
    expect(reason(decodeResponse(packet.subarray(0, 15)))).toMatch(/connect response of 15 bytes is truncated/);
  });

  test('an announce response over IPv4 is 20 bytes then 6 per peer', () => {
    const packet = bytes([4, 1], [4, 7], [4, 1800], [4, 3], [4, 4], [4, 0x0a000001], [2, 6881], [4, 0x7f000001], [2, 51413]);
    expect(packet.length).toBe(20 + 12);
    const response: UdpTrackerResponse = {
      action: 'announce',
      transactionId: 7,
      intervalS: 1800,
      leechers: 3,
      seeders: 4,
      peers: [
        { ip: '10.0.0.1', port: 6881 },
        { ip: '127.0.0.1', port: 51413 },
      ],
    };
    expect(ok(decodeResponse(packet, 'IPv4'))).toEqual(response);
    expect(encodeResponse(response, 'IPv4')).toEqual(packet);
    expect(reason(decodeResponse(packet.subarray(0, 31), 'IPv4'))).toMatch(/not a whole number of 6-byte entries/);
    expect(reason(decodeResponse(packet.subarray(0, 19), 'IPv4'))).toMatch(/truncated/);
  });

  test('an announce response over IPv6 carries 18 bytes per peer, and only IPv6 peers', () => {
    const address = Buffer.from('20010db8000000000000000000000001', 'hex');
    const packet = bytes([4, 1], [4, 7], [4, 60], [4, 0], [4, 1], ['raw', address], [2, 6881]);
    const response: UdpTrackerResponse = { action: 'announce', transactionId: 7, intervalS: 60, leechers: 0, seeders: 1, peers: [{ ip: '2001:db8::1', port: 6881 }] };
    expect(ok(decodeResponse(packet, 'IPv6'))).toEqual(response);
    expect(encodeResponse({ ...response, peers: [...response.peers, { ip: '10.0.0.1', port: 1 }] }, 'IPv6')).toEqual(packet);
    // Read as IPv4, the 18 bytes are three 6-byte entries (two with port 0, left out): the family must come from the packet.
    expect(ok(decodeResponse(packet, 'IPv4'))).toMatchObject({ peers: [{ ip: '0.0.0.1', port: 6881 }] });
  });

  test('a scrape response is 8 bytes then seeders, completed and leechers per torrent', () => {
    const packet = bytes([4, 2], [4, 7], [4, 5], [4, 10], [4, 2], [4, 0], [4, 0], [4, 0]);
    const response: UdpTrackerResponse = {
      action: 'scrape',
      transactionId: 7,
      files: [
        { seeders: 5, completed: 10, leechers: 2 },
        { seeders: 0, completed: 0, leechers: 0 },
      ],
    };
    expect(ok(decodeResponse(packet))).toEqual(response);
    expect(encodeResponse(response)).toEqual(packet);
    expect(reason(decodeResponse(packet.subarray(0, 30)))).toMatch(/12-byte entries/);
  });

  test('an error response is action 3, the transaction id and the message to the end (a trailing NUL dropped)', () => {
    const packet = bytes([4, 3], [4, 7], ['raw', Buffer.from('torrent not served')]);
    expect(encodeResponse({ action: 'error', transactionId: 7, message: 'torrent not served' })).toEqual(packet);
    expect(ok(decodeResponse(packet))).toEqual({ action: 'error', transactionId: 7, message: 'torrent not served' });
    expect(ok(decodeResponse(Buffer.concat([packet, Buffer.from([0])])))).toMatchObject({ message: 'torrent not served' });
  });

  test('an unknown action or under 8 bytes is refused, and the transaction id is found for routing', () => {
    expect(reason(decodeResponse(bytes([4, 4], [4, 7])))).toMatch(/action 4 is not a response/);
    expect(reason(decodeResponse(Buffer.alloc(7)))).toMatch(/7 bytes is truncated/);
    expect(responseTransactionId(bytes([4, 1], [4, 0xcafe]))).toBe(0xcafe);
    expect(responseTransactionId(Buffer.alloc(7))).toBeUndefined();
  });

  test('the length table agrees with BEP 15', () => {
    expect(PACKET_LENGTHS.request.connect.header).toBe(16);
    expect(PACKET_LENGTHS.request.announce.header).toBe(98);
    expect(PACKET_LENGTHS.request.scrape).toMatchObject({ header: 16, entry: 20, maxEntries: 74 });
    expect(PACKET_LENGTHS.response.connect.header).toBe(16);
    expect(PACKET_LENGTHS.response.announce).toMatchObject({ header: 20, entry: 6 });
    expect(PACKET_LENGTHS.response.scrape).toMatchObject({ header: 8, entry: 12 });
    expect(PACKET_LENGTHS.response.error.header).toBe(8);
  });
});

describe('udp:// URLs', () => {
  test('give the host, the port and the path and query as BEP 41 URL data', () => {
    const target = ok(parseUdpTrackerUrl('udp://tracker.example.org:6969/announce?passkey=ab%20c'));
    expect(target).toEqual({ host: 'tracker.example.org', port: 6969, urlData: Buffer.from('/announce?passkey=ab%20c') });
    expect(ok(parseUdpTrackerUrl('udp://[2001:db8::1]:6881/announce'))).toMatchObject({ host: '2001:db8::1', port: 6881 });
    expect(ok(parseUdpTrackerUrl('udp://127.0.0.1:6881'))).toMatchObject({ host: '127.0.0.1', port: 6881, urlData: Buffer.alloc(0) });
  });

  test('refuse other schemes, a missing port and what is not a URL', () => {
    expect(reason(parseUdpTrackerUrl('http://127.0.0.1:6881/announce'))).toMatch(/not a udp:\/\/ URL/);
    expect(reason(parseUdpTrackerUrl('udp://127.0.0.1/announce'))).toMatch(/no port/);
    expect(reason(parseUdpTrackerUrl('udp://127.0.0.1:0/announce'))).toMatch(/port 0/);
    expect(reason(parseUdpTrackerUrl('not a url'))).toMatch(/not a URL/);
  });
});
