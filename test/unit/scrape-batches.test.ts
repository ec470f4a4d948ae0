/**
 * Scrapes of many swarms in one request (src/main/tracker/scrape-batches.ts), on a fake clock with
 * trackers in memory: the asks of one tracker go out together, up to the bound of a request, each
 * swarm gets its own counts, a torrent the reply leaves out keeps the counts it had, a cancelled
 * ask leaves its batch, and two trackers never share a request; and the announcers of many swarms
 * scraping through one ScrapeBatches.
 */
import { Announcer } from '../../src/main/tracker/announce-client.js';
import { AnnounceGate } from '../../src/main/tracker/announce-gate.js';
import { ScrapeBatches, type ScrapableTracker, type ScrapeAsk } from '../../src/main/tracker/scrape-batches.js';
import { AnnounceError, type AnnounceResult, type ScrapeCounts, type TrackerCallOptions } from '../../src/main/tracker/tracker-protocol.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { settle } from '../helpers/held-tracker.js';

/** Swarm n's info hash: n in every byte. */
const hashOf = (n: number): Buffer => Buffer.alloc(20, n);
/** The counts a ScrapeTracker gives swarm n (each swarm's are its own), `later` more seeders when they changed. */
const countsOf = (n: number, later = 0): ScrapeCounts => ({ seeders: n + later, leechers: n + 1, completed: n + 2 });

/** A tracker in memory that records each scrape request (the swarm numbers it names) and answers, holds or fails it. */
class ScrapeTracker implements ScrapableTracker {
  readonly requests: number[][] = [];
  behaviour: 'answer' | 'hold' | 'fail' = 'answer';
  /** Swarms the replies leave out. */
  readonly unlisted = new Set<number>();
  /** Seeders that joined every swarm since the start. */
  later = 0;
  /** The signals of the requests held. */
  readonly held: AbortSignal[] = [];
  private readonly release: (() => void)[] = [];

  constructor(
    readonly url: string,
    readonly maxScrapeInfoHashes?: number,
  ) {}

  announce(): Promise<AnnounceResult> {
    return Promise.resolve({ intervalS: 1800, peers: [] });
  }

  scrape = (infoHashes: readonly Buffer[], options: TrackerCallOptions = {}): Promise<(ScrapeCounts | undefined)[]> => {
    const swarms = infoHashes.map((hash) => hash[0]);
    this.requests.push(swarms);
    if (this.behaviour === 'fail') return Promise.reject(new AnnounceError('tracker answered HTTP 500', 'http'));
    const reply = (): (ScrapeCounts | undefined)[] => swarms.map((n) => (this.unlisted.has(n) ? undefined : countsOf(n, this.later)));
    if (this.behaviour === 'answer') return Promise.resolve(reply());
    return new Promise((resolve, reject) => {
      const signal = options.signal!;
      this.held.push(signal);
      this.release.push(() => resolve(reply()));
      signal.addEventListener('abort', () => reject(new AnnounceError('announce cancelled', 'aborted')));
    });
  };

  answerHeld(): void {
    for (const answer of this.release.splice(0)) answer();
  }
}

/** What each ask was answered with, by swarm number: counts, or null for none. */
class Answers {
  readonly got = new Map<number, ScrapeCounts | null>();

  ask(batches: ScrapeBatches, tracker: ScrapableTracker, swarm: number): ScrapeAsk {
    return batches.ask(tracker, hashOf(swarm), (counts) => {
      if (this.got.has(swarm)) throw new Error(`swarm ${swarm} answered twice`);
      this.got.set(swarm, counts ?? null);
    });
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function setUp(options: { maxInFlight?: number; maxInfoHashes?: number; gatherMs?: number } = {}): { clock: FakeClock; gate: AnnounceGate; batches: ScrapeBatches } {
  const clock = new FakeClock();
  const gate = new AnnounceGate(options.maxInFlight ?? 50);
  const batches = new ScrapeBatches(gate, clock, { maxInfoHashes: options.maxInfoHashes ?? 64, deadlineMs: 60_000, gatherMs: options.gatherMs ?? 1000 });
  return { clock, gate, batches };
}

describe('ScrapeBatches', () => {
  test('the asks of many swarms of one tracker go out in one request per bound, and each swarm gets its own counts', async () => {
    const { clock, gate, batches } = setUp({ maxInfoHashes: 64 });
    const tracker = new ScrapeTracker('http://t/announce');
    const answers = new Answers();
    for (const n of range(1, 150)) answers.ask(batches, tracker, n);
    clock.advance(999);
    await settle();
    expect(tracker.requests).toEqual([]);
    clock.advance(1);
    await settle();
    expect(tracker.requests).toEqual([range(1, 64), range(65, 128), range(129, 150)]);
    expect([...answers.got.entries()]).toEqual(range(1, 150).map((n) => [n, countsOf(n)]));
    expect([gate.holding, gate.queued, batches.queued]).toEqual([0, 0, 0]);
  });

  test('the asks waiting at the gate hold one place there, and go out together when it comes', async () => {
    const { gate, batches } = setUp({ maxInFlight: 1, gatherMs: 0 });
    const announce = gate.enter('announce', () => undefined);
    const tracker = new ScrapeTracker('http://t/announce');
    const answers = new Answers();
    answers.ask(batches, tracker, 1);
    await settle();
    for (const n of range(2, 10)) answers.ask(batches, tracker, n);
    expect([gate.queued, batches.queued]).toEqual([1, 10]);
    announce.leave();
    await settle();
    expect(tracker.requests).toEqual([range(1, 10)]);
    expect(answers.got.size).toBe(10);
  });

  test('a protocol with a smaller bound than the setting (BEP 15: 74 in a packet) gets no more than its bound', async () => {
    const { clock, batches } = setUp({ maxInfoHashes: 100 });
    const tracker = new ScrapeTracker('udp://t:6969/announce', 74);
    const answers = new Answers();
    for (const n of range(1, 100)) answers.ask(batches, tracker, n);
    clock.advance(1000);
    await settle();
    expect(tracker.requests.map((r) => r.length)).toEqual([74, 26]);
  });

  test('two tracker URLs never share a request', async () => {
    const { clock, batches } = setUp();
    const [a, b] = [new ScrapeTracker('http://a/announce'), new ScrapeTracker('udp://b:80/announce')];
    const answers = new Answers();
    for (const n of range(1, 6)) answers.ask(batches, n % 2 === 0 ? a : b, n);
    clock.advance(1000);
    await settle();
    expect(a.requests).toEqual([[2, 4, 6]]);
    expect(b.requests).toEqual([[1, 3, 5]]);
    expect(answers.got.get(3)).toEqual(countsOf(3));
  });

  test('a torrent the reply does not list, or a request that failed, is answered with no counts; the others get theirs', async () => {
    const { clock, batches } = setUp();
    const tracker = new ScrapeTracker('http://t/announce');
    tracker.unlisted.add(2);
    const answers = new Answers();
    for (const n of range(1, 3)) answers.ask(batches, tracker, n);
    clock.advance(1000);
    await settle();
    expect([...answers.got.entries()]).toEqual([
      [1, countsOf(1)],
      [2, null],
      [3, countsOf(3)],
    ]);
    tracker.behaviour = 'fail';
    const failed = new Answers();
    failed.ask(batches, tracker, 4);
    clock.advance(1000);
    await settle();
    expect([...failed.got.entries()]).toEqual([[4, null]]);
  });

  test('a cancelled ask leaves its batch: never sent, never answered; the last one cancelled gives the place at the gate back', async () => {
    const { clock, gate, batches } = setUp({ maxInFlight: 1, gatherMs: 0 });
    const announce = gate.enter('announce', () => undefined);
    const tracker = new ScrapeTracker('http://t/announce');
    const answers = new Answers();
    const asks = range(1, 3).map((n) => answers.ask(batches, tracker, n));
    asks[1].cancel();
    asks[1].cancel();
    announce.leave();
    await settle();
    expect(tracker.requests).toEqual([[1, 3]]);
    expect([...answers.got.keys()]).toEqual([1, 3]);

    const blocker = gate.enter('announce', () => undefined);
    await settle();
    const alone = answers.ask(batches, tracker, 4);
    expect(gate.queued).toBe(1);
    alone.cancel();
    expect([gate.queued, batches.queued]).toEqual([0, 0]);
    blocker.leave();
    clock.advance(1000);
    await settle();
    expect(tracker.requests).toEqual([[1, 3]]);
    expect(answers.got.has(4)).toBe(false);
  });

  test('a request out is aborted once every ask in it is cancelled, and gives its place at the gate back; not while one still wants it', async () => {
    const { clock, gate, batches } = setUp();
    const tracker = new ScrapeTracker('http://t/announce');
    tracker.behaviour = 'hold';
    const answers = new Answers();
    const asks = range(1, 2).map((n) => answers.ask(batches, tracker, n));
    clock.advance(1000);
    await settle();
    expect(tracker.held).toHaveLength(1);
    asks[0].cancel();
    expect(tracker.held[0].aborted).toBe(false);
    asks[1].cancel();
    expect(tracker.held[0].aborted).toBe(true);
    await settle();
    expect(gate.holding).toBe(0);
    expect(answers.got.size).toBe(0);
  });

  test('asks that come while a request of their tracker is out wait for the next one', async () => {
    const { clock, batches } = setUp();
    const tracker = new ScrapeTracker('http://t/announce');
    tracker.behaviour = 'hold';
    const answers = new Answers();
    answers.ask(batches, tracker, 1);
    clock.advance(1000);
    await settle();
    answers.ask(batches, tracker, 2);
    clock.advance(1000);
    await settle();
    expect(tracker.requests).toEqual([[1], [2]]);
    tracker.answerHeld();
    await settle();
    expect([...answers.got.keys()].sort()).toEqual([1, 2]);
  });

  test('a bound below one is refused, naming the setting', () => {
    expect(() => new ScrapeBatches(new AnnounceGate(1), new FakeClock(), { maxInfoHashes: 0, deadlineMs: 1, gatherMs: 0 })).toThrow(/maxInfoHashesPerScrape/);
  });
});

describe('the announcers of many swarms scraping through one ScrapeBatches', () => {
  const SCRAPE_INTERVAL_MS = 60_000;
  let announcers: Announcer[] = [];
  afterEach(async () => {
    await Promise.all(announcers.map((a) => a.stop()));
    announcers = [];
  });

  function swarms(count: number, trackers: ScrapeTracker[], batches: ScrapeBatches, gate: AnnounceGate, clock: FakeClock): Announcer[] {
    const byUrl = new Map(trackers.map((t) => [t.url, t]));
    announcers = range(1, count).map(
      (n) =>
        new Announcer({
          tiers: [trackers.map((t) => t.url)],
          protocolFor: (url) => byUrl.get(url)!,
          gate,
          scrapeBatches: batches,
          clock,
          random: () => 0,
          infoHash: hashOf(n),
          peerId: Buffer.alloc(20, 0xee),
          port: 6999,
          stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
          onPeers: () => undefined,
          scrapeIntervalMs: SCRAPE_INTERVAL_MS,
        }),
    );
    for (const announcer of announcers) announcer.start();
    return announcers;
  }

  const countsShown = (a: Announcer): (ScrapeCounts | undefined)[] =>
    a.trackerList().map((t) => (t.seeders === undefined ? undefined : { seeders: t.seeders, leechers: t.leechers!, completed: t.completed! }));

  test('100 swarms of two trackers: two requests to each after their started announces, each swarm showing its own counts', async () => {
    const { clock, gate, batches } = setUp({ maxInfoHashes: 64 });
    const trackers = [new ScrapeTracker('http://a/announce'), new ScrapeTracker('udp://b:80/announce')];
    const all = swarms(100, trackers, batches, gate, clock);
    await settle();
    clock.advance(1000);
    await settle();
    for (const tracker of trackers) expect(tracker.requests.map((r) => r.length)).toEqual([64, 36]);
    all.forEach((a, i) => expect(countsShown(a)).toEqual([countsOf(i + 1), countsOf(i + 1)]));
  });

  test('a swarm the reply leaves out keeps the counts it had; the others are refreshed', async () => {
    const { clock, gate, batches } = setUp();
    const tracker = new ScrapeTracker('http://a/announce');
    const all = swarms(3, [tracker], batches, gate, clock);
    await settle();
    clock.advance(1000);
    await settle();
    expect(all.map(countsShown)).toEqual([[countsOf(1)], [countsOf(2)], [countsOf(3)]]);
    tracker.unlisted.add(2);
    tracker.later = 10;
    clock.advance(SCRAPE_INTERVAL_MS);
    await settle();
    expect(tracker.requests).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(all.map(countsShown)).toEqual([[countsOf(1, 10)], [countsOf(2)], [countsOf(3, 10)]]);
  });

  test('a swarm that stops takes its ask out of the batch waiting for the gate', async () => {
    const { clock, gate, batches } = setUp();
    const tracker = new ScrapeTracker('http://a/announce');
    const all = swarms(3, [tracker], batches, gate, clock);
    await settle();
    expect(batches.queued).toBe(3);
    await all[1].stop();
    expect(batches.queued).toBe(2);
    clock.advance(1000);
    await settle();
    expect(tracker.requests).toEqual([[1, 3]]);
    expect(countsShown(all[1])).toEqual([undefined]);
  });
});
