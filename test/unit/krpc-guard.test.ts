/** The guard in front of the DHT engine (src/main/dht/krpc-guard.ts), on its own, with the time as an argument. */
import { encodeBencode, type BencodeInput } from '../../src/io/bencode.js';
import { defaultSettings, withOverrides } from '../../src/io/settings.js';
import { KrpcGuard } from '../../src/main/dht/krpc-guard.js';

const ID = Buffer.alloc(20, 1);
const HASH = Buffer.alloc(20, 2);
const FROM = { address: '127.0.0.1', port: 6881, family: 'IPv4' as const };

function query(method: string, args: Record<string, BencodeInput>, t: BencodeInput = 'aa'): Buffer {
  return encodeBencode({ t, y: 'q', q: method, a: { id: ID, ...args } });
}

function reply(t: string, body: Record<string, BencodeInput> = {}): Buffer {
  return encodeBencode({ t, y: 'r', r: { id: ID, ...body } });
}

const settings = withOverrides({ dhtMaxQueriesPerSecond: 1_000, dhtMaxQueriesPerSourcePerSecond: 1_000 });

test('the four BEP 5 queries pass with the fields their method needs; others are refused by kind', () => {
  const guard = new KrpcGuard(settings, 0);
  const passes = (packet: Buffer): boolean => guard.incoming(packet, FROM, 0);
  expect(passes(query('ping', {}))).toBe(true);
  expect(passes(query('find_node', { target: HASH }))).toBe(true);
  expect(passes(query('get_peers', { info_hash: HASH }))).toBe(true);
  expect(passes(query('announce_peer', { info_hash: HASH, port: 6881, token: 'abcd' }))).toBe(true);
  expect(passes(query('announce_peer', { info_hash: HASH, implied_port: 1, token: 'abcd' }))).toBe(true);
  expect(guard.counters.queries).toBe(5);

  expect(passes(query('get', { target: HASH }))).toBe(false);
  expect(passes(query('put', { v: 'x', token: 'abcd' }))).toBe(false);
  expect(guard.counters.dropped.unsupported).toBe(2);

  for (const bad of [
    query('find_node', { target: Buffer.alloc(19) }),
    query('get_peers', { info_hash: 5 }),
    query('announce_peer', { info_hash: HASH, port: 0, token: 'abcd' }),
    query('announce_peer', { info_hash: HASH, port: 70_000, token: 'abcd' }),
    query('announce_peer', { info_hash: HASH, port: 6881, token: 1234 }),
    query('announce_peer', { info_hash: HASH, port: 6881, token: Buffer.alloc(settings.dhtMaxTokenBytes + 1) }),
    query('announce_peer', { info_hash: HASH, port: 6881, token: 'abcd', implied_port: 'yes' }),
    encodeBencode({ t: 'aa', y: 'q', q: 'ping', a: { id: Buffer.alloc(8) } }),
    query('ping', {}, Buffer.alloc(settings.dhtMaxTransactionIdBytes + 1)),
    query('ping', {}, ''),
    encodeBencode({ t: 'aa', y: 'x' }),
    encodeBencode(['not', 'a', 'dictionary']),
    Buffer.from('d1:ad2:id20:'),
    Buffer.from('dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddee'),
  ]) {
    expect(passes(bad)).toBe(false);
  }
  expect(guard.counters.dropped.malformed).toBe(14);
});

test('a reply passes once, and only from the address and port our query with that transaction id went to, within its lifetime', () => {
  const guard = new KrpcGuard(settings, 0);
  const sent = query('ping', {}, 'tx');
  expect(guard.outgoing(sent, { address: '127.0.0.1', port: 6881 }, 1_000)).toBe(sent);
  expect(guard.incoming(reply('tx'), { ...FROM, port: 6882 }, 1_100)).toBe(false);
  expect(guard.incoming(reply('ty'), FROM, 1_100)).toBe(false);
  expect(guard.incoming(reply('tx'), FROM, 1_200)).toBe(true);
  expect(guard.incoming(reply('tx'), FROM, 1_300)).toBe(false);
  expect(guard.counters.dropped.unsolicited).toBe(3);
  expect(guard.answeredAt('127.0.0.1', 6881)).toBe(1_200);

  guard.outgoing(query('ping', {}, 'tz'), { address: '127.0.0.1', port: 6881 }, 2_000);
  expect(guard.incoming(reply('tz'), FROM, 2_000 + settings.dhtQueryLifetimeMs)).toBe(false);
  // An error answers a query as a reply does.
  guard.outgoing(query('ping', {}, 'te'), { address: '127.0.0.1', port: 6881 }, 3_000);
  expect(guard.incoming(encodeBencode({ t: 'te', y: 'e', e: [201, 'no'] }), FROM, 3_001)).toBe(true);
});

test('replies with fields the engine would trip on are dropped', () => {
  const guard = new KrpcGuard(settings, 0);
  const bad = [
    reply('t1', { id: Buffer.alloc(3) }),
    reply('t2', { token: 7 }),
    reply('t3', { token: Buffer.alloc(settings.dhtMaxTokenBytes + 1) }),
    reply('t4', { nodes: 12 }),
    reply('t5', { values: 'not a list' }),
    reply('t6', { values: [Buffer.alloc(5)] }),
  ];
  bad.forEach((_, i) => guard.outgoing(query('get_peers', { info_hash: HASH }, `t${i + 1}`), FROM, 0));
  for (const packet of bad) expect(guard.incoming(packet, FROM, 1)).toBe(false);
  expect(guard.counters.dropped.malformed).toBe(bad.length);
  // Still outstanding: a forged malformed reply does not cancel the real one.
  expect(guard.incoming(reply('t2', { token: 'ok' }), FROM, 2)).toBe(true);
});

test('queries over the per-address or the overall rate are dropped, and refill with time', () => {
  const guard = new KrpcGuard(withOverrides({ dhtMaxQueriesPerSourcePerSecond: 2, dhtMaxQueriesPerSecond: 3 }), 0);
  const from = (address: string) => ({ address, port: 1, family: 'IPv4' as const });
  const ping = query('ping', {});
  expect([1, 2, 3].map(() => guard.incoming(ping, from('10.0.0.1'), 0))).toEqual([true, true, false]);
  expect([1, 2].map(() => guard.incoming(ping, from('10.0.0.2'), 0))).toEqual([true, false]);
  expect(guard.counters.dropped.rateLimited).toBe(2);
  expect(guard.incoming(ping, from('10.0.0.2'), 1_000)).toBe(true);
});

test('its tables stay bounded however many sources and queries there are', () => {
  const small = withOverrides({ dhtMaxRateSources: 10, dhtMaxOutstandingQueries: 20 });
  const guard = new KrpcGuard(small, 0);
  for (let i = 0; i < 1_000; i++) guard.incoming(query('ping', {}), { address: `10.0.${i >> 8}.${i & 0xff}`, port: 1, family: 'IPv4' }, i);
  for (let i = 0; i < 1_000; i++) guard.outgoing(query('ping', {}, `q${i}`), { address: '10.1.0.1', port: i + 1 }, 0);
  for (let i = 0; i < 1_000; i++) {
    guard.outgoing(query('ping', {}, `r${i}`), { address: '10.2.0.1', port: i + 1 }, 0);
    guard.incoming(reply(`r${i}`), { address: '10.2.0.1', port: i + 1, family: 'IPv4' }, 1);
  }
  expect(guard.sizes.sources).toBe(10);
  expect(guard.sizes.outstanding).toBeLessThanOrEqual(20);
  expect(guard.sizes.answered).toBeLessThanOrEqual(20);
});

test('IPv6 sources are dropped: the engine speaks IPv4 only', () => {
  const guard = new KrpcGuard(defaultSettings, 0);
  expect(guard.incoming(query('ping', {}), { address: '::1', port: 1, family: 'IPv6' }, 0)).toBe(false);
  expect(guard.counters.dropped.notIpv4).toBe(1);
});

test('a get_peers reply over dhtMaxReplyBytes is cut to fit; smaller ones and other messages leave as they are', () => {
  const guard = new KrpcGuard(withOverrides({ dhtMaxReplyBytes: 300 }), 0);
  const values = Array.from({ length: 100 }, (_, i) => Buffer.from([10, 0, 0, i, 0x1a, 0xe1]));
  const large = reply('aa', { token: 'abcd', values });
  const cut = guard.outgoing(large, FROM, 0);
  expect(cut.length).toBeLessThanOrEqual(300);
  expect(cut.length).toBeGreaterThan(300 - 8);
  expect(guard.counters.repliesCut).toBe(1);
  const small = reply('ab', { token: 'abcd', values: values.slice(0, 5) });
  expect(guard.outgoing(small, FROM, 0)).toBe(small);
  const nodes = reply('ac', { nodes: Buffer.alloc(26 * 20) });
  expect(guard.outgoing(nodes, FROM, 0)).toBe(nodes);
});
