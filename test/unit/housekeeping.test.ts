/** The session's one housekeeping timer for every swarm (src/main/swarm/housekeeping.ts), on a fake clock. */
import type { Clock } from '../../src/main/clock.js';
import { createLogger } from '../../src/main/logger.js';
import { Housekeeping, HOUSEKEEPING_PERIOD_MS } from '../../src/main/swarm/housekeeping.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A fake clock that counts its running timers. */
function countedClock(): { clock: FakeClock & Clock; timers: () => number } {
  const clock = new FakeClock();
  let running = 0;
  const every = clock.every.bind(clock);
  clock.every = (periodMs, tick) => {
    running++;
    const stop = every(periodMs, tick);
    return () => {
      running--;
      stop();
    };
  };
  return { clock, timers: () => running };
}

/** Log lines as written, each swarm's under its name. */
function lines(): { written: string[]; swarm: (name: string) => ReturnType<typeof createLogger> } {
  const written: string[] = [];
  const root = createLogger('quiet', (line) => void written.push(line));
  return { written, swarm: (name) => root.child(name) };
}

test('every swarm that joined is ticked once a period, all by one timer', () => {
  const { clock, timers } = countedClock();
  const housekeeping = new Housekeeping(clock);
  const log = lines();
  const ticks: string[] = [];
  housekeeping.join(log.swarm('a'), () => void ticks.push('a'));
  housekeeping.join(log.swarm('b'), () => void ticks.push('b'));
  expect(timers()).toBe(1);
  clock.advance(HOUSEKEEPING_PERIOD_MS - 1);
  expect(ticks).toEqual([]);
  clock.advance(1);
  expect(ticks).toEqual(['a', 'b']);
  clock.advance(2 * HOUSEKEEPING_PERIOD_MS);
  expect(ticks).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
});

test("a swarm whose tick throws is logged under its name, and the others are ticked all the same", () => {
  const { clock } = countedClock();
  const housekeeping = new Housekeeping(clock);
  const log = lines();
  const ticks: string[] = [];
  housekeeping.join(log.swarm('a'), () => void ticks.push('a'));
  housekeeping.join(log.swarm('broken.iso'), () => {
    throw new Error('no such piece 7');
  });
  housekeeping.join(log.swarm('c'), () => void ticks.push('c'));
  clock.advance(HOUSEKEEPING_PERIOD_MS);
  expect(ticks).toEqual(['a', 'c']);
  expect(log.written).toHaveLength(1);
  expect(log.written[0]).toMatch(/warn \[broken\.iso\] housekeeping failed\b.*: no such piece 7$/m);
  clock.advance(HOUSEKEEPING_PERIOD_MS);
  expect(ticks).toEqual(['a', 'c', 'a', 'c']);
  // The same failure again is not logged again, every second.
  expect(log.written).toHaveLength(1);
});

test('a swarm that left is not ticked again, even when it leaves during a round before its turn', () => {
  const { clock } = countedClock();
  const housekeeping = new Housekeeping(clock);
  const log = lines();
  const ticks: string[] = [];
  const leaveA = housekeeping.join(log.swarm('a'), () => {
    ticks.push('a');
    leaveB();
  });
  const leaveB = housekeeping.join(log.swarm('b'), () => void ticks.push('b'));
  housekeeping.join(log.swarm('c'), () => void ticks.push('c'));
  clock.advance(HOUSEKEEPING_PERIOD_MS);
  expect(ticks).toEqual(['a', 'c']);
  leaveA();
  clock.advance(HOUSEKEEPING_PERIOD_MS);
  expect(ticks).toEqual(['a', 'c', 'c']);
});

test('the timer runs only while a swarm is in', () => {
  const { clock, timers } = countedClock();
  const housekeeping = new Housekeeping(clock);
  const log = lines();
  const ticks: string[] = [];
  const leave = housekeeping.join(log.swarm('a'), () => void ticks.push('a'));
  leave();
  leave();
  expect(timers()).toBe(0);
  housekeeping.join(log.swarm('b'), () => void ticks.push('b'));
  expect(timers()).toBe(1);
  clock.advance(HOUSEKEEPING_PERIOD_MS);
  expect(ticks).toEqual(['b']);
});
