/**
 * Our UDP tracker (BEP 15) fed packet by packet, with a fake send and a fake time: connection ids
 * bound to the client's address and port and to the time, announces and scrapes answered from
 * the registry the HTTP tracker shares, and what is answered with an error and what is dropped.
 */
import { parseAnnounceRequest, parseQueryString, isTrackerFailure, type AnnounceRequest } from '../../src/main/tracker/tracker-query.js';
import { TrackerRegistry, type AnnounceReply } from '../../src/main/tracker/tracker-registry.js';
import { decodeResponse, encodeRequest } from '../../src/main/tracker/udp-tracker-codec.js';
import type { UdpAnnounceRequest, UdpAnnounceResponse, UdpTrackerResponse } from '../../src/main/tracker/udp-tracker-packets.js';
import { selfAddressFor, UdpTrackerServer } from '../../src/main/tracker/udp-tracker-server.js';
import { CONNECTION_ID_MARK, type UdpSource } from '../../src/main/net/udp-port.js';
import { defaultSettings } from '../../src/io/settings.js';

const HASH = Buffer.from('aa'.repeat(20), 'hex');
const OTHER = Buffer.from('bb'.repeat(20), 'hex');
const SELF_IP = '192.168.1.10';
const SELF_PORT = 6881;
const SLOT_MS = defaultSettings.udpConnectionIdSlotMs;

const CLIENT: UdpSource = { address: '10.0.0.1', port: 40000, family: 'IPv4' };

function peerId(n: number): Buffer {
  return Buffer.from(`-XX0000-${String(n).padStart(12, '0')}`, 'latin1');
}

interface Fixture {
  server: UdpTrackerServer;
  registry: TrackerRegistry;
  sent: { packet: Buffer; to: UdpSource }[];
  clock: { now: number };
}

function fixture(settings: Partial<typeof defaultSettings> = {}): Fixture {
  const clock = { now: 10 * SLOT_MS };
  const registry = new TrackerRegistry({
    served: (hex) => (hex === HASH.toString('hex') ? { selfPort: SELF_PORT, selfComplete: true } : null),
  });
  const sent: Fixture['sent'] = [];
  const server = new UdpTrackerServer({
    registry,
    send: (packet, to) => sent.push({ packet, to }),
    selfIp: (from) => selfAddressFor(from, SELF_IP),
    now: () => clock.now,
    secret: Buffer.from('a fixed key for the tests'),
    settings: { ...defaultSettings, ...settings },
  });
  return { server, registry, sent, clock };
}

/** Feeds one packet and returns the decoded reply, or null when the server sent nothing. */
function exchange(f: Fixture, packet: Buffer, from: UdpSource = CLIENT): UdpTrackerResponse | null {
  const before = f.sent.length;
  f.server.handle(packet, from);
  expect(f.sent.length - before).toBeLessThanOrEqual(1);
  if (f.sent.length === before) return null;
  const { packet: reply, to } = f.sent[f.sent.length - 1];
  expect(to).toEqual(from);
  const decoded = decodeResponse(reply, from.family);
  if (!decoded.ok) throw new Error(`the server sent a packet that does not decode: ${decoded.reason}`);
  return decoded.packet;
}

function connect(f: Fixture, from: UdpSource = CLIENT): bigint {
  const reply = exchange(f, encodeRequest({ action: 'connect', transactionId: 1 }), from);
  if (reply?.action !== 'connect') throw new Error(`expected a connect response, got ${JSON.stringify(reply?.action)}`);
  expect(reply.transactionId).toBe(1);
  return reply.connectionId;
}

function announcePacket(connectionId: bigint, fields: Partial<UdpAnnounceRequest> = {}): Buffer {
  return encodeRequest({
    action: 'announce',
    connectionId,
    transactionId: 2,
    infoHash: HASH,
    peerId: peerId(1),
    downloaded: 0,
    left: 1000,
    uploaded: 0,
    event: 'started',
    ip: 0,
    key: 7,
    numWant: -1,
    port: 7001,
    urlData: Buffer.from('/announce'),
    ...fields,
  });
}

function addresses(reply: UdpTrackerResponse | null): string[] {
  if (reply?.action !== 'announce') throw new Error(`expected an announce response, got ${JSON.stringify(reply)}`);
  return reply.peers.map((p) => `${p.ip}:${p.port}`).sort();
}

/** An announce as the HTTP tracker reads it from a query string. */
function httpAnnounce(query: string, remoteIp: string): AnnounceRequest {
  const parsed = parseQueryString(query);
  if (isTrackerFailure(parsed)) throw new Error(parsed.failure);
  const request = parseAnnounceRequest(parsed, remoteIp);
  if (isTrackerFailure(request)) throw new Error(request.failure);
  return request;
}

const escaped = (bytes: Buffer): string => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

describe('UDP tracker', () => {
  test('connect, then announce: the reply lists us and a peer that announced over HTTP, and HTTP sees the UDP peer', () => {
    const f = fixture();
    const httpPeer = httpAnnounce(`info_hash=${escaped(HASH)}&peer_id=${escaped(peerId(9))}&port=7009&uploaded=0&downloaded=0&left=0`, '10.0.0.9');
    f.registry.announce(httpPeer, SELF_IP, f.clock.now);

    const reply = exchange(f, announcePacket(connect(f)));
    expect(reply).toMatchObject({ action: 'announce', transactionId: 2, intervalS: defaultSettings.trackerIntervalS, seeders: 2, leechers: 1 });
    expect(addresses(reply)).toEqual([`10.0.0.9:7009`, `${SELF_IP}:${SELF_PORT}`]);

    const seenOverHttp = f.registry.announce({ ...httpPeer, event: 'empty' }, SELF_IP, f.clock.now) as AnnounceReply;
    expect(seenOverHttp.peers.map((p) => `${p.ip}:${p.port}`).sort()).toEqual([`10.0.0.1:7001`, `${SELF_IP}:${SELF_PORT}`]);
    expect(f.server.counters).toMatchObject({ connects: 1, announces: 1, errors: 0 });
  });

  test('the address announced is the packet source, never the ip field; the port is the packet one', () => {
    const f = fixture();
    exchange(f, announcePacket(connect(f), { ip: 0x01020304, port: 7777 }));
    expect(f.registry.peers(HASH.toString('hex'), f.clock.now).map((p) => `${p.ip}:${p.port}`)).toEqual(['10.0.0.1:7777']);
  });

  test('a client on loopback is given our loopback address', () => {
    const f = fixture();
    const local: UdpSource = { address: '127.0.0.1', port: 50000, family: 'IPv4' };
    expect(addresses(exchange(f, announcePacket(connect(f, local)), local))).toEqual([`127.0.0.1:${SELF_PORT}`]);
  });

  test('connection ids carry the mark in their first byte, and differ by address, port and time slot', () => {
    const f = fixture();
    const ids = new Set<bigint>();
    for (let i = 0; i < 200; i++) {
      const id = f.server.connectionIdFor({ address: `10.0.${i >> 8}.${i & 255}`, port: 1000 + i, family: 'IPv4' });
      expect(Number(id >> 56n) & CONNECTION_ID_MARK).toBe(CONNECTION_ID_MARK);
      expect(Number(id >> 56n)).not.toBe(0x64);
      ids.add(id);
    }
    expect(ids.size).toBe(200);
    const id = f.server.connectionIdFor(CLIENT);
    expect(f.server.connectionIdFor({ ...CLIENT, port: CLIENT.port + 1 })).not.toBe(id);
    expect(f.server.connectionIdFor(CLIENT, f.clock.now + SLOT_MS)).not.toBe(id);
  });

  test('a wrong connection id is dropped silently', () => {
    const f = fixture();
    connect(f);
    expect(exchange(f, announcePacket(0x8000000000000001n))).toBeNull();
    expect(exchange(f, announcePacket(0n))).toBeNull();
    expect(f.server.counters.dropped.badConnectionId).toBe(2);
    expect(f.registry.peers(HASH.toString('hex'), f.clock.now)).toEqual([]);
  });

  test('a connection id given to another address or port is dropped', () => {
    const f = fixture();
    const id = connect(f);
    expect(exchange(f, announcePacket(id), { ...CLIENT, address: '10.0.0.2' })).toBeNull();
    expect(exchange(f, announcePacket(id), { ...CLIENT, port: CLIENT.port + 1 })).toBeNull();
    expect(f.server.counters.dropped.badConnectionId).toBe(2);
  });

  test('a connection id is accepted for at least one slot (a minute) and at most two, then dropped', () => {
    const f = fixture();
    f.clock.now += SLOT_MS - 1; // the last moment of a slot
    const id = connect(f);
    f.clock.now += SLOT_MS;
    expect(exchange(f, announcePacket(id))).toMatchObject({ action: 'announce' });
    f.clock.now += 1;
    expect(exchange(f, announcePacket(id))).toBeNull();

    const g = fixture(); // the first moment of a slot
    const fresh = connect(g);
    g.clock.now += 2 * SLOT_MS - 1;
    expect(exchange(g, announcePacket(fresh))).toMatchObject({ action: 'announce' });
    g.clock.now += 1;
    expect(exchange(g, announcePacket(fresh))).toBeNull();
  });

  test('a truncated announce is answered with the reason when its connection id is valid, else dropped', () => {
    const f = fixture();
    const packet = announcePacket(connect(f));
    expect(exchange(f, packet.subarray(0, 60))).toEqual({ action: 'error', transactionId: 2, message: expect.stringMatching(/truncated/) });
    expect(exchange(f, announcePacket(0x8000000000000001n).subarray(0, 60))).toBeNull();
    expect(exchange(f, Buffer.alloc(10))).toBeNull();
    expect(f.server.counters.dropped.malformed).toBe(2);
  });

  test('an announce for a torrent we do not serve gets an error packet', () => {
    const f = fixture();
    expect(exchange(f, announcePacket(connect(f), { infoHash: OTHER }))).toEqual({ action: 'error', transactionId: 2, message: 'torrent not served by this peer' });
    expect(f.server.counters.errors).toBe(1);
  });

  test('an announce of port 0 gets an error packet', () => {
    const f = fixture();
    expect(exchange(f, announcePacket(connect(f), { port: 0 }))).toMatchObject({ action: 'error', message: expect.stringMatching(/port 0/) });
  });

  test('num_want -1 gives the default number of peers, 0 none, and a stop leaves the list', () => {
    const f = fixture();
    for (let i = 0; i < 60; i++) {
      const from: UdpSource = { address: `10.1.0.${i}`, port: 30000, family: 'IPv4' };
      exchange(f, announcePacket(connect(f, from), { port: 8000 + i, peerId: peerId(100 + i) }), from);
    }
    const id = connect(f);
    expect(addresses(exchange(f, announcePacket(id)))).toHaveLength(defaultSettings.trackerDefaultNumwant);
    expect(addresses(exchange(f, announcePacket(id, { numWant: 0 })))).toHaveLength(0);
    expect(addresses(exchange(f, announcePacket(id, { numWant: 5 })))).toHaveLength(5);
    exchange(f, announcePacket(id, { event: 'stopped' }));
    expect(f.registry.peers(HASH.toString('hex'), f.clock.now).map((p) => p.ip)).not.toContain(CLIENT.address);
  });

  test('a client over IPv6 gets IPv6 peers only, 18 bytes each', () => {
    const f = fixture();
    const v6: UdpSource = { address: '2001:db8::5', port: 40000, family: 'IPv6' };
    exchange(f, announcePacket(connect(f, v6), { port: 7005, peerId: peerId(5) }), v6);
    exchange(f, announcePacket(connect(f), { peerId: peerId(1) }));
    const other: UdpSource = { address: '2001:db8::6', port: 40000, family: 'IPv6' };
    const reply = exchange(f, announcePacket(connect(f, other), { port: 7006, peerId: peerId(6) }), other) as UdpAnnounceResponse;
    expect(reply.peers).toEqual([{ ip: '2001:db8::5', port: 7005 }]);
    expect(f.sent[f.sent.length - 1].packet.length).toBe(20 + 18);
  });

  test('a scrape gives seeders, completed and leechers per info hash, in order, zeros for one not served', () => {
    const f = fixture();
    const seeder: UdpSource = { address: '10.0.0.3', port: 40000, family: 'IPv4' };
    exchange(f, announcePacket(connect(f, seeder), { left: 0, peerId: peerId(3) }), seeder);
    const id = connect(f);
    exchange(f, announcePacket(id, { left: 500 }));
    exchange(f, announcePacket(id, { left: 0, event: 'completed' }));
    const leecher: UdpSource = { address: '10.0.0.4', port: 40000, family: 'IPv4' };
    exchange(f, announcePacket(connect(f, leecher), { peerId: peerId(4) }), leecher);

    const reply = exchange(f, encodeRequest({ action: 'scrape', connectionId: id, transactionId: 3, infoHashes: [OTHER, HASH] }));
    expect(reply).toEqual({
      action: 'scrape',
      transactionId: 3,
      files: [
        { seeders: 0, completed: 0, leechers: 0 },
        // Us, 10.0.0.3 and 10.0.0.1 (completed); 10.0.0.4 leeches.
        { seeders: 3, completed: 1, leechers: 1 },
      ],
    });
    expect(f.server.counters.scrapes).toBe(1);
  });

  test('a scrape with a wrong connection id is dropped; one of too many info hashes is refused with the reason', () => {
    const f = fixture();
    expect(exchange(f, encodeRequest({ action: 'scrape', connectionId: 0x8000000000000002n, transactionId: 3, infoHashes: [HASH] }))).toBeNull();
    const id = connect(f);
    const header = encodeRequest({ action: 'scrape', connectionId: id, transactionId: 3, infoHashes: [HASH] }).subarray(0, 16);
    const tooMany = Buffer.concat([header, Buffer.alloc(20 * 75, 0xaa)]);
    expect(exchange(f, tooMany)).toMatchObject({ action: 'error', transactionId: 3, message: expect.stringMatching(/more than 74/) });
  });

  test('an error message is cut to udpMaxErrorMessageBytes', () => {
    const f = fixture({ udpMaxErrorMessageBytes: 12 });
    expect(exchange(f, announcePacket(connect(f), { infoHash: OTHER }))).toEqual({ action: 'error', transactionId: 2, message: 'torrent not ' });
  });

  test('random datagrams never make it throw', () => {
    const f = fixture();
    const id = connect(f);
    const idBytes = Buffer.alloc(8);
    idBytes.writeBigUInt64BE(id);
    // A fixed sequence (a linear congruential generator), so that a failure reproduces.
    let state = 12345;
    const next = (below: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % below;
    };
    for (let i = 0; i < 2000; i++) {
      const length = next(200);
      const packet = Buffer.from(Array.from({ length }, () => next(256)));
      if (i % 2 === 0 && length >= 8) idBytes.copy(packet, 0);
      expect(() => f.server.handle(packet, CLIENT)).not.toThrow();
    }
  });
});
