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
