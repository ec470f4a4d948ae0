/**
 * The order in which a swarm tries its trackers (BEP 12, the multitracker extension): pure
 * bookkeeping, no sockets, the time as an argument.
 *
 * A torrent's `announce-list` is a list of tiers of URLs (or, without one, its `announce` alone
 * is the one tier). Each tier is shuffled once, when the swarm starts; every announce round then
 * tries the trackers tier by tier, in that order, until one answers. A tracker that answers is
 * moved to the front of its tier, so the next round starts with it. A tracker that fails, or stays
 * silent for `silentMs` (settings.trackerSilentMs), hands the round to the next one; a round in
 * which every tracker failed is over, and the caller retries it later.
 */

/** One tracker's place: its URL and the index of its tier in the torrent (0 is the first). */
export interface TrackerPosition {
  url: string;
  tier: number;
}

/**
 * The tiers of a torrent as BEP 12 reads them: `announce-list` when it has any URL (and then
 * `announce` is ignored), else `announce` alone, else none. A URL listed twice is kept once, in
 * its first place.
 */
export function torrentTiers(announce: string | undefined, announceList: readonly (readonly string[])[]): string[][] {
  const seen = new Set<string>();
  const tiers: string[][] = [];
  const source = announceList.some((tier) => tier.length > 0) ? announceList : announce !== undefined ? [[announce]] : [];
  for (const tier of source) {
    const urls = tier.filter((url) => !seen.has(url) && seen.add(url));
    if (urls.length > 0) tiers.push(urls);
  }
  return tiers;
}

/** Every URL of a torrent, `announce` and every `announce-list` entry, each once. */
export function allTrackerUrls(announce: string | undefined, announceList: readonly (readonly string[])[]): string[] {
  return [...new Set([...(announce !== undefined ? [announce] : []), ...announceList.flat()])];
}

/** Fisher-Yates, with `random` in [0, 1) so that tests can give their own. */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export class TrackerTiers {
  /** The tiers in the order they are tried now: shuffled once, then reordered by promote(). */
  private readonly order: string[][];
  /** Each URL's tier index in the torrent. */
  private readonly tierOf = new Map<string, number>();

  /**
   * `tiers` as the torrent lists them (see torrentTiers). `tierIndexes`, when given, are the tier
   * numbers to show for each (when some tiers were left out); by default 0, 1, 2...
   */
  constructor(tiers: readonly (readonly string[])[], random: () => number = Math.random, tierIndexes?: readonly number[]) {
    this.order = tiers.map((tier) => shuffled(tier, random));
    this.order.forEach((tier, i) => {
      for (const url of tier) this.tierOf.set(url, tierIndexes?.[i] ?? i);
    });
  }

  /** Every tracker, in the order a round tries them. */
  list(): TrackerPosition[] {
    return this.order.flatMap((tier) => tier.map((url) => ({ url, tier: this.tierOf.get(url)! })));
  }

  get size(): number {
    return this.tierOf.size;
  }

  tierIndexOf(url: string): number | undefined {
    return this.tierOf.get(url);
  }

  /** A tracker answered: it goes to the front of its tier (BEP 12). */
  promote(url: string): void {
    for (const tier of this.order) {
      const at = tier.indexOf(url);
      if (at > 0) tier.unshift(...tier.splice(at, 1));
    }
  }

  /** A new announce round, starting at `now`, over the order as it is now. */
  startRound(now: number, silentMs: number): TierRound {
    return new TierRound(this, this.list(), now, silentMs);
  }
}

/**
 * One announce round: which tracker is being tried, since when, and which comes next. The caller
 * starts an announce to `current`, and tells the round how it went: `succeeded` (the tracker is
 * promoted and the round is over), `failed` (the next tracker, or none when the round failed),
 * or, when `isSilent(now)`, `failed` too: silence past the limit counts as a failure.
 */
export class TierRound {
  private index = 0;
  private triedAt: number;
  private over = false;

  constructor(
    private readonly tiers: TrackerTiers,
    private readonly sequence: readonly TrackerPosition[],
    now: number,
    private readonly silentMs: number,
  ) {
    this.triedAt = now;
  }

  /** The tracker to try now; undefined once the round is over (a success, or all failed). */
  get current(): TrackerPosition | undefined {
    return this.over ? undefined : this.sequence[this.index];
  }

  /** Trackers tried so far in this round, the current one included. */
  get tried(): number {
    return Math.min(this.index + 1, this.sequence.length);
  }

  /** When the current tracker counts as silent. */
  get silentAt(): number {
    return this.triedAt + this.silentMs;
  }

  isSilent(now: number): boolean {
    return !this.over && now >= this.silentAt;
  }

  /** The current tracker answered: promoted in its tier, and the round is over. */
  succeeded(): TrackerPosition | undefined {
    const current = this.current;
    if (current) this.tiers.promote(current.url);
    this.over = true;
    return current;
  }

  /** The current tracker failed (or was silent too long): the next one to try, or undefined when every one failed. */
  failed(now: number): TrackerPosition | undefined {
    if (this.over) return undefined;
    this.index++;
    this.triedAt = now;
    if (this.index >= this.sequence.length) this.over = true;
    return this.current;
  }
}
