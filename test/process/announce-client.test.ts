import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeBencode } from '../../src/io/bencode.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import {
  AnnounceError,
  type AnnounceFailure,
  Announcer,
  announceOnce,
  parseAnnounceResponse,
  type AnnounceStats,
  type PeerAddress,
} from '../../src/main/tracker/announce-client.js';
import { isTrackerFailure, parseQueryString } from '../../src/main/tracker/tracker-query.js';

const HASH = Buffer.from(Array.from({ length: 20 }, (_, i) => (i * 37 + 200) % 256));
const PEER_ID = Buffer.from([0, 1, 2, 0x20, 0x25, 0x26, 0x2b, 0x3d, 0x7f, 0x80, 0xc3, 0xff, 0xfe, 0x3f, 0x23, 0x2f, 0x41, 0x7e, 0x2e, 0x2d]);

type Mode = 'ok' | 'error' | 'hang' | 'garbage' | 'huge' | 'huge-declared' | 'failure';

interface Recorded {
  at: number;
  url: string;
  query: Map<string, Buffer[]>;
}

/** A tracker that records what it is sent and answers as its mode says. */
class FakeTracker {
  readonly requests: Recorded[] = [];
  mode: Mode = 'ok';
  intervalS = 1;
  private readonly server = http.createServer((req, res) => this.answer(req, res));

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/announce`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  events(): string[] {
    return this.requests.map((r) => r.query.get('event')?.[0].toString() ?? '');
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const raw = req.url ?? '';
    const query = parseQueryString(raw.slice(raw.indexOf('?') + 1));
    if (isTrackerFailure(query)) throw new Error(query.failure);
    this.requests.push({ at: Date.now(), url: raw, query });
    switch (this.mode) {
      case 'ok':
        res.end(encodeBencode({ interval: this.intervalS, peers: Buffer.from([10, 0, 0, 5, 0x1f, 0x90]) }));
        return;
      case 'error':
        res.statusCode = 500;
        res.end('internal error');
        return;
      case 'hang':
        return;
      case 'garbage':
        res.end('<html>not bencode</html>');
        return;
      case 'failure':
        res.end(encodeBencode({ 'failure reason': 'go away' }));
        return;
      case 'huge':
        // Chunked, so that only counting the bytes can catch it.
        res.write(Buffer.alloc(settings.maxTrackerResponseLength, 0x61));
        res.end(Buffer.alloc(10, 0x61));
        return;
      case 'huge-declared':
        res.writeHead(200, { 'content-length': settings.maxTrackerResponseLength + 1 });
        res.end(Buffer.alloc(settings.maxTrackerResponseLength + 1, 0x61));
        return;
    }
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Runs an Announcer against `url` in a child process (the compiled module) and reports the
 * state it is in when that process's event loop runs dry: it must run dry by itself, within
 * the bound, whatever the tracker said, so the Announcer's timers never keep a process alive.
 */
function stateWhenIdle(url: string, timeoutMs = 15_000): Promise<{ code: number | null; state: string }> {
  const module = pathToFileURL(path.join(process.cwd(), 'dist', 'main', 'tracker', 'announce-client.js')).href;
  const script = `
    const { Announcer } = await import(${JSON.stringify(module)});
    const a = new Announcer({ url: ${JSON.stringify(url)}, infoHash: Buffer.alloc(20, 1), peerId: Buffer.alloc(20, 2), port: 6999,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 0 }), onPeers: () => {}, retryBaseMs: 60_000 });
    a.start();
    process.once('beforeExit', () => process.stdout.write(a.status().state));`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, state: out });
    });
  });
}

const stats: AnnounceStats = { uploaded: 1, downloaded: 2, left: 3 };
const params = { infoHash: HASH, peerId: PEER_ID, port: 6999, stats };

describe('parseAnnounceResponse', () => {
  test('a reply holding as many compact peers as the size limit allows is read whole (property counterexample: push(...peers) overflowed the stack from about 120 000 peers)', () => {
    const count = Math.floor((settings.maxTrackerResponseLength - 32) / 6);
    const body = encodeBencode({ interval: 60, peers: Buffer.alloc(count * 6, 1) });
    expect(body.length).toBeLessThanOrEqual(settings.maxTrackerResponseLength);
    const result = parseAnnounceResponse(body);
    expect(result.peers).toHaveLength(count);
    expect(result.peers[0]).toEqual({ ip: '1.1.1.1', port: 257 });
  });
});

describe('announceOnce', () => {
  let tracker: FakeTracker;
  beforeEach(async () => {
    tracker = new FakeTracker();
    await tracker.listen();
  });
  afterEach(() => tracker.close());

  test('sends binary info_hash and peer_id percent-encoded, and every parameter', async () => {
    const result = await announceOnce(tracker.url, { ...params, event: 'started', numwant: 12 });
    expect(result).toEqual({ intervalS: 1, peers: [{ ip: '10.0.0.5', port: 8080 }] });
    const { query, url } = tracker.requests[0];
    expect(query.get('info_hash')?.[0].equals(HASH)).toBe(true);
    expect(query.get('peer_id')?.[0].equals(PEER_ID)).toBe(true);
    expect(url).not.toMatch(/\+/);
    const text = (name: string) => query.get(name)?.[0].toString();
    expect([text('port'), text('uploaded'), text('downloaded'), text('left')]).toEqual(['6999', '1', '2', '3']);
    expect([text('compact'), text('event'), text('numwant')]).toEqual(['1', 'started', '12']);
  });

  test('appends to a query string the announce URL already has', async () => {
    await announceOnce(`${tracker.url}?passkey=abc%2Fdef#frag`, params);
    await announceOnce(`${tracker.url}?`, params);
    await announceOnce(`${tracker.url}?passkey=x&`, params);
    const [first, second, third] = tracker.requests;
    expect(first.url).toMatch(/^\/announce\?passkey=abc%2Fdef&info_hash=/);
    expect(first.query.get('info_hash')?.[0].equals(HASH)).toBe(true);
    expect(second.url).toMatch(/^\/announce\?info_hash=/);
    expect(third.url).toMatch(/^\/announce\?passkey=x&info_hash=/);
  });

  test('compact=false asks for the dictionary model', async () => {
    await announceOnce(tracker.url, { ...params, compact: false });
    expect(tracker.requests[0].query.get('compact')?.[0].toString()).toBe('0');
  });

  test.each<[Mode, string, RegExp]>([
    ['error', 'http', /^tracker answered HTTP 500$/],
    ['garbage', 'bencode', /not valid bencode/],
    ['failure', 'failure', /^go away$/],
    ['huge', 'too-large', /larger than 1048576 bytes/],
    ['huge-declared', 'too-large', /larger than 1048576 bytes/],
  ])('a tracker in mode %s gives AnnounceError %s', async (mode, kind, reason) => {
    tracker.mode = mode;
    const error = await announceOnce(tracker.url, params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnnounceError);
    expect((error as AnnounceError).kind).toBe(kind);
    expect((error as AnnounceError).reason).toMatch(reason);
  });

  test('a tracker that does not answer times out', async () => {
    tracker.mode = 'hang';
    const started = Date.now();
    await expect(announceOnce(tracker.url, params, { timeoutMs: 100 })).rejects.toMatchObject({
      kind: 'timeout',
      reason: 'tracker did not answer within 100 ms',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('the caller can cancel', async () => {
    tracker.mode = 'hang';
    const controller = new AbortController();
    const pending = announceOnce(tracker.url, params, { signal: controller.signal });
    await waitFor(() => tracker.requests.length === 1, 'the request');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
  });

  test('a tracker that is not listening is a network error', async () => {
    const port = await freePort();
    await expect(announceOnce(`http://127.0.0.1:${port}/announce`, params)).rejects.toMatchObject({
      kind: 'network',
      reason: expect.stringMatching(/^cannot reach tracker: .*ECONNREFUSED/),
    });
  });

  test.each(['udp://tracker.example:80/announce', 'wss://tracker.example/announce', 'not a url'])('refuses %s', async (url) => {
    await expect(announceOnce(url, params)).rejects.toMatchObject({ kind: 'url' });
  });
});

describe('Announcer', () => {
  let tracker: FakeTracker;
  let announcer: Announcer | undefined;
  let peersSeen: PeerAddress[][];
  let left: number;

  beforeEach(async () => {
    tracker = new FakeTracker();
    await tracker.listen();
    peersSeen = [];
    left = 100;
  });

  afterEach(async () => {
    await announcer?.stop();
    announcer = undefined;
    await tracker.close();
  });

  function make(url: string, extra: Partial<ConstructorParameters<typeof Announcer>[0]> = {}): Announcer {
    announcer = new Announcer({
      url,
      infoHash: HASH,
      peerId: PEER_ID,
      port: 6999,
      stats: () => ({ uploaded: 0, downloaded: 100 - left, left }),
      onPeers: (peers) => peersSeen.push(peers),
      minIntervalMs: 10,
      retryBaseMs: 20,
      retryMaxMs: 100,
      stopTimeoutMs: 300,
      ...extra,
    });
    return announcer;
  }

  test('started at once, then periodic at the interval the tracker gives, completed, stopped', async () => {
    const a = make(tracker.url);
    expect(a.status()).toMatchObject({ state: 'idle', failures: 0, peersReceived: 0 });
    a.start();
    await waitFor(() => peersSeen.length >= 2, 'a periodic announce');
    expect(tracker.events().slice(0, 2)).toEqual(['started', '']);
    // One second is what the tracker asked for; setTimeout may fire up to a millisecond early.
    expect(tracker.requests[1].at - tracker.requests[0].at).toBeGreaterThanOrEqual(990);
    expect(peersSeen[0]).toEqual([{ ip: '10.0.0.5', port: 8080 }]);
    expect(a.status()).toMatchObject({ url: tracker.url, state: 'ok', failures: 0, intervalS: 1, peersReceived: 1 });
    expect(a.status().nextAnnounceAt).toBeGreaterThan(a.status().lastAnnounceAt!);

    left = 0;
    a.completed();
    await waitFor(() => tracker.events().includes('completed'), 'event=completed');
    const completed = tracker.requests[tracker.events().indexOf('completed')];
    expect(completed.query.get('left')?.[0].toString()).toBe('0');

    const before = tracker.requests.length;
    await a.stop();
    expect(tracker.events().slice(before)).toEqual(['stopped']);
    expect(a.status()).toMatchObject({ state: 'stopped' });
    expect(a.status().nextAnnounceAt).toBeUndefined();
  });

  test('after stop() nothing more is sent', async () => {
    tracker.intervalS = 0; // re-announce at the 10 ms floor
    const a = make(tracker.url);
    a.start();
    await waitFor(() => tracker.requests.length >= 3, 'announces at the floor interval');
    await a.stop();
    const count = tracker.requests.length;
    expect(tracker.events()[count - 1]).toBe('stopped');
    a.start();
    a.completed();
    // Twenty floor intervals: any timer left behind would have fired by then.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tracker.requests.length).toBe(count);
  });

  test('a tracker answering 500 is retried with back-off, then recovers', async () => {
    tracker.mode = 'error';
    const a = make(tracker.url);
    a.start();
    await waitFor(() => a.status().state === 'failing' && a.status().failures >= 5, 'five failed attempts');
    const gaps = tracker.requests.slice(1, 5).map((r, i) => r.at - tracker.requests[i].at);
    [20, 40, 80, 100].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay - 2));
    expect(a.status()).toMatchObject({ state: 'failing', lastError: 'tracker answered HTTP 500' });
    expect(a.status().failures).toBeGreaterThanOrEqual(4);
    expect(peersSeen).toEqual([]);

    tracker.mode = 'ok';
    await waitFor(() => a.status().state === 'ok', 'recovery');
    expect(a.status().failures).toBe(0);
    // The tracker never recorded us, so the first announce that got through is still `started`.
    expect(tracker.events().filter((e) => e !== 'started')).toEqual([]);
    expect(peersSeen).toHaveLength(1);
  });

  test('a tracker that is not listening is retried until it comes back', async () => {
    const port = await freePort();
    const a = make(`http://127.0.0.1:${port}/announce`);
    a.start();
    await waitFor(() => a.status().state === 'failing' && a.status().failures >= 2, 'two failures');
    expect(a.status().lastError).toMatch(/^cannot reach tracker: .*ECONNREFUSED/);

    const revived = new FakeTracker();
    await revived.listen(port);
    try {
      await waitFor(() => a.status().state === 'ok', 'recovery');
      expect(revived.events()[0]).toBe('started');
      expect(a.status().failures).toBe(0);
    } finally {
      await a.stop();
      await revived.close();
    }
  });

  test('a throwing stats or onPeers callback is a logged failure, not a crash', async () => {
    const lines: string[] = [];
    const a = make(tracker.url, {
      stats: () => {
        throw new Error('stats broke');
      },
      log: (line) => lines.push(line),
    });
    a.start();
    await waitFor(() => a.status().failures >= 1, 'a failure');
    expect(a.status().lastError).toBe('Error: stats broke');
    expect(lines[0]).toMatch(/^tracker http:\/\/127\.0\.0\.1:\d+\/announce: announce failed \(1 in a row\)/);
    await a.stop();

    lines.length = 0;
    const b = make(tracker.url, {
      onPeers: () => {
        throw new Error('handler broke');
      },
      log: (line) => lines.push(line),
    });
    b.start();
    await waitFor(() => lines.length > 0, 'a log line');
    expect(lines[0]).toMatch(/peer list handler failed: handler broke$/);
    expect(b.status().state).toBe('ok');
  });

  test('with onFailure, each failed announce is reported there, with its count and retry delay, and not logged', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const failures: AnnounceFailure[] = [];
    const url = `http://127.0.0.1:${port}/announce`;
    const a = make(url, { log: (line) => lines.push(line), onFailure: (failure) => failures.push(failure) });
    a.start();
    try {
      await waitFor(() => failures.length >= 2, 'two failures');
      expect(failures[0]).toEqual({ url, reason: expect.stringMatching(/^cannot reach tracker: .*ECONNREFUSED/), failures: 1, retryInMs: 20 });
      expect(failures[1]).toMatchObject({ failures: 2, retryInMs: 40 });
      expect(lines.filter((line) => line.includes('announce failed'))).toEqual([]);
    } finally {
      await a.stop();
    }
  });

  test('its timers do not keep the process alive, after a success or a failure', async () => {
    tracker.intervalS = 3600;
    expect(await stateWhenIdle(tracker.url)).toEqual({ code: 0, state: 'ok' });
    tracker.mode = 'error';
    expect(await stateWhenIdle(tracker.url)).toEqual({ code: 0, state: 'failing' });
  });

  test('stop() returns within a bound when the tracker hangs', async () => {
    const a = make(tracker.url, { stopTimeoutMs: 200 });
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the first announce');
    tracker.mode = 'hang';
    a.completed();
    await waitFor(() => a.status().state === 'announcing', 'the hanging announce');
    const started = Date.now();
    await a.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    await waitFor(() => tracker.events().at(-1) === 'stopped', 'event=stopped to arrive');
    expect(a.status().state).toBe('stopped');
  });

  test('stop() never throws when the tracker was never reached', async () => {
    const port = await freePort();
    const a = make(`http://127.0.0.1:${port}/announce`, { retryBaseMs: 60_000 });
    a.start();
    await waitFor(() => a.status().state === 'failing', 'the first failure');
    await expect(a.stop()).resolves.toBeUndefined();
    expect(a.status().state).toBe('stopped');
  });
});
