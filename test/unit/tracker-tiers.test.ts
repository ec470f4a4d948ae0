/**
 * The order of BEP 12's tiers, with a fake time: which tracker a round tries next, what silence
 * costs, and what an answer promotes.
 */
import { allTrackerUrls, torrentTiers, TrackerTiers } from '../../src/main/tracker/tracker-tiers.js';

const SILENT_MS = 60_000;

/** A "random" source that never reorders (Fisher-Yates with j = i at every step). */
const keepOrder = (): number => 0.999999;

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
});

describe('TrackerTiers', () => {
  test('each tier is shuffled once, within itself: tiers keep their order', () => {
    const tiers = [['a1', 'a2', 'a3'], ['b1', 'b2']];
    const seen = new Set<string>();
    for (let seed = 0; seed < 50; seed++) {
      let state = seed + 1;
      const random = (): number => ((state = (state * 16807) % 2147483647) / 2147483647);
      const order = new TrackerTiers(tiers, random).list();
      expect(order.slice(0, 3).map((p) => p.url).sort()).toEqual(['a1', 'a2', 'a3']);
      expect(order.slice(3).map((p) => p.url).sort()).toEqual(['b1', 'b2']);
      expect(order.map((p) => p.tier)).toEqual([0, 0, 0, 1, 1]);
      seen.add(order.map((p) => p.url).join());
    }
    // Shuffled for real: more than one order comes out.
    expect(seen.size).toBeGreaterThan(1);
  });

  test('a round tries the trackers tier by tier, in order, and a failure hands it to the next', () => {
    const tiers = new TrackerTiers([['a1', 'a2'], ['b1']], keepOrder);
    const round = tiers.startRound(1000, SILENT_MS);
    expect(round.current).toEqual({ url: 'a1', tier: 0 });
    expect(round.failed(2000)).toEqual({ url: 'a2', tier: 0 });
    expect(round.failed(3000)).toEqual({ url: 'b1', tier: 1 });
    expect(round.tried).toBe(3);
    expect(round.failed(4000)).toBeUndefined();
    expect(round.current).toBeUndefined();
  });

  test('a tracker silent for the limit counts as failed, measured from its own try', () => {
    const tiers = new TrackerTiers([['a'], ['b']], keepOrder);
    const round = tiers.startRound(1000, SILENT_MS);
    expect(round.silentAt).toBe(1000 + SILENT_MS);
    expect(round.isSilent(1000 + SILENT_MS - 1)).toBe(false);
    expect(round.isSilent(1000 + SILENT_MS)).toBe(true);
    round.failed(70_000);
    expect(round.silentAt).toBe(70_000 + SILENT_MS);
    expect(round.isSilent(70_000 + 1)).toBe(false);
  });

  test('a tracker that answers moves to the front of its tier, and the next round starts with it', () => {
    const tiers = new TrackerTiers([['a1', 'a2', 'a3'], ['b1', 'b2']], keepOrder);
    const round = tiers.startRound(0, SILENT_MS);
    round.failed(1);
    round.failed(2);
    round.failed(3);
    expect(round.current).toEqual({ url: 'b1', tier: 1 });
    round.failed(4);
    expect(round.succeeded()).toEqual({ url: 'b2', tier: 1 });
    expect(round.current).toBeUndefined();
    expect(tiers.list().map((p) => p.url)).toEqual(['a1', 'a2', 'a3', 'b2', 'b1']);

    const next = tiers.startRound(10, SILENT_MS);
    expect(next.current?.url).toBe('a1');
    next.failed(11);
    next.succeeded();
    expect(tiers.list().map((p) => p.url)).toEqual(['a2', 'a1', 'a3', 'b2', 'b1']);
  });

  test('promote leaves other tiers and an unknown URL alone', () => {
    const tiers = new TrackerTiers([['a1', 'a2'], ['b1', 'b2']], keepOrder);
    tiers.promote('nobody');
    tiers.promote('a1');
    expect(tiers.list().map((p) => p.url)).toEqual(['a1', 'a2', 'b1', 'b2']);
  });

  test('tier numbers can be those of the torrent when some tiers are left out', () => {
    const tiers = new TrackerTiers([['b'], ['d']], keepOrder, [1, 3]);
    expect(tiers.list()).toEqual([{ url: 'b', tier: 1 }, { url: 'd', tier: 3 }]);
    expect(tiers.tierIndexOf('d')).toBe(3);
    expect(tiers.size).toBe(2);
  });

  test('a round over no tracker is over at once', () => {
    const round = new TrackerTiers([]).startRound(0, SILENT_MS);
    expect(round.current).toBeUndefined();
    expect(round.failed(1)).toBeUndefined();
  });
});
