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
 *
 * Each tracker keeps its own back-off, as libtorrent does: one that failed (an error, or silence
 * past `silentMs`) is skipped by the rounds that start before its retry time, `retryBaseMs` *
 * 2^(failures - 1) after its last failure, at most `retryMaxMs` (settings.announceRetryBaseMs and
 * announceRetryMaxMs). So a known-dead tracker in the first tier does not cost every round
 * `silentMs` (the event=completed round above all); once its time has come it is tried again in
 * its place, and an answer (even a late one) clears its back-off. When every tracker is in
 * back-off, no round can start before `nextTryAt`: the earliest retry time.
 */
import { isIP } from 'node:net';
import { defaultSettings } from '../../io/settings.js';

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

/**
 * The trackers of a torrent that are named by an IP address rather than a host name, in
 * allTrackerUrls' order (`announce`, then `announce-list` tier by tier; http, https and udp
 * alike), each once, with its port (the scheme's default when the URL has none; udp:// has none,
 * and 80 stands in: the route to a host does not depend on it).
 */
export function trackerIpAddresses(announce: string | undefined, announceList: readonly (readonly string[])[]): { host: string; port: number }[] {
  const found: { host: string; port: number }[] = [];
  for (const text of allTrackerUrls(announce, announceList)) {
    if (!URL.canParse(text)) continue;
    const url = new URL(text);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) === 0) continue;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    if (!found.some((known) => known.host === host && known.port === port)) found.push({ host, port });
  }
  return found;
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

export interface TrackerTiersOptions {
  /** Shuffles each tier once (BEP 12); values in [0, 1), Math.random by default. */
  random?: () => number;
  /** The tier number to show for each tier (when some tiers were left out); by default 0, 1, 2... */
  tierIndexes?: readonly number[];
  /** A tracker's first back-off after a failure, doubled at each failure in a row (settings.announceRetryBaseMs). */
  retryBaseMs?: number;
  /** Its longest back-off (settings.announceRetryMaxMs). */
  retryMaxMs?: number;
}

/** A tracker in back-off: its failures in a row and when a round may try it again. */
interface BackOff {
  failures: number;
  retryAt: number;
}

/**
 * A torrent has a handful of trackers at most, and a peer may hold ten thousand torrents: they
 * are kept in arrays searched by URL, with no map or set per torrent.
 */
export class TrackerTiers {
  /** The tiers in the order they are tried now: shuffled once, then reordered by promote(). */
  private readonly order: TrackerPosition[][];
  /** The trackers whose last try failed, made at the first failure. */
  private backOff?: Map<string, BackOff>;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  readonly size: number;

  /** `tiers` as the torrent lists them (see torrentTiers). */
  constructor(tiers: readonly (readonly string[])[], options: TrackerTiersOptions = {}) {
    const random = options.random ?? Math.random;
    this.retryBaseMs = options.retryBaseMs ?? defaultSettings.announceRetryBaseMs;
    this.retryMaxMs = options.retryMaxMs ?? defaultSettings.announceRetryMaxMs;
    this.order = tiers.map((tier, i) => shuffled(tier, random).map((url) => ({ url, tier: options.tierIndexes?.[i] ?? i })));
    this.size = this.order.reduce((count, tier) => count + tier.length, 0);
  }

  /** Every tracker, in the order a round tries them (those in back-off included). */
  list(): TrackerPosition[] {
    return this.order.flat();
  }

  private position(url: string): TrackerPosition | undefined {
    for (const tier of this.order) for (const position of tier) if (position.url === url) return position;
    return undefined;
  }

  tierIndexOf(url: string): number | undefined {
    return this.position(url)?.tier;
  }

  /** A tracker answered (in a round or late): it goes to the front of its tier (BEP 12), and its back-off ends. */
  promote(url: string): void {
    this.backOff?.delete(url);
    for (const tier of this.order) {
      const at = tier.findIndex((position) => position.url === url);
      if (at > 0) tier.unshift(...tier.splice(at, 1));
    }
  }

  /** A tracker failed (an error, or silence past the limit) at `now`: in back-off until the returned time. */
  failed(url: string, now: number): number {
    if (!this.position(url)) return now;
    const failures = this.failuresOf(url) + 1;
    const retryAt = now + Math.min(this.retryBaseMs * 2 ** (failures - 1), this.retryMaxMs);
    (this.backOff ??= new Map()).set(url, { failures, retryAt });
    return retryAt;
  }

  /** Whether a round starting at `now` skips the tracker: it failed, and its retry time has not come. */
  inBackOff(url: string, now: number): boolean {
    const backOff = this.backOff?.get(url);
    return backOff !== undefined && now < backOff.retryAt;
  }

  /** The tracker's failures in a row, 0 once it answers. */
  failuresOf(url: string): number {
    return this.backOff?.get(url)?.failures ?? 0;
  }

  /** When a round can try a tracker: `now` when one is not in back-off, else the earliest retry time; undefined without trackers. */
  nextTryAt(now: number): number | undefined {
    let earliest: number | undefined;
    for (const { url } of this.list()) {
      const backOff = this.backOff?.get(url);
      if (backOff === undefined || now >= backOff.retryAt) return now;
      earliest = Math.min(earliest ?? Infinity, backOff.retryAt);
    }
    return earliest;
  }

  /**
   * A new announce round, starting at `now`, over the order as it is now less the trackers in
   * back-off at `now` (a round over none is over at once: see nextTryAt).
   */
  startRound(now: number, silentMs: number): TierRound {
    return new TierRound(this, this.list().filter((position) => !this.inBackOff(position.url, now)), now, silentMs);
  }
}

/**
 * One announce round: which tracker is being tried, since when, and which comes next. The caller
 * starts an announce to `current`, and tells the round how it went: `succeeded` (the tracker is
 * promoted and the round is over), `failed` (the tracker goes into back-off; the next tracker, or
 * none when the round failed), or, when `isSilent(now)`, `failed` too: silence past the limit
 * counts as a failure.
 */
export class TierRound {
  private index = 0;
  private triedAt: number;
  private over = false;
  private latestRetryAt?: number;

  constructor(
    private readonly tiers: TrackerTiers,
    private readonly sequence: readonly TrackerPosition[],
    now: number,
    private readonly silentMs: number,
  ) {
    this.triedAt = now;
    this.over = sequence.length === 0;
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

  /** When every tracker that failed in this round may be tried again: where a failed round's retry belongs. Undefined while none failed. */
  get retryAt(): number | undefined {
    return this.latestRetryAt;
  }

  /** The current tracker answered: promoted in its tier, and the round is over. */
  succeeded(): TrackerPosition | undefined {
    const current = this.current;
    if (current) this.tiers.promote(current.url);
    this.over = true;
    return current;
  }

  /** The current tracker failed (or was silent too long): it goes into back-off; the next one to try, or undefined when every one failed. */
  failed(now: number): TrackerPosition | undefined {
    const current = this.current;
    if (!current) return undefined;
    const retryAt = this.tiers.failed(current.url, now);
    this.latestRetryAt = Math.max(this.latestRetryAt ?? retryAt, retryAt);
    this.index++;
    this.triedAt = now;
    if (this.index >= this.sequence.length) this.over = true;
    return this.current;
  }
}
