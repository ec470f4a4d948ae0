/**
 * Each connection limit and time-out of a real peer process, met by small scripted peers over
 * raw sockets. Time-outs are shrunk through SHOAL_TEST_SETTINGS so that no test waits minutes;
 * many hosts are played from addresses of 127.0.0.0/8.
 */
import { decodeExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { encodeHandshake, encodeMessage } from '../../src/main/wire/wire-codec.js';
import { encodeExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { encodePex } from '../../src/main/wire/ut-pex.js';
import { oursWithAge, type InteropSetup } from '../helpers/interop.js';
import type { TestSettings } from '../helpers/peer-process.js';
import { randomPeerId, rawConnection, ScriptedPeer, settlesWithin } from '../helpers/scripted-peer.js';

const setups: InteropSetup[] = [];
const open: { destroy(): void }[] = [];

afterEach(async () => {
  for (const peer of open.splice(0)) peer.destroy();
  await Promise.all(setups.splice(0).map((setup) => setup.cleanup()));
});

async function seeder(testSettings?: TestSettings, extraArgs: string[] = []): Promise<InteropSetup> {
  const setup = await oursWithAge(true, ['--verbose', ...extraArgs], testSettings);
  setups.push(setup);
  return setup;
}

async function scripted(setup: InteropSetup, localAddress?: string): Promise<ScriptedPeer> {
  const peer = await ScriptedPeer.connect(setup.ours.port, setup.meta.infoHash, setup.meta.pieceCount, { localAddress });
  open.push(peer);
  return peer;
}

/** Whether the peer answered our handshake (admitted) or closed the connection (refused). */
async function admission(peer: ScriptedPeer): Promise<'admitted' | 'refused'> {
  const answered = peer.waitFor((e) => e.kind === 'handshake', 10_000, 'the handshake').then(() => 'admitted' as const);
  const closed = peer.closed.then(() => 'refused' as const);
  return Promise.race([answered, closed]);
}

/** Waits, with a bound, for a line of the peer's log: it reaches us a little after the socket closed. */
async function logged(setup: InteropSetup, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(setup.ours.output.join(''))) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in the peer's log:\n${setup.ours.output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('handshake time-out (handshakeTimeoutMs)', () => {
  test('silent, half and drip-fed handshakes are closed once the time is up; a complete one stays', async () => {
    const setup = await seeder({ handshakeTimeoutMs: 1500 });
    const port = setup.ours.port;
    const handshake = encodeHandshake(setup.meta.infoHash, randomPeerId());
    const silent = await rawConnection(port);
    const half = await rawConnection(port);
    half.socket.write(handshake.subarray(0, 30));
    // One byte at a time, each well within the time-out: only a deadline for the whole handshake stops it.
    const drip = await rawConnection(port);
    let sent = 0;
    const dripper = setInterval(() => {
      if (sent < handshake.length) drip.socket.write(handshake.subarray(sent, ++sent));
    }, 200);
    const complete = await scripted(setup);
    open.push(silent.socket, half.socket, drip.socket);
    try {
      expect(await admission(complete)).toBe('admitted');
      expect(await settlesWithin(silent.closed, 10_000)).toBe(true);
      expect(await settlesWithin(half.closed, 10_000)).toBe(true);
      expect(await settlesWithin(drip.closed, 10_000)).toBe(true);
    } finally {
      clearInterval(dripper);
    }
    expect(sent).toBeLessThan(handshake.length);
    await logged(setup, /no handshake within 1500 ms \(handshakeTimeoutMs\)/);
    await logged(setup, /no complete handshake within 1500 ms \(handshakeTimeoutMs\)/);
    expect(complete.isClosed).toBe(false);
    const status = await setup.ours.status();
    expect(status.swarms[0].peers).toHaveLength(1);
    expect(status.connections.pending).toBe(0);
  });
});

describe('idle time-out and keep-alives (idleTimeoutMs, keepAliveIntervalMs)', () => {
  test('keep-alives go out after each quiet interval; a silent peer is dropped, a talking one kept', async () => {
    const setup = await seeder({ keepAliveIntervalMs: 1000, idleTimeoutMs: 4000 });
    const silent = await scripted(setup);
    const talking = await scripted(setup);
    const keepAlivesAt: number[] = [];
    silent.onEvent((event) => {
      if (event.kind === 'keep-alive') keepAlivesAt.push(Date.now());
    });
    const chatter = setInterval(() => talking.send({ kind: 'keep-alive' }), 500);
    try {
      expect(await admission(silent)).toBe('admitted');
      expect(await admission(talking)).toBe('admitted');
      expect(await silent.closedWithin(20_000)).toBe(true);
      // The talking peer has lived as long as the silent one did; it outlives it by more keep-alives.
      const seen = talking.events.filter((e) => e.kind === 'keep-alive').length;
      await talking.waitFor(() => talking.events.filter((e) => e.kind === 'keep-alive').length >= seen + 2, 10_000, 'two more keep-alives');
      expect(talking.isClosed).toBe(false);
    } finally {
      clearInterval(chatter);
    }
    expect(keepAlivesAt.length).toBeGreaterThanOrEqual(2);
    // Sent after a quiet interval each, never in a burst.
    for (let i = 1; i < keepAlivesAt.length; i++) expect(keepAlivesAt[i] - keepAlivesAt[i - 1]).toBeGreaterThanOrEqual(500);
    await logged(setup, /disconnected from 127\.0\.0\.1:\d+: nothing received for \d+ s \(idleTimeoutMs\)/);
  });
});

describe('connection limits', () => {
  test('in all (maxConnections): beyond it handshakes are refused; a freed place is taken again', async () => {
    const setup = await seeder({ maxConnections: 6 });
    const peers = await Promise.all(Array.from({ length: 9 }, (_, i) => scripted(setup, `127.0.0.${11 + i}`)));
    const outcomes = await Promise.all(peers.map(admission));
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(6);
    const status = await setup.ours.status();
    expect(status.connections.peers).toBe(6);
    expect(status.swarms[0].peers).toHaveLength(6);
    await logged(setup, /6 peer connections are open already \(maxConnections\)/);
    peers[outcomes.indexOf('admitted')].destroy();
    await setup.ours.waitForStatus((s) => s.connections.peers === 5, 10_000, 'a place to free up');
    expect(await admission(await scripted(setup, '127.0.0.30'))).toBe('admitted');
  });

  test('per swarm (maxPeersPerSwarm)', async () => {
    const setup = await seeder({ maxPeersPerSwarm: 4 });
    const peers = await Promise.all(Array.from({ length: 6 }, (_, i) => scripted(setup, `127.0.0.${11 + i}`)));
    const outcomes = await Promise.all(peers.map(admission));
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(4);
    expect((await setup.ours.status()).swarms[0].peers).toHaveLength(4);
    await logged(setup, /4 peers are connected in this swarm already \(maxPeersPerSwarm\)/);
  });

  test('per address (maxPeersPerAddress, default 8): a ninth peer from one IP is refused, another IP is not', async () => {
    const setup = await seeder();
    const sameHost = await Promise.all(Array.from({ length: 10 }, () => scripted(setup, '127.0.0.1')));
    const outcomes = await Promise.all(sameHost.map(admission));
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(8);
    expect(await admission(await scripted(setup, '127.0.0.2'))).toBe('admitted');
    expect((await setup.ours.status()).swarms[0].peers).toHaveLength(9);
    await logged(setup, /8 peers from 127\.0\.0\.1 are connected in this swarm already \(maxPeersPerAddress\)/);
  });

  test('connections not yet identified (maxPendingConnections): the oldest make room, /status still answers', async () => {
    const setup = await seeder({ maxPendingConnections: 5 });
    const silent = await Promise.all(Array.from({ length: 8 }, (_, i) => rawConnection(setup.ours.port, `127.0.0.${11 + i}`)));
    open.push(...silent.map((c) => c.socket));
    // The three oldest were closed for the five newest.
    for (const connection of silent.slice(0, 3)) expect(await settlesWithin(connection.closed, 10_000)).toBe(true);
    const status = await setup.ours.status();
    expect(status.connections.pending).toBeLessThanOrEqual(5);
    expect(status.swarms[0].role).toBe('seeder');
    await logged(setup, /not identified yet, and 5 connections were waiting \(maxPendingConnections\)/);
  });

  test('HTTP connections (maxHttpConnections): more are closed at once, and the place frees up', async () => {
    const setup = await seeder({ maxHttpConnections: 2 });
    // Two slow HTTP clients: a request line and no end of headers.
    const slow = await Promise.all([0, 1].map(() => rawConnection(setup.ours.port)));
    open.push(...slow.map((c) => c.socket));
    for (const { socket } of slow) socket.write('GET /status HTTP/1.1\r\n');
    const refused = await rawConnection(setup.ours.port);
    refused.socket.write('GET /status HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await settlesWithin(refused.closed, 10_000)).toBe(true);
    await logged(setup, /2 HTTP connections are open already \(maxHttpConnections\)/);
    for (const { socket } of slow) socket.destroy();
    await Promise.all(slow.map((c) => c.closed));
    expect((await setup.ours.status()).swarms[0].role).toBe('seeder');
  });
});

describe('requests a peer may send us', () => {
  async function unchokedPeer(setup: InteropSetup): Promise<ScriptedPeer> {
    const peer = await scripted(setup);
    await peer.waitFor((e) => e.kind === 'bitfield', 10_000, "the seeder's bitfield");
    peer.send({ kind: 'interested' });
    await peer.waitFor((e) => e.kind === 'unchoke', 10_000, 'unchoke');
    return peer;
  }

  test('more than maxIncomingRequests queued at once drops the peer (it was told reqq)', async () => {
    // Uploads barely move, so the queue cannot drain while the requests arrive.
    const setup = await seeder(undefined, ['--upload-limit', '16k']);
    const peer = await unchokedPeer(setup);
    const extension = peer.events.find((e) => e.kind === 'extended');
    expect(decodeExtensionHandshake((extension as { payload: Buffer }).payload).reqq).toBe(500);
    const requests = Array.from({ length: 1000 }, (_, i) => encodeMessage({ kind: 'request', index: i % setup.meta.pieceCount, begin: 0, length: 16384 }));
    peer.socket.write(Buffer.concat(requests));
    expect(await peer.closedWithin(10_000)).toBe(true);
    await logged(setup, /queued more than 500 requests \(maxIncomingRequests/);
  });

  test('requests in flight when choked are ignored within the grace time, and the peer stays', async () => {
    const setup = await seeder();
    const peer = await unchokedPeer(setup);
    peer.send({ kind: 'not-interested' });
    await peer.waitFor((e) => e.kind === 'choke', 10_000, 'choke');
    for (let i = 0; i < 100; i++) peer.send({ kind: 'request', index: 0, begin: 0, length: 16384 });
    peer.send({ kind: 'interested' });
    await peer.waitFor((e) => e.kind === 'unchoke' && peer.events.filter((x) => x.kind === 'unchoke').length === 2, 10_000, 'a second unchoke');
    peer.send({ kind: 'request', index: 1, begin: 0, length: 16384 });
    await peer.waitFor((e) => e.kind === 'piece', 10_000, 'the block asked for once unchoked');
    // None of the requests sent while choked was served.
    expect(peer.events.filter((e) => e.kind === 'piece').map((e) => (e as { index: number }).index)).toEqual([1]);
    expect(peer.isClosed).toBe(false);
  });

  test('a peer that keeps requesting while choked is dropped (maxRequestsWhileChoked)', async () => {
    const setup = await seeder({ chokedRequestGraceMs: 0 });
    const peer = await scripted(setup);
    await peer.waitFor((e) => e.kind === 'bitfield', 10_000, "the seeder's bitfield");
    for (let i = 0; i < 17; i++) peer.send({ kind: 'request', index: 0, begin: 0, length: 16384 });
    expect(await peer.closedWithin(10_000)).toBe(true);
    expect(peer.events.some((e) => e.kind === 'piece')).toBe(false);
    await logged(setup, /sent 17 requests while choked/);
  });

  test('a request for a piece we never announced drops the peer', async () => {
    const setup = await oursWithAge(false, ['--verbose']);
    setups.push(setup);
    const peer = await scripted(setup);
    await peer.waitFor((e) => e.kind === 'handshake', 10_000, 'the handshake');
    peer.send({ kind: 'interested' });
    peer.send({ kind: 'request', index: 2, begin: 0, length: 16384 });
    expect(await peer.closedWithin(10_000)).toBe(true);
    await logged(setup, /requested piece 2, which we never announced/);
  });

  test('a ut_pex flood fills the peer list only up to maxKnownPeersPerSwarm', async () => {
    const setup = await seeder({ maxKnownPeersPerSwarm: 10 });
    const peer = await scripted(setup);
    const theirs = await peer.waitFor((e) => e.kind === 'extended' && e.extId === 0, 10_000, 'the BEP 10 handshake');
    const pexId = decodeExtensionHandshake((theirs as { payload: Buffer }).payload).m.ut_pex;
    expect(pexId).toBeGreaterThan(0);
    peer.send({ kind: 'extended', extId: 0, payload: encodeExtensionHandshake({ m: { ut_pex: 1 } }) });
    const flood = (first: number) => encodePex({ added: Array.from({ length: 40 }, (_, i) => ({ ip: '127.0.0.1', port: first + i })), dropped: [] });
    peer.send({ kind: 'extended', extId: pexId!, payload: flood(1) });
    peer.send({ kind: 'extended', extId: pexId!, payload: flood(101) });
    await logged(setup, /ut_pex from [^\n]*: 40 peer\(s\)[\s\S]*ut_pex from [^\n]*: 40 peer\(s\)/);
    const known = (await setup.ours.status()).swarms[0].known;
    expect(known).toHaveLength(10);
    expect(known).toContain('127.0.0.1:1');
    expect(peer.isClosed).toBe(false);
  });
});
