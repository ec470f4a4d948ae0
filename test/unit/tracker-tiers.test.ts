/**
 * The order of BEP 12's tiers, with a fake time: which tracker a round tries next, what silence
 * costs, what an answer promotes, and how long a tracker that failed is skipped (its back-off).
 */
import { allTrackerUrls, torrentTiers, trackerIpAddresses, TrackerTiers } from '../../src/main/tracker/tracker-tiers.js';

const SILENT_MS = 60_000;
/** A failed tracker's back-off: 5 s, 10 s, 20 s... up to 60 s (settings.announceRetryBaseMs and announceRetryMaxMs in small). */
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 60_000;

/** A "random" source that never reorders (Fisher-Yates with j = i at every step). */
const keepOrder = (): number => 0.999999;

/** Tiers in the order given, with the back-off above. */
function inOrder(tiers: string[][], tierIndexes?: number[]): TrackerTiers {
  return new TrackerTiers(tiers, { random: keepOrder, tierIndexes, retryBaseMs: RETRY_BASE_MS, retryMaxMs: RETRY_MAX_MS });
}

describe('torrentTiers', () => {
  test('the announce-list wins over announce, empty tiers and repeated URLs are left out', () => {
    expect(torrentTiers('http://a/announce', [['udp://b:1'], [], ['http://c/announce', 'udp://b:1']])).toEqual([['udp://b:1'], ['http://c/announce']]);
  });

  test('without a list, announce alone is the one tier; without either, there is none', () => {
    expect(torrentTiers('http://a/announce', [])).toEqual([['http://a/announce']]);
    expect(torrentTiers('http://a/announce', [[]])).toEqual([['http://a/announce']]);
    expect(torrentTiers(undefined, [])).toEqual([]);
  });

  test('allTrackerUrls names announce and every list entry once', () => {
    expect(allTrackerUrls('http://a/announce', [['udp://b:1', 'http://a/announce'], ['udp://c:2']])).toEqual(['http://a/announce', 'udp://b:1', 'udp://c:2']);
  });

  test('trackerIpAddresses: the trackers named by an IP address, announce first, then the tiers, udp:// included', () => {
    // A host-named announce does not hide the IP addresses of the list.
    expect(trackerIpAddresses('http://tracker.example/announce', [['http://tracker.example/announce'], ['udp://192.168.1.10:6969/announce', 'https://10.0.0.2/announce'], ['http://[fe80::1]:7000/a']])).toEqual([
      { host: '192.168.1.10', port: 6969 },
      { host: '10.0.0.2', port: 443 },
      { host: 'fe80::1', port: 7000 },
    ]);
    expect(trackerIpAddresses('udp://127.0.0.1/announce', [['http://127.0.0.1:80/announce', 'not a url', 'http://127.0.0.1:6881/announce']])).toEqual([
      { host: '127.0.0.1', port: 80 },
      { host: '127.0.0.1', port: 6881 },
    ]);
    expect(trackerIpAddresses(undefined, [['udp://tracker.example:6969']])).toEqual([]);
    expect(trackerIpAddresses(undefined, [])).toEqual([]);
  });
});

describe('TrackerTiers', () => {
  test('each tier is shuffled once, within itself: tiers keep their order', () => {
    const tiers = [['a1', 'a2', 'a3'], ['b1', 'b2']];
    const seen = new Set<string>();
    for (let seed = 0; seed < 50; seed++) {
      let state = seed + 1;
      const random = (): number => ((state = (state * 16807) % 2147483647) / 2147483647);
      const order = new TrackerTiers(tiers, { random }).list();
      expect(order.slice(0, 3).map((p) => p.url).sort()).toEqual(['a1', 'a2', 'a3']);
      expect(order.slice(3).map((p) => p.url).sort()).toEqual(['b1', 'b2']);
      expect(order.map((p) => p.tier)).toEqual([0, 0, 0, 1, 1]);
      seen.add(order.map((p) => p.url).join());
    }
    // Shuffled for real: more than one order comes out.
    expect(seen.size).toBeGreaterThan(1);
  });

  test('a round tries the trackers tier by tier, in order, and a failure hands it to the next', () => {
    const tiers = inOrder([['a1', 'a2'], ['b1']]);
    const round = tiers.startRound(1000, SILENT_MS);
    expect(round.current).toEqual({ url: 'a1', tier: 0 });
    expect(round.failed(2000)).toEqual({ url: 'a2', tier: 0 });
    expect(round.failed(3000)).toEqual({ url: 'b1', tier: 1 });
    expect(round.tried).toBe(3);
    expect(round.failed(4000)).toBeUndefined();
    expect(round.current).toBeUndefined();
  });

  test('a tracker silent for the limit counts as failed, measured from its own try', () => {
    const tiers = inOrder([['a'], ['b']]);
    const round = tiers.startRound(1000, SILENT_MS);
    expect(round.silentAt).toBe(1000 + SILENT_MS);
    expect(round.isSilent(1000 + SILENT_MS - 1)).toBe(false);
    expect(round.isSilent(1000 + SILENT_MS)).toBe(true);
    round.failed(70_000);
    expect(round.silentAt).toBe(70_000 + SILENT_MS);
    expect(round.isSilent(70_000 + 1)).toBe(false);
  });

  test('a tracker that answers moves to the front of its tier, and the next round starts with it', () => {
    const tiers = inOrder([['a1', 'a2', 'a3'], ['b1', 'b2']]);
    const round = tiers.startRound(0, SILENT_MS);
    round.failed(1);
    round.failed(2);
    round.failed(3);
    expect(round.current).toEqual({ url: 'b1', tier: 1 });
    round.failed(4);
    expect(round.succeeded()).toEqual({ url: 'b2', tier: 1 });
    expect(round.current).toBeUndefined();
    expect(tiers.list().map((p) => p.url)).toEqual(['a1', 'a2', 'a3', 'b2', 'b1']);

    // Once the back-offs of the failed ones are over, the next round starts at the first tier again.
    const next = tiers.startRound(RETRY_BASE_MS + 10, SILENT_MS);
    expect(next.current?.url).toBe('a1');
    next.failed(RETRY_BASE_MS + 11);
    next.succeeded();
    expect(tiers.list().map((p) => p.url)).toEqual(['a2', 'a1', 'a3', 'b2', 'b1']);
  });

  test('promote leaves other tiers and an unknown URL alone', () => {
    const tiers = inOrder([['a1', 'a2'], ['b1', 'b2']]);
    tiers.promote('nobody');
    tiers.promote('a1');
    expect(tiers.list().map((p) => p.url)).toEqual(['a1', 'a2', 'b1', 'b2']);
  });

  test('tier numbers can be those of the torrent when some tiers are left out', () => {
    const tiers = inOrder([['b'], ['d']], [1, 3]);
    expect(tiers.list()).toEqual([{ url: 'b', tier: 1 }, { url: 'd', tier: 3 }]);
    expect(tiers.tierIndexOf('d')).toBe(3);
    expect(tiers.size).toBe(2);
  });

  test('a round over no tracker is over at once', () => {
    const tiers = new TrackerTiers([]);
    const round = tiers.startRound(0, SILENT_MS);
    expect(round.current).toBeUndefined();
    expect(round.isSilent(SILENT_MS)).toBe(false);
    expect(round.failed(1)).toBeUndefined();
    expect(tiers.nextTryAt(0)).toBeUndefined();
  });
});

describe('the back-off of a tracker that failed', () => {
  /** A round at `now` in which the dead first tracker stays silent to the limit, and the second answers. */
  function deadThenLive(tiers: TrackerTiers, now: number): void {
    const round = tiers.startRound(now, SILENT_MS);
    expect(round.current?.url).toBe('dead');
    expect(round.failed(now + SILENT_MS)).toEqual({ url: 'live', tier: 1 });
    round.succeeded();
  }

  test('a dead tier-1 tracker is skipped by the next round at once, and tried again in its place once its back-off is over', () => {
    const tiers = inOrder([['dead'], ['live']]);
    deadThenLive(tiers, 0);
    // Silent at 60 s: skipped until 60 s + 5 s.
    expect(tiers.inBackOff('dead', SILENT_MS)).toBe(true);
    expect(tiers.failuresOf('dead')).toBe(1);
    const second = tiers.startRound(SILENT_MS + 1_000, SILENT_MS);
    expect(second.current).toEqual({ url: 'live', tier: 1 });
    expect(second.succeeded()).toEqual({ url: 'live', tier: 1 });
    expect(tiers.startRound(SILENT_MS + RETRY_BASE_MS - 1, SILENT_MS).current?.url).toBe('live');

    // Its time has come: first again (the tier order holds), and a second failure doubles the wait.
    const third = SILENT_MS + RETRY_BASE_MS;
    deadThenLive(tiers, third);
    expect(tiers.failuresOf('dead')).toBe(2);
    const failedAt = third + SILENT_MS;
    expect(tiers.startRound(failedAt + 2 * RETRY_BASE_MS - 1, SILENT_MS).current?.url).toBe('live');
    expect(tiers.startRound(failedAt + 2 * RETRY_BASE_MS, SILENT_MS).current?.url).toBe('dead');
  });

  test('the back-off doubles with each failure in a row, up to the maximum', () => {
    const tiers = inOrder([['dead']]);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 7; i++) {
      const retryAt = tiers.failed('dead', now);
      waits.push(retryAt - now);
      now = retryAt;
    }
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    // A URL not among the tiers has no back-off.
    expect(tiers.failed('nobody', 0)).toBe(0);
    expect(tiers.inBackOff('nobody', 0)).toBe(false);
  });

  test('a tracker that comes back is used again: an answer ends its back-off and its count', () => {
    const tiers = inOrder([['dead'], ['live']]);
    deadThenLive(tiers, 0);
    deadThenLive(tiers, SILENT_MS + RETRY_BASE_MS);
    // Revived: tried once its back-off is over, it answers.
    const revivedAt = 2 * SILENT_MS + RETRY_BASE_MS + 2 * RETRY_BASE_MS;
    const round = tiers.startRound(revivedAt, SILENT_MS);
    expect(round.succeeded()).toEqual({ url: 'dead', tier: 0 });
    expect(tiers.failuresOf('dead')).toBe(0);
    expect(tiers.startRound(revivedAt + 1, SILENT_MS).current?.url).toBe('dead');

    // A late answer, one that comes after its round gave up on it, ends the back-off too.
    tiers.failed('dead', revivedAt + 2);
    expect(tiers.startRound(revivedAt + 3, SILENT_MS).current?.url).toBe('live');
    tiers.promote('dead');
    expect(tiers.startRound(revivedAt + 4, SILENT_MS).current?.url).toBe('dead');
    // Its next failure starts from the first wait again.
    expect(tiers.failed('dead', 0)).toBe(RETRY_BASE_MS);
  });

  test('a working tracker still moves to the front of its tier, and a round skips the failed ones of the tier', () => {
    const tiers = inOrder([['a1', 'a2', 'a3'], ['b']]);
    const round = tiers.startRound(0, SILENT_MS);
    round.failed(10);
    expect(round.succeeded()).toEqual({ url: 'a2', tier: 0 });
    expect(tiers.list().map((p) => p.url)).toEqual(['a2', 'a1', 'a3', 'b']);
    const next = tiers.startRound(20, SILENT_MS);
    expect(next.current?.url).toBe('a2');
    // a1 is in back-off: after a2 comes a3.
    expect(next.failed(30)).toEqual({ url: 'a3', tier: 0 });
    expect(next.succeeded()).toEqual({ url: 'a3', tier: 0 });
    expect(tiers.list().map((p) => p.url)).toEqual(['a3', 'a2', 'a1', 'b']);
  });

  test('when every tracker is in back-off, no round can start before the earliest retry time', () => {
    const tiers = inOrder([['a'], ['b', 'c']]);
    expect(tiers.nextTryAt(0)).toBe(0);
    const round = tiers.startRound(0, SILENT_MS);
    expect(round.retryAt).toBeUndefined();
    round.failed(1_000);
    round.failed(2_000);
    expect(round.failed(3_000)).toBeUndefined();
    // The round's own retry time: when all it tried may be tried again.
    expect(round.retryAt).toBe(3_000 + RETRY_BASE_MS);

    const now = 3_001;
    expect(tiers.nextTryAt(now)).toBe(1_000 + RETRY_BASE_MS);
    const empty = tiers.startRound(now, SILENT_MS);
    expect(empty.current).toBeUndefined();
    expect(empty.tried).toBe(0);
    expect(empty.failed(now)).toBeUndefined();
    // At the earliest retry time, the first tracker out of back-off is tried, and only it.
    const at = tiers.nextTryAt(now)!;
    expect(tiers.nextTryAt(at)).toBe(at);
    const later = tiers.startRound(at, SILENT_MS);
    expect(later.current?.url).toBe('a');
    expect(later.failed(at + 1)).toBeUndefined();
  });
});
