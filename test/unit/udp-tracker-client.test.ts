/**
 * Our UDP tracker client (BEP 15) against a fake UDP port that plays the tracker: connect and
 * announce, the connection id kept for a minute of a fake time, retransmissions with a shrunk
 * base, and every kind of bad answer ignored or shown as the tracker's error, never a crash.
 */
import { defaultSettings } from '../../src/io/settings.js';
import type { UdpSource } from '../../src/main/net/udp-port.js';
import { AnnounceError, type AnnounceParams } from '../../src/main/tracker/tracker-protocol.js';
import { UdpTrackerClient, type UdpTransport } from '../../src/main/tracker/udp-tracker-client.js';
import { decodeRequest, encodeResponse } from '../../src/main/tracker/udp-tracker-codec.js';
import type { AddressFamily, UdpTrackerRequest, UdpTrackerResponse } from '../../src/main/tracker/udp-tracker-packets.js';

const HASH = Buffer.alloc(20, 0xab);
const PEER_ID = Buffer.from('-SH0100-abcdefghijkl', 'latin1');
const TRACKER = { address: '10.9.8.7', port: 6969 };
const URL = `udp://${TRACKER.address}:${TRACKER.port}/announce?passkey=xyz`;
const BASE_MS = 20;

const params: AnnounceParams = { infoHash: HASH, peerId: PEER_ID, port: 6881, stats: { uploaded: 1, downloaded: 2, left: 3 }, event: 'started' };

/** What the fake tracker does with a request: answer it (one or more packets), or stay silent (null). */
type Responder = (request: UdpTrackerRequest, tries: number) => Buffer[] | Buffer | null;

/** A fake UdpPort: records what is sent, and hands the answers of a responder back through expectResponse. */
class FakeUdp implements UdpTransport {
  readonly sent: { request: UdpTrackerRequest; at: number }[] = [];
  private readonly awaited = new Map<number, (packet: Buffer, from: UdpSource) => void>();
  private nextId = 1000;
  family: AddressFamily = 'IPv4';
  failSend: Error | null = null;

  constructor(public respond: Responder) {}

  newTransactionId(): number {
    return this.nextId++;
  }

  expectResponse(transactionId: number, handler: (packet: Buffer, from: UdpSource) => void): () => void {
    this.awaited.set(transactionId, handler);
    return () => {
      if (this.awaited.get(transactionId) === handler) this.awaited.delete(transactionId);
    };
  }

  get waiting(): number {
    return this.awaited.size;
  }

  send(packet: Buffer, port: number, host: string): Promise<void> {
    expect({ port, host }).toEqual({ port: TRACKER.port, host: TRACKER.address });
    if (this.failSend) return Promise.reject(this.failSend);
    const decoded = decodeRequest(packet);
    if (!decoded.ok) throw new Error(`the client sent a bad request: ${decoded.reason}`);
    const request = decoded.packet;
    const tries = this.sent.filter((s) => s.request.transactionId === request.transactionId).length + 1;
    this.sent.push({ request, at: Date.now() });
    const answer = this.respond(request, tries);
    if (answer) {
      // As the real port does: the packet goes to whoever waits for its transaction id, once.
      setImmediate(() => {
        for (const packet of Array.isArray(answer) ? answer : [answer]) {
          const handler = this.awaited.get(request.transactionId);
          this.awaited.delete(request.transactionId);
          handler?.(packet, { ...TRACKER, family: this.family });
        }
      });
    }
    return Promise.resolve();
  }

  actions(): string[] {
    return this.sent.map((s) => s.request.action);
  }
}

const CONNECTION_ID = 0x1234_5678_9abc_def0n;

function reply(packet: UdpTrackerResponse, family: AddressFamily = 'IPv4'): Buffer {
  return encodeResponse(packet, family);
}

/** A tracker that answers every request well. */
const goodTracker: Responder = (request) => {
  switch (request.action) {
    case 'connect':
      return reply({ action: 'connect', transactionId: request.transactionId, connectionId: CONNECTION_ID });
    case 'announce':
      return reply({ action: 'announce', transactionId: request.transactionId, intervalS: 1800, leechers: 4, seeders: 7, peers: [{ ip: '10.0.0.5', port: 8080 }] });
    case 'scrape':
      return reply({ action: 'scrape', transactionId: request.transactionId, files: [{ seeders: 3, completed: 9, leechers: 2 }] });
  }
};

function client(udp: FakeUdp | null, clock = { now: 1_000_000 }, settings: Partial<typeof defaultSettings> = {}, url = URL): UdpTrackerClient {
  return new UdpTrackerClient(url, {
    transport: udp,
    now: () => clock.now,
    settings: { ...defaultSettings, udpTrackerRetryBaseMs: BASE_MS, udpTrackerMaxRetries: 3, ...settings },
  });
}

describe('UdpTrackerClient', () => {
  test('connects, then announces with every field and the URL\'s path as BEP 41 URL data', async () => {
    const udp = new FakeUdp(goodTracker);
    const result = await client(udp).announce(params);
    expect(result).toEqual({ intervalS: 1800, peers: [{ ip: '10.0.0.5', port: 8080 }], complete: 7, incomplete: 4 });
    expect(udp.actions()).toEqual(['connect', 'announce']);
    const announce = udp.sent[1].request;
    expect(announce).toMatchObject({
      action: 'announce',
      connectionId: CONNECTION_ID,
      infoHash: HASH,
      peerId: PEER_ID,
      uploaded: 1,
      downloaded: 2,
      left: 3,
      event: 'started',
      ip: 0,
      numWant: -1,
      port: 6881,
    });
    if (announce.action !== 'announce') throw new Error('not an announce');
    expect(announce.urlData.toString('latin1')).toBe('/announce?passkey=xyz');
    expect(udp.waiting).toBe(0);
  });

  test('each request has a transaction id of its own, and the events map to BEP 15\'s', async () => {
    const udp = new FakeUdp(goodTracker);
    const c = client(udp);
    await c.announce({ ...params, event: undefined });
    await c.announce({ ...params, event: 'completed' });
    await c.announce({ ...params, event: 'stopped' });
    const ids = udp.sent.map((s) => s.request.transactionId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(udp.sent.filter((s) => s.request.action === 'announce').map((s) => (s.request as { event: string }).event)).toEqual(['empty', 'completed', 'stopped']);
  });

  test('the connection id is used for a minute, by every client of the same port and tracker, then a new connect', async () => {
    const udp = new FakeUdp(goodTracker);
    const clock = { now: 5_000_000 };
    const first = client(udp, clock);
    await first.announce(params);
    clock.now += 59_999;
    await first.announce(params);
    // Another swarm's client on the same port, same tracker: same id.
    await client(udp, clock, {}, `udp://${TRACKER.address}:${TRACKER.port}/other`).announce(params);
    expect(udp.actions()).toEqual(['connect', 'announce', 'announce', 'announce']);
    clock.now += 1;
    await first.announce(params);
    expect(udp.actions()).toEqual(['connect', 'announce', 'announce', 'announce', 'connect', 'announce']);
  });

  test('an unanswered request is sent again after base * 2^n, and a late answer to the first copy counts', async () => {
    // Silent to the first two copies of the connect.
    const udp = new FakeUdp((request, tries) => (request.action === 'connect' && tries < 3 ? null : goodTracker(request, tries)));
    const started = Date.now();
    await client(udp).announce(params);
    expect(udp.actions()).toEqual(['connect', 'connect', 'connect', 'announce']);
    const [a, b, c] = udp.sent.map((s) => s.at);
    expect(b - a).toBeGreaterThanOrEqual(BASE_MS - 2);
    expect(c - b).toBeGreaterThanOrEqual(2 * BASE_MS - 2);
    // The same transaction id for each copy.
    expect(new Set(udp.sent.slice(0, 3).map((s) => s.request.transactionId)).size).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a tracker that never answers is given up after the last retransmission, n up to the maximum', async () => {
    const udp = new FakeUdp(() => null);
    const started = Date.now();
    const error = await client(udp, undefined, { udpTrackerMaxRetries: 2 }).announce(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnnounceError);
    expect(error).toMatchObject({ kind: 'timeout', reason: expect.stringMatching(/did not answer \(3 tries/) });
    expect(udp.actions()).toEqual(['connect', 'connect', 'connect']);
    // 20 + 40 + 80 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(7 * BASE_MS - 5);
    expect(udp.waiting).toBe(0);
  });

  test('a deadline bounds the whole call', async () => {
    const udp = new FakeUdp(() => null);
    const started = Date.now();
    await expect(client(udp, undefined, { udpTrackerRetryBaseMs: 10_000 }).announce(params, { deadlineMs: 50 })).rejects.toMatchObject({
      kind: 'timeout',
      reason: 'the tracker did not answer within 50 ms',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('an answer with another transaction id is ignored, and the right one still counts', async () => {
    const udp = new FakeUdp((request, tries) => {
      if (request.action !== 'connect') return goodTracker(request, tries);
      const forged = reply({ action: 'connect', transactionId: request.transactionId + 1, connectionId: 666n });
      return [forged, goodTracker(request, tries) as Buffer];
    });
    await client(udp).announce(params);
    expect(udp.actions()).toEqual(['connect', 'announce']);
    expect(udp.sent[1].request).toMatchObject({ connectionId: CONNECTION_ID });
  });

  test('a truncated answer, or one of another action, is ignored: the retransmission gets the real one', async () => {
    const udp = new FakeUdp((request, tries) => {
      if (request.action === 'announce' && tries === 1) {
        const good = goodTracker(request, tries) as Buffer;
        return [good.subarray(0, 13), reply({ action: 'connect', transactionId: request.transactionId, connectionId: 1n })];
      }
      return goodTracker(request, tries);
    });
    const result = await client(udp).announce(params);
    expect(result.peers).toEqual([{ ip: '10.0.0.5', port: 8080 }]);
    expect(udp.actions()).toEqual(['connect', 'announce', 'announce']);
  });

  test('only unusable answers: the error says what the last one was', async () => {
    const udp = new FakeUdp((request) => Buffer.from([0, 0, 0, request.action === 'connect' ? 0 : 1, 0, 0]));
    const error = await client(udp, undefined, { udpTrackerMaxRetries: 1 }).announce(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', reason: expect.stringMatching(/did not answer \(2 tries, BEP 15 retransmissions\); its last answer was unusable: .*truncated/) });
  });

  test('an error packet ends the call with the tracker\'s message, at connect or at announce', async () => {
    const refusing = new FakeUdp((request, tries) =>
      request.action === 'announce' ? reply({ action: 'error', transactionId: request.transactionId, message: 'torrent not registered\0' }) : goodTracker(request, tries),
    );
    await expect(client(refusing).announce(params)).rejects.toMatchObject({ kind: 'failure', reason: 'torrent not registered' });
    const closed = new FakeUdp((request) => reply({ action: 'error', transactionId: request.transactionId, message: '' }));
    await expect(client(closed).announce(params)).rejects.toMatchObject({ kind: 'failure', reason: expect.stringMatching(/error and no message/) });
  });

  test('over IPv6 the peers are 18 bytes each', async () => {
    const udp = new FakeUdp((request, tries) =>
      request.action === 'announce'
        ? reply({ action: 'announce', transactionId: request.transactionId, intervalS: 60, leechers: 0, seeders: 1, peers: [{ ip: '2001:db8::1', port: 7000 }] }, 'IPv6')
        : goodTracker(request, tries),
    );
    udp.family = 'IPv6';
    expect((await client(udp).announce(params)).peers).toEqual([{ ip: '2001:db8::1', port: 7000 }]);
  });

  test('a connection id that runs out while an announce waits is replaced before the next copy', async () => {
    const clock = { now: 0 };
    let announces = 0;
    const udp = new FakeUdp((request, tries) => {
      if (request.action === 'announce' && ++announces === 1) {
        clock.now += 60_000;
        return null;
      }
      return goodTracker(request, tries);
    });
    await client(udp, clock).announce(params);
    expect(udp.actions()).toEqual(['connect', 'announce', 'connect', 'announce']);
  });

  test('scrape: seeders, leechers and completed of the torrent', async () => {
    const udp = new FakeUdp(goodTracker);
    expect(await client(udp).scrape([HASH])).toEqual([{ seeders: 3, leechers: 2, completed: 9 }]);
    expect(udp.sent[1].request).toMatchObject({ action: 'scrape', connectionId: CONNECTION_ID, infoHashes: [HASH] });
  });

  test('a scrape of several torrents goes in one packet; each gets the counts in its place, none where the answer is shorter', async () => {
    const [a, b, c] = [1, 2, 3].map((n) => Buffer.alloc(20, n));
    const udp = new FakeUdp((request, tries) =>
      request.action === 'scrape'
        ? reply({ action: 'scrape', transactionId: request.transactionId, files: [{ seeders: 1, completed: 2, leechers: 3 }, { seeders: 4, completed: 5, leechers: 6 }] })
        : goodTracker(request, tries),
    );
    expect(await client(udp).scrape([a, b, c])).toEqual([{ seeders: 1, leechers: 3, completed: 2 }, { seeders: 4, leechers: 6, completed: 5 }, undefined]);
    expect(udp.actions()).toEqual(['connect', 'scrape']);
    expect(udp.sent[1].request).toMatchObject({ action: 'scrape', infoHashes: [a, b, c] });
  });

  test('cancelled, unreachable, no UDP port, not a udp:// URL: each an AnnounceError, nothing left waiting', async () => {
    const silent = new FakeUdp(() => null);
    const controller = new AbortController();
    const pending = client(silent, undefined, { udpTrackerRetryBaseMs: 60_000 }).announce(params, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    expect(silent.waiting).toBe(0);

    const broken = new FakeUdp(goodTracker);
    broken.failSend = new Error('send EHOSTUNREACH');
    await expect(client(broken).announce(params)).rejects.toMatchObject({ kind: 'network', reason: 'cannot reach tracker: send EHOSTUNREACH' });

    await expect(client(null).announce(params)).rejects.toMatchObject({ kind: 'network', reason: expect.stringMatching(/no UDP port/) });
    await expect(client(new FakeUdp(goodTracker), undefined, {}, 'udp://10.9.8.7/announce').announce(params)).rejects.toMatchObject({ kind: 'url' });
  });
});
