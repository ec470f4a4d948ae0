/**
 * The jitter of re-announces (src/main/tracker/announce-jitter.ts): alone, and across announcers
 * started together on a fake clock, with the random numbers the test gives.
 */
import { defaultSettings } from '../../src/io/settings.js';
import type { Announcer } from '../../src/main/tracker/announce-client.js';
import { AnnounceGate } from '../../src/main/tracker/announce-gate.js';
import { reannounceDelayMs } from '../../src/main/tracker/announce-jitter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { announcerOf, HeldTracker, settle, TrackerLog } from '../helpers/held-tracker.js';

describe('reannounceDelayMs', () => {
  test('adds up to the fraction of the interval, as the random number says, never less than the interval', () => {
    expect([0, 0.5, 0.999999].map((r) => reannounceDelayMs(1800, 15_000, 0.1, () => r))).toEqual([1_800_000, 1_890_000, 1_979_999]);
  });

  test('a tracker asking for less than our floor gets the floor, jittered from there', () => {
    expect(reannounceDelayMs(0, 15_000, 0.1, () => 0)).toBe(15_000);
    expect(reannounceDelayMs(5, 15_000, 0.1, () => 0.5)).toBe(15_750);
  });

  test('with no jitter asked for, the interval as it is', () => {
    expect(reannounceDelayMs(1800, 15_000, 0, () => 0.7)).toBe(1_800_000);
  });
});

describe('announcers started together', () => {
  let announcers: Announcer[] = [];
  afterEach(async () => {
    await Promise.all(announcers.map((a) => a.stop()));
    announcers = [];
  });

  test('re-announce at moments spread over a tenth of the interval after it, each as its random number says', async () => {
    const clock = new FakeClock(0);
    const log = new TrackerLog(clock);
    const tracker = new HeldTracker('t', log);
    tracker.intervalS = 1000;
    const gate = new AnnounceGate(defaultSettings.maxConcurrentAnnounces);
    const draws = [0, 0.25, 0.5, 0.75, 0.999];
    announcers = draws.map((draw, i) => announcerOf(i + 1, [tracker], log, { gate, random: () => draw }));
    for (const announcer of announcers) announcer.start();
    await settle();
    expect(log.sent.map((s) => s.at)).toEqual([0, 0, 0, 0, 0]);
    const dueAt = [1_000_000, 1_025_000, 1_050_000, 1_075_000, 1_099_900];
    expect(announcers.map((a) => a.status().nextAnnounceAt)).toEqual(dueAt);

    // Each re-announces at its own moment, and not a millisecond before.
    for (const [i, at] of dueAt.entries()) {
      clock.advance(at - 1 - clock.now());
      await settle();
      expect(log.sent).toHaveLength(5 + i);
      clock.advance(1);
      await settle();
      expect(log.sent.slice(5 + i)).toEqual([{ tracker: 't', swarm: i + 1, event: '', at }]);
    }
  });
});
