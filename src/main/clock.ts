/**
 * Time as the swarm sees it. The session hands one clock to every swarm and connection, so that a
 * test can run their time-outs, rates and choker rounds on a fake clock (test/helpers/fake-clock.ts)
 * and get the same decisions every run.
 */
export interface Clock {
  now(): number;
  /** Calls `tick` every `periodMs` until the returned function is called; never keeps the process alive. */
  every(periodMs: number, tick: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(periodMs, tick) {
    const timer = setInterval(tick, periodMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** setTimeout fires at once for delays above 2^31-1 ms; a tracker could ask for more. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` once, `delayMs` from now on `clock` (at least 1 ms: a clock ticks with a period,
 * at most MAX_TIMER_MS); returns what cancels it. Never keeps the process alive.
 */
export function after(clock: Clock, delayMs: number, fire: () => void): () => void {
  const cancel = clock.every(Math.min(Math.max(1, delayMs), MAX_TIMER_MS), () => {
    cancel();
    fire();
  });
  return cancel;
}
