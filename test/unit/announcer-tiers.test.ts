/**
 * The Announcer over BEP 12 tiers, with fake trackers (no sockets): the next tracker when one
 * fails or stays silent, the one that answered tried first next time, a tracker that failed
 * skipped until its back-off is over, the events each tracker gets, a late answer, our own URL
 * listed as "self", and the scrapes shown per tracker.
 */
import { Announcer, trackerProtocolFor, type AnnouncerOptions, type TrackerEntry } from '../../src/main/tracker/announce-client.js';
import { AnnounceError, type AnnounceParams, type AnnounceResult, type ScrapeCounts, type TrackerProtocol } from '../../src/main/tracker/tracker-protocol.js';

type Behaviour = 'ok' | 'fail' | 'silent';

/** A tracker that records the events it gets and answers as its behaviour says. */
class FakeTracker implements TrackerProtocol {
  behaviour: Behaviour = 'ok';
  readonly events: string[] = [];
  private readonly silent: (() => void)[] = [];
  scrapes = 0;

  constructor(readonly url: string) {}

  announce(params: AnnounceParams, options: { signal?: AbortSignal } = {}): Promise<AnnounceResult> {
    this.events.push(params.event ?? '');
    if (this.behaviour === 'fail') return Promise.reject(new AnnounceError(`${this.url} refuses`, 'failure'));
    const answer: AnnounceResult = { intervalS: 3600, peers: [{ ip: '10.0.0.1', port: this.url.length }], complete: 2, incomplete: 1 };
    if (this.behaviour === 'ok') return Promise.resolve(answer);
    return new Promise((resolve, reject) => {
      this.silent.push(() => resolve(answer));
      options.signal?.addEventListener('abort', () => reject(new AnnounceError('announce cancelled', 'aborted')));
    });
  }

  scrape = (infoHashes: readonly Buffer[]): Promise<ScrapeCounts[]> => {
    this.scrapes++;
    return Promise.resolve(infoHashes.map(() => ({ seeders: 4, leechers: 5, completed: 6 })));
  };

  /** Answers the announces it kept silent on, late. */
  wakeUp(): void {
    for (const answer of this.silent.splice(0)) answer();
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const keepOrder = (): number => 0.999999;

let announcer: Announcer | undefined;
afterEach(async () => {
  await announcer?.stop();
  announcer = undefined;
});

function make(trackers: FakeTracker[], tiers: string[][], extra: Partial<AnnouncerOptions> = {}): { a: Announcer; peers: number[] } {
  const byUrl = new Map(trackers.map((t) => [t.url, t]));
  const peers: number[] = [];
  announcer = new Announcer({
    tiers,
    protocolFor: (url) => byUrl.get(url)!,
    random: keepOrder,
    infoHash: Buffer.alloc(20, 1),
    peerId: Buffer.alloc(20, 2),
    port: 6999,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
    onPeers: (list) => peers.push(...list.map((p) => p.port)),
    minIntervalMs: 10,
    retryBaseMs: 20,
    retryMaxMs: 100,
    silentMs: 50,
    stopTimeoutMs: 200,
    ...extra,
  });
  return { a: announcer, peers };
}

function statuses(a: Announcer): Record<string, string> {
  return Object.fromEntries(a.trackerList().map((t) => [t.url, t.status]));
}

describe('Announcer over tiers', () => {
  test('a failing tracker hands the round to the next of its tier, then to the next tier', async () => {
    const [a1, a2, b] = [new FakeTracker('a1'), new FakeTracker('a2'), new FakeTracker('b')];
    a1.behaviour = 'fail';
    a2.behaviour = 'fail';
    const { a, peers } = make([a1, a2, b], [['a1', 'a2'], ['b']]);
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the round to succeed');
    expect([a1.events, a2.events, b.events]).toEqual([['started'], ['started'], ['started']]);
    expect(peers).toEqual([1]);
    expect(a.status()).toMatchObject({ url: 'b', state: 'ok', failures: 0 });
    expect(a.trackerList()).toEqual<TrackerEntry[]>([
      { url: 'a1', tier: 0, status: 'error', error: 'a1 refuses' },
      { url: 'a2', tier: 0, status: 'error', error: 'a2 refuses' },
      { url: 'b', tier: 1, status: 'working', seeders: 2, leechers: 1 },
    ]);
  });

  test('a silent tracker fails the round for it after silentMs; its late answer still counts', async () => {
    const [dead, live] = [new FakeTracker('dead'), new FakeTracker('live')];
    dead.behaviour = 'silent';
    const { a, peers } = make([dead, live], [['dead'], ['live']]);
    const started = Date.now();
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the round to succeed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(statuses(a)).toEqual({ dead: 'error', live: 'working' });
    expect(a.trackerList()[0].error).toMatch(/no answer within 50 ms/);

    dead.wakeUp();
    await waitFor(() => statuses(a).dead === 'working', 'the late answer');
    expect(peers).toEqual(['live'.length, 'dead'.length]);
  });

  test('a tracker that answered is tried first in its tier from then on', async () => {
    const [a1, a2] = [new FakeTracker('a1'), new FakeTracker('a2')];
    a1.behaviour = 'fail';
    const { a } = make([a1, a2], [['a1', 'a2']], { minIntervalMs: 0 });
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the first round');
    a1.behaviour = 'ok';
    // A completed round goes to a2, now first, even though a1 works again.
    a.completed();
    await waitFor(() => a2.events.includes('completed'), 'event=completed');
    expect(a1.events).toEqual(['started']);
    expect(a2.events).toEqual(['started', 'completed']);
  });

  test('when every tracker fails, the round is retried with back-off and the error names the last tried', async () => {
    const [x, y] = [new FakeTracker('x'), new FakeTracker('y')];
    x.behaviour = 'fail';
    y.behaviour = 'fail';
    const failures: number[] = [];
    const { a } = make([x, y], [['x'], ['y']], { onFailure: (f) => failures.push(f.failures) });
    a.start();
    await waitFor(() => a.status().failures >= 2, 'two failed rounds');
    expect(a.status()).toMatchObject({ state: 'failing', lastError: 'y refuses (y, the last of 2 trackers tried)' });
    expect(failures.slice(0, 2)).toEqual([1, 2]);
    expect(x.events.length).toBeGreaterThanOrEqual(2);
  });

  test('a silent tracker of the first tier is skipped by the event=completed round: it goes to the next tier at once', async () => {
    const [dead, live] = [new FakeTracker('dead'), new FakeTracker('live')];
    dead.behaviour = 'silent';
    const { a } = make([dead, live], [['dead'], ['live']], { silentMs: 300, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the first round');
    a.completed();
    await waitFor(() => live.events.includes('completed'), 'event=completed at the second tier');
    // The dead tracker was not asked again: no silence to wait through before the second tier.
    expect(dead.events).toEqual(['started']);
    expect(live.events).toEqual(['started', 'completed']);
  });

  test('a failed tracker is tried again in its place once its back-off is over, and used again when it answers', async () => {
    const [first, second] = [new FakeTracker('first'), new FakeTracker('second')];
    first.behaviour = 'fail';
    const { a } = make([first, second], [['first'], ['second']], { minIntervalMs: 0, retryBaseMs: 150, retryMaxMs: 150 });
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the first round');
    const failedAt = Date.now();
    // Within its back-off, the completed round skips it.
    a.completed();
    await waitFor(() => second.events.includes('completed'), 'event=completed');
    expect(first.events).toEqual(['started']);
    first.behaviour = 'ok';
    // After it, the next round (the interval the fake asks for is long: the test starts it) tries it first again.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, failedAt + 160 - Date.now())));
    a.completed();
    await waitFor(() => first.events.length === 2, 'the first tracker tried again');
    await waitFor(() => a.status().url === 'first', 'the first tracker in use again');
    // It never recorded us (it refused the first), so it gets a started.
    expect(first.events).toEqual(['started', 'started']);
    expect(statuses(a)).toEqual({ first: 'working', second: 'working' });
  });

  test('when every tracker is in back-off, a round waits for the earliest retry time instead of spinning', async () => {
    const [x, y] = [new FakeTracker('x'), new FakeTracker('y')];
    x.behaviour = 'fail';
    y.behaviour = 'fail';
    const retries: number[] = [];
    const { a } = make([x, y], [['x'], ['y']], { retryBaseMs: 300, retryMaxMs: 300, onFailure: (f) => retries.push(f.retryInMs) });
    a.start();
    await waitFor(() => a.status().failures === 1, 'the first round to fail');
    const failedAt = Date.now();
    expect(retries[0]).toBeGreaterThanOrEqual(299);
    // A completed round asked for now finds nobody out of back-off: nothing is sent, it waits.
    a.completed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([x.events.length, y.events.length]).toEqual([1, 1]);
    expect(a.status()).toMatchObject({ state: 'failing', failures: 1 });
    expect(a.status().nextAnnounceAt).toBeGreaterThanOrEqual(failedAt + 200);
    x.behaviour = 'ok';
    await waitFor(() => x.events.length === 2, 'the retry', 2_000);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(200);
    expect(x.events).toEqual(['started', 'started']);
    await waitFor(() => a.status().state === 'ok', 'the round to succeed');
  });

  test('event=stopped goes to every tracker that got a started, not to those never reached', async () => {
    const [a1, b, c] = [new FakeTracker('a1'), new FakeTracker('b'), new FakeTracker('c')];
    a1.behaviour = 'fail';
    const { a } = make([a1, b, c], [['a1'], ['b'], ['c']]);
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the round');
    await a.stop();
    expect(b.events).toEqual(['started', 'stopped']);
    expect(c.events).toEqual([]);
    // a1 refused the started: it has not recorded us.
    expect(a1.events).toEqual(['started']);
    expect(a.status().state).toBe('stopped');
  });

  test('a silent tracker does not hold up stop()', async () => {
    const [dead, live] = [new FakeTracker('dead'), new FakeTracker('live')];
    dead.behaviour = 'silent';
    const { a } = make([dead, live], [['dead'], ['live']]);
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the round');
    const started = Date.now();
    await a.stop();
    expect(Date.now() - started).toBeLessThan(150);
    expect(dead.events).toEqual(['started']);
  });

  test('our own URL is listed as "self" and never announced to; with nothing else, nothing is announced', async () => {
    const other = new FakeTracker('other');
    const { a } = make([other], [['mine'], ['other']], { isSelf: (url) => url === 'mine' });
    expect(a.announcing).toBe(true);
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the round');
    expect(a.trackerList()).toEqual([
      { url: 'mine', tier: 0, status: 'self' },
      { url: 'other', tier: 1, status: 'working', seeders: 2, leechers: 1 },
    ]);
    await a.stop();

    const alone = make([], [['mine']], { isSelf: () => true }).a;
    expect(alone.announcing).toBe(false);
    alone.start();
    expect(alone.trackerList()).toEqual([{ url: 'mine', tier: 0, status: 'self' }]);
    expect(alone.status().state).toBe('idle');
  });

  test('an unsupported URL is an error entry and the next tracker is tried', async () => {
    expect(trackerProtocolFor('wss://t/announce')).toEqual({ error: 'tracker URL "wss://t/announce" is not http, https or udp (wss: trackers are not supported)' });
    expect(trackerProtocolFor('udp://t:1/announce')).toHaveProperty('announce');
    const ok = new FakeTracker('ok');
    const { a } = make([ok], [['wss://t/announce'], ['ok']], {
      protocolFor: (url) => (url === 'ok' ? ok : { url, announce: () => Promise.reject(new AnnounceError('wss: trackers are not supported', 'url')) }),
    });
    a.start();
    await waitFor(() => a.status().state === 'ok', 'the round');
    expect(a.trackerList()[0]).toMatchObject({ status: 'error', error: 'wss: trackers are not supported' });
  });

  test('with scrapes on, each tracker\'s counts show, refreshed no more often than asked', async () => {
    const [t1, t2] = [new FakeTracker('t1'), new FakeTracker('t2')];
    const { a } = make([t1, t2], [['t1', 't2']], { scrapeIntervalMs: 60_000 });
    a.start();
    await waitFor(() => a.trackerList().every((t) => t.completed !== undefined), 'both scrapes');
    expect(a.trackerList()).toEqual([
      { url: 't1', tier: 0, status: 'working', seeders: 4, leechers: 5, completed: 6 },
      { url: 't2', tier: 0, status: 'idle', seeders: 4, leechers: 5, completed: 6 },
    ]);
    a.completed();
    await waitFor(() => t1.events.includes('completed'), 'event=completed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([t1.scrapes, t2.scrapes]).toEqual([1, 1]);
  });
});
