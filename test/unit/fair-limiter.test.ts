/**
 * The rate limits shared round-robin by swarm: when the bucket is dry, turns go to each waiting
 * swarm in order, whatever the number of peers waiting in each; with a fake clock and timers.
 */
import { FairLimiter, type LimiterTimers } from '../../src/main/net/fair-limiter.js';
import { TokenBucket } from '../../src/main/net/token-bucket.js';

const BLOCK = 16 * 1024;

class FakeTimers implements LimiterTimers {
  time = 0;
  private pending: { at: number; run: () => void; cancelled: boolean }[] = [];
  now = (): number => this.time;
  after = (ms: number, run: () => void): { cancel(): void } => {
    const entry = { at: this.time + ms, run, cancelled: false };
    this.pending.push(entry);
    return { cancel: () => (entry.cancelled = true) };
  };
  /** Runs timers in time order until `until`. */
  advance(until: number): void {
    for (;;) {
      const next = this.pending.filter((p) => !p.cancelled).sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > until) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.run();
    }
    this.time = until;
  }
}

/** A limiter of one block per second with a burst of one block, and a log of who moved. */
function setup(): { limiter: FairLimiter; timers: FakeTimers; moved: string[]; turn: (who: string) => () => void } {
  const timers = new FakeTimers();
  const limiter = new FairLimiter(new TokenBucket(BLOCK, BLOCK, 0), timers);
  const moved: string[] = [];
  const turn = (who: string) => () => {
    limiter.take(BLOCK);
    moved.push(who);
  };
  return { limiter, timers, moved, turn };
}

/** Empties the bucket and spends one block more: the next block may move after one second. */
function inDebt(limiter: FairLimiter): void {
  limiter.take(2 * BLOCK);
}

test('bytes move at once until the bucket is in debt', () => {
  const { limiter } = setup();
  expect(limiter.open()).toBe(true);
  limiter.take(BLOCK);
  expect(limiter.open()).toBe(true);
  limiter.take(BLOCK);
  expect(limiter.open()).toBe(false);
});

test('turns alternate between swarms, not between peers: ten peers of one swarm do not starve the other', () => {
  const { limiter, timers, moved, turn } = setup();
  inDebt(limiter);
  const busy = {};
  const quiet = {};
  for (let i = 0; i < 10; i++) limiter.wait(busy, turn(`busy-${i}`));
  limiter.wait(quiet, turn('quiet-0'));
  limiter.wait(quiet, turn('quiet-1'));
  timers.advance(4_000);
  expect(moved).toEqual(['busy-0', 'quiet-0', 'busy-1', 'quiet-1']);
  timers.advance(12_000);
  expect(moved.slice(4)).toEqual(['busy-2', 'busy-3', 'busy-4', 'busy-5', 'busy-6', 'busy-7', 'busy-8', 'busy-9']);
});

test('the limit holds: one block a second, however many wait', () => {
  const { limiter, timers, moved, turn } = setup();
  inDebt(limiter);
  const owners = [{}, {}, {}];
  for (let i = 0; i < 30; i++) limiter.wait(owners[i % 3], turn(`t${i}`));
  timers.advance(10_000);
  expect(moved).toHaveLength(10);
});

test('a turn whose peer left moves nothing, and the next turn runs at once', () => {
  const { limiter, timers, moved, turn } = setup();
  inDebt(limiter);
  const a = {};
  const b = {};
  limiter.wait(a, () => undefined);
  limiter.wait(b, turn('b'));
  timers.advance(1_000);
  expect(moved).toEqual(['b']);
});

test('a swarm that left loses its turns', () => {
  const { limiter, timers, moved, turn } = setup();
  inDebt(limiter);
  const gone = {};
  limiter.wait(gone, turn('gone'));
  limiter.wait({}, turn('stays'));
  limiter.forget(gone);
  timers.advance(1_000);
  expect(moved).toEqual(['stays']);
});

test('while others wait, a newcomer is not let through ahead of them', () => {
  const { limiter, timers, turn } = setup();
  inDebt(limiter);
  limiter.wait({}, turn('first'));
  timers.advance(500);
  expect(limiter.open()).toBe(false);
  timers.advance(1_000);
  // Served, and the bucket is empty again after its block.
  expect(limiter.open()).toBe(false);
  timers.advance(2_000);
  expect(limiter.open()).toBe(true);
});

test('unlimited: always open, nothing waits', () => {
  const limiter = new FairLimiter(new TokenBucket(0, 0, 0), new FakeTimers());
  limiter.take(10 * BLOCK);
  expect(limiter.open()).toBe(true);
});
