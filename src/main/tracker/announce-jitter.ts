/**
 * When a swarm announces again after a tracker answered: the interval the tracker asks for (never
 * under our floor, settings.announceMinIntervalMs), plus a random part of up to `jitterFraction`
 * of it, drawn anew at each answer (settings.announceJitterFraction). Torrents started together
 * would otherwise re-announce together at every interval, each time in one burst; with the random
 * part they drift apart. It only ever adds: no announce comes before the tracker's interval, so
 * none before its min interval either.
 */
export function reannounceDelayMs(intervalS: number, floorMs: number, jitterFraction: number, random: () => number): number {
  const base = Math.max(intervalS * 1000, floorMs);
  return base + Math.floor(base * jitterFraction * random());
}
