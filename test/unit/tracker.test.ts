import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { asBytes, asInteger, asList, asText, decodeBencode, isDict, type BencodeDict } from '../../src/io/bencode.js';
import { AnnounceError, announceOnce } from '../../src/main/tracker/announce-client.js';
import { handleTrackerRequest } from '../../src/main/tracker/tracker-http.js';
import { isTrackerFailure, type AnnounceRequest } from '../../src/main/tracker/tracker-query.js';
import { TrackerRegistry, type AnnounceReply, type ServedSwarm } from '../../src/main/tracker/tracker-registry.js';
import {
  decodeCompactPeers,
  encodeAnnounceReply,
  encodeCompactPeers,
  encodeFailure,
  encodeScrapeReply,
} from '../../src/main/tracker/tracker-responses.js';

const HASH = Buffer.from('aa'.repeat(20), 'hex');
const HEX = HASH.toString('hex');
const OTHER = Buffer.from('bb'.repeat(20), 'hex');
const SELF_IP = '127.0.0.1';
const SELF_PORT = 6881;
const SELF_ID = Buffer.from('-SH0100-selfselfself', 'latin1');

function peerId(n: number): Buffer {
  return Buffer.from(`-XX0000-${String(n).padStart(12, '0')}`, 'latin1');
}

function req(overrides: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash: HASH,
    peerId: peerId(1),
    ip: '10.0.0.1',
    port: 7001,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: 'empty',
    compact: true,
    noPeerId: false,
    numwant: 50,
    ...overrides,
  };
}

function reply(value: AnnounceReply | { failure: string }): AnnounceReply {
  if (isTrackerFailure(value)) throw new Error(value.failure);
  return value;
}

function addresses(r: AnnounceReply): string[] {
  return r.peers.map((p) => `${p.ip}:${p.port}`).sort();
}

/** Compact peers decoded independently of the code under test. */
function compactAddresses(peers: Buffer): string[] {
  expect(peers.length % 6).toBe(0);
  const out: string[] = [];
  for (let i = 0; i < peers.length; i += 6) out.push(`${peers[i]}.${peers[i + 1]}.${peers[i + 2]}.${peers[i + 3]}:${peers.readUInt16BE(i + 4)}`);
  return out.sort();
}

function dict(body: Buffer): BencodeDict {
  const value = decodeBencode(body);
  if (!isDict(value)) throw new Error('not a dictionary');
  return value;
}

describe('TrackerRegistry (fake clock)', () => {
  let served: Map<string, ServedSwarm>;
  let newPeers: string[];
  let registry: TrackerRegistry;

  beforeEach(() => {
    served = new Map([[HEX, { selfPort: SELF_PORT, selfComplete: true }]]);
    newPeers = [];
    registry = new TrackerRegistry({
      served: (hex) => served.get(hex) ?? null,
      allServed: () => served.keys(),
      selfPeerId: SELF_ID,
      intervalS: 60,
      minIntervalS: 15,
      expiryIntervals: 3,
      onNewPeer: (hex, ip, port) => newPeers.push(`${hex}/${ip}:${port}`),
    });
  });

  test('the first announcer gets the tracker peer itself, never itself', () => {
    const r = reply(registry.announce(req(), SELF_IP, 0));
    expect(r.intervalS).toBe(60);
    expect(r.minIntervalS).toBe(15);
    expect(addresses(r)).toEqual([`${SELF_IP}:${SELF_PORT}`]);
    expect(r.complete).toBe(1); // ourselves, a seeder
    expect(r.incomplete).toBe(1); // the requester
    expect(newPeers).toEqual([`${HEX}/10.0.0.1:7001`]);
  });

  test('the self entry uses our address on the connection the request came in on', () => {
    const r = reply(registry.announce(req(), '192.168.1.10', 0));
    expect(addresses(r)).toEqual([`192.168.1.10:${SELF_PORT}`]);
  });

  test('two peers of one machine on different ports are two entries', () => {
    registry.announce(req({ ip: '10.0.0.1', port: 7001, peerId: peerId(1) }), SELF_IP, 0);
    registry.announce(req({ ip: '10.0.0.1', port: 7002, peerId: peerId(2) }), SELF_IP, 0);
    const r = reply(registry.announce(req({ ip: '10.0.0.9', port: 7009, peerId: peerId(9) }), SELF_IP, 0));
    expect(addresses(r)).toEqual(['10.0.0.1:7001', '10.0.0.1:7002', `${SELF_IP}:${SELF_PORT}`]);
    const second = reply(registry.announce(req({ ip: '10.0.0.1', port: 7002, peerId: peerId(2) }), SELF_IP, 1));
    expect(addresses(second)).toEqual(['10.0.0.1:7001', '10.0.0.9:7009', `${SELF_IP}:${SELF_PORT}`]);
    expect(registry.peers(HEX, 1)).toHaveLength(3);
  });

  test('the same ip:port with a new peer id replaces its entry', () => {
    registry.announce(req({ peerId: peerId(1) }), SELF_IP, 0);
    registry.announce(req({ peerId: peerId(2) }), SELF_IP, 1);
    const peers = registry.peers(HEX, 1);
    expect(peers).toHaveLength(1);
    expect(peers[0].peerId.equals(peerId(2))).toBe(true);
    expect(newPeers).toHaveLength(1);
  });

  test('numwant bounds the list, in random order', () => {
    for (let i = 1; i <= 20; i++) registry.announce(req({ port: 7000 + i, peerId: peerId(i) }), SELF_IP, 0);
    const r = reply(registry.announce(req({ ip: '10.0.0.99', numwant: 5 }), SELF_IP, 0));
    expect(r.peers).toHaveLength(5);
    expect(new Set(addresses(r)).size).toBe(5);
    expect(reply(registry.announce(req({ ip: '10.0.0.99', numwant: 0 }), SELF_IP, 0)).peers).toEqual([]);
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) {
      orders.add(reply(registry.announce(req({ ip: '10.0.0.99' }), SELF_IP, 0)).peers.map((p) => p.port).join(','));
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  test('stopped removes the peer and gets no list', () => {
    registry.announce(req({ port: 7001 }), SELF_IP, 0);
    registry.announce(req({ port: 7002 }), SELF_IP, 0);
    const r = reply(registry.announce(req({ port: 7001, event: 'stopped' }), SELF_IP, 1));
    expect(r.peers).toEqual([]);
    expect(r.incomplete).toBe(1);
    expect(registry.peers(HEX, 1).map((p) => p.port)).toEqual([7002]);
  });

  test('completed makes a seeder and counts one download; left=0 is a seeder too', () => {
    registry.announce(req({ port: 7001, event: 'started' }), SELF_IP, 0);
    registry.announce(req({ port: 7002, left: 0 }), SELF_IP, 0);
    let r = reply(registry.announce(req({ port: 7003 }), SELF_IP, 0));
    expect([r.complete, r.incomplete]).toEqual([2, 2]);
    registry.announce(req({ port: 7001, left: 0, event: 'completed' }), SELF_IP, 1);
    registry.announce(req({ port: 7001, left: 0, event: 'completed' }), SELF_IP, 2);
    r = reply(registry.announce(req({ port: 7003 }), SELF_IP, 2));
    expect([r.complete, r.incomplete]).toEqual([3, 1]);
    expect(registry.scrape([HASH], 2).files[0]).toMatchObject({ complete: 3, incomplete: 1, downloaded: 1 });
  });

  test('a leeching tracker peer counts as incomplete', () => {
    served.set(HEX, { selfPort: SELF_PORT, selfComplete: false });
    const r = reply(registry.announce(req({ left: 0 }), SELF_IP, 0));
    expect([r.complete, r.incomplete]).toEqual([1, 1]);
  });

  test('an entry not refreshed within expiryIntervals * interval is dropped', () => {
    const expiryMs = 3 * 60_000;
    registry.announce(req({ port: 7001 }), SELF_IP, 0);
    registry.announce(req({ port: 7002 }), SELF_IP, 0);
    registry.announce(req({ port: 7002 }), SELF_IP, expiryMs - 1000);
    expect(registry.peers(HEX, expiryMs - 1).map((p) => p.port).sort()).toEqual([7001, 7002]);
    expect(registry.peers(HEX, expiryMs).map((p) => p.port)).toEqual([7002]);
    const r = reply(registry.announce(req({ port: 7003 }), SELF_IP, expiryMs));
    expect(addresses(r)).toEqual(['10.0.0.1:7002', `${SELF_IP}:${SELF_PORT}`]);
    expect(registry.peers(HEX, 2 * expiryMs).map((p) => p.port)).toEqual([]);
  });

  test('an unknown torrent is refused', () => {
    expect(registry.announce(req({ infoHash: OTHER }), SELF_IP, 0)).toEqual({ failure: 'torrent not served by this peer' });
  });

  test('a swarm no longer served forgets its peers', () => {
    registry.announce(req(), SELF_IP, 0);
    served.delete(HEX);
    expect(isTrackerFailure(registry.announce(req(), SELF_IP, 1))).toBe(true);
    served.set(HEX, { selfPort: SELF_PORT, selfComplete: true });
    expect(registry.peers(HEX, 1)).toEqual([]);
  });

  test('scrape lists only served swarms; no hash means all of them', () => {
    registry.announce(req({ port: 7001 }), SELF_IP, 0);
    registry.announce(req({ port: 7002, left: 0, event: 'completed' }), SELF_IP, 0);
    expect(registry.scrape([HASH, OTHER], 0).files).toEqual([{ infoHash: HASH, complete: 2, incomplete: 1, downloaded: 1 }]);
    served.set(OTHER.toString('hex'), { selfPort: SELF_PORT, selfComplete: false });
    const all = registry.scrape([], 0).files;
    expect(all).toEqual([
      { infoHash: HASH, complete: 2, incomplete: 1, downloaded: 1 },
      { infoHash: OTHER, complete: 0, incomplete: 1, downloaded: 0 },
    ]);
  });

  test('compact reply decodes back: 6 bytes per IPv4 peer, IPv6 peers in peers6 only', () => {
    registry.announce(req({ ip: '10.0.0.1', port: 7001 }), SELF_IP, 0);
    registry.announce(req({ ip: '2001:db8::5', port: 7005 }), SELF_IP, 0);
    const r = reply(registry.announce(req({ ip: '10.0.0.2', port: 7002 }), SELF_IP, 0));
    const body = dict(encodeAnnounceReply(r, { compact: true, noPeerId: false }));
    expect(asInteger(body.interval)).toBe(60);
    expect(asInteger(body['min interval'])).toBe(15);
    expect(asInteger(body.complete)).toBe(1);
    expect(asInteger(body.incomplete)).toBe(3);
    expect(compactAddresses(asBytes(body.peers)!)).toEqual(['10.0.0.1:7001', `${SELF_IP}:${SELF_PORT}`]);
    const peers6 = asBytes(body.peers6)!;
    expect(peers6.length).toBe(18);
    expect(peers6.subarray(0, 16).toString('hex')).toBe('20010db8000000000000000000000005');
    expect(peers6.readUInt16BE(16)).toBe(7005);
  });

  test('compact peer lists round-trip IPv4 and IPv6, dropping a zone index', () => {
    const { peers, peers6 } = encodeCompactPeers([
      { ip: '1.2.3.4', port: 1 },
      { ip: '::1', port: 2 },
      { ip: '2001:db8:1:2:3:4:5:6', port: 3 },
      { ip: 'fe80::1%eth0', port: 4 },
      { ip: 'not an address', port: 5 },
    ]);
    expect(decodeCompactPeers(peers, 4)).toEqual([{ ip: '1.2.3.4', port: 1 }]);
    expect(decodeCompactPeers(peers6, 6)).toEqual([
      { ip: '::1', port: 2 },
      { ip: '2001:db8:1:2:3:4:5:6', port: 3 },
      { ip: 'fe80::1', port: 4 },
    ]);
    expect(decodeCompactPeers(Buffer.alloc(7), 4)).toBeUndefined();
  });

  test('dictionary reply decodes back with peer ids, or without when no_peer_id', () => {
    registry.announce(req({ ip: '10.0.0.1', port: 7001, peerId: peerId(1) }), SELF_IP, 0);
    const r = reply(registry.announce(req({ ip: '10.0.0.2', port: 7002, compact: false }), SELF_IP, 0));
    const peers = asList(dict(encodeAnnounceReply(r, { compact: false, noPeerId: false })).peers)!;
    const entries = peers.map((p) => {
      if (!isDict(p)) throw new Error('peer is not a dictionary');
      return { ip: asText(p.ip), port: asInteger(p.port), id: asBytes(p['peer id'])?.toString('latin1') };
    });
    expect(entries.sort((a, b) => a.port! - b.port!)).toEqual([
      { ip: SELF_IP, port: SELF_PORT, id: SELF_ID.toString('latin1') },
      { ip: '10.0.0.1', port: 7001, id: peerId(1).toString('latin1') },
    ]);
    const bare = asList(dict(encodeAnnounceReply(r, { compact: false, noPeerId: true })).peers)!;
    expect(bare.every((p) => isDict(p) && !('peer id' in p))).toBe(true);
  });

  test('scrape and failure bodies', () => {
    registry.announce(req(), SELF_IP, 0);
    const files = dict(encodeScrapeReply(registry.scrape([HASH], 0))).files;
    if (!isDict(files)) throw new Error('files is not a dictionary');
    expect(Object.keys(files)).toEqual([HASH.toString('latin1')]);
    expect(files[HASH.toString('latin1')]).toEqual({ complete: 1, downloaded: 0, incomplete: 1 });
    expect(encodeFailure('nope').toString()).toBe('d14:failure reason4:nopee');
  });
});

describe('tracker over HTTP', () => {
  let server: http.Server;
  let base: string;
  let served: Map<string, ServedSwarm>;
  let handled: boolean[];

  beforeAll(async () => {
    served = new Map([[HEX, { selfPort: SELF_PORT, selfComplete: true }]]);
    const registry = new TrackerRegistry({ served: (hex) => served.get(hex) ?? null, selfPeerId: SELF_ID, intervalS: 30 });
    handled = [];
    server = http.createServer((rq, rs) => {
      const mine = handleTrackerRequest(rq, rs, registry, () => Date.now());
      handled.push(mine);
      if (!mine) {
        rs.statusCode = 404;
        rs.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const stats = { uploaded: 0, downloaded: 0, left: 1000 };

  test('announce with compact peers, then with the dictionary model', async () => {
    const first = await announceOnce(`${base}/announce`, { infoHash: HASH, peerId: peerId(1), port: 7001, stats, event: 'started' });
    expect(first.intervalS).toBe(30);
    expect(first.peers).toEqual([{ ip: SELF_IP, port: SELF_PORT }]);

    const second = await announceOnce(`${base}/announce`, { infoHash: HASH, peerId: peerId(2), port: 7002, stats, event: 'started', compact: false });
    expect(second.peers.map((p) => ({ ip: p.ip, port: p.port, id: p.peerId?.toString('latin1') })).sort((a, b) => a.port - b.port)).toEqual([
      { ip: SELF_IP, port: SELF_PORT, id: SELF_ID.toString('latin1') },
      { ip: '127.0.0.1', port: 7001, id: peerId(1).toString('latin1') },
    ]);
    expect(second.complete).toBe(1);
    expect(second.incomplete).toBe(2);
  });

  test('scrape', async () => {
    const escaped = [...HASH].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    const response = await request(`${base}/scrape?info_hash=${escaped}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain');
    const files = dict(Buffer.from(await response.body.arrayBuffer())).files;
    if (!isDict(files)) throw new Error('files is not a dictionary');
    expect(files[HASH.toString('latin1')]).toEqual({ complete: 1, downloaded: 0, incomplete: 2 });
  });

  test("failure reasons reach the client as AnnounceError with the tracker's text", async () => {
    const unknown = announceOnce(`${base}/announce`, { infoHash: OTHER, peerId: peerId(3), port: 7003, stats });
    await expect(unknown).rejects.toBeInstanceOf(AnnounceError);
    await expect(unknown).rejects.toMatchObject({ kind: 'failure', reason: 'torrent not served by this peer' });

    const badPort = announceOnce(`${base}/announce`, { infoHash: HASH, peerId: peerId(3), port: 0, stats });
    await expect(badPort).rejects.toMatchObject({ kind: 'failure', reason: 'invalid port: must be an integer from 1 to 65535' });

    const response = await request(`${base}/announce?info_hash=%zz`);
    expect(response.statusCode).toBe(200);
    expect(asText(dict(Buffer.from(await response.body.arrayBuffer()))['failure reason'])).toBe('malformed percent escape "%zz" in query');
  });

  test('a non-GET gets 405; another path is not the tracker business', async () => {
    handled.length = 0;
    const post = await request(`${base}/announce`, { method: 'POST', body: 'x' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET');
    await post.body.dump();
    const other = await request(`${base}/status`);
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    const prefix = await request(`${base}/announcement`);
    await prefix.body.dump();
    expect(handled).toEqual([true, false, false]);
  });
});
