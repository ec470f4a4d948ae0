/**
 * The announce client: an Announcer keeps a swarm announced to its trackers for as long as we
 * take part in it, tier by tier as BEP 12 says (tracker-tiers.ts), over each tracker's protocol
 * (tracker-protocol.ts: HTTP in http-tracker-client.ts, UDP in udp-tracker-client.ts), and
 * scrapes them (BEP 48, BEP 15) now and then for /status.
 */
import { defaultSettings, type Settings } from '../../io/settings.js';
import { after, MAX_TIMER_MS, systemClock, type Clock } from '../clock.js';
import { AnnounceGate, cancelledAtGate, type GateTicket } from './announce-gate.js';
import { reannounceDelayMs } from './announce-jitter.js';
import type { AnnounceFailure, TrackerEntry, TrackerState, TrackerStatus } from './announce-status.js';
import { httpTracker } from './http-tracker-client.js';
import { AnnounceError, type AnnounceParams, type AnnounceResult, type AnnounceStats, type TrackerProtocol } from './tracker-protocol.js';
import { trackerEntry, trackerRecords, type Attempt, type Outcome, type TrackerRecord } from './tracker-records.js';
import type { PeerAddress } from './tracker-responses.js';
import { ScrapeBatches } from './scrape-batches.js';
import { TrackerScrapes } from './tracker-scrapes.js';
import { TrackerTiers, type TierRound, type TrackerPosition } from './tracker-tiers.js';
import { udpTracker, type UdpTransport } from './udp-tracker-client.js';

export { AnnounceError } from './tracker-protocol.js';
export type { AnnounceResult, AnnounceStats } from './tracker-protocol.js';
export type { PeerAddress } from './tracker-responses.js';
export { announceOnce, parseAnnounceResponse } from './http-tracker-client.js';
export type { AnnounceFailure, TrackerEntry, TrackerStatus } from './announce-status.js';

export interface AnnouncerOptions {
  /** The torrent's trackers as BEP 12 tiers (see torrentTiers); or `url` for one tracker alone. */
  tiers?: readonly (readonly string[])[];
  url?: string;
  /** Trackers that are this very peer: listed with status `self`, never announced to. */
  isSelf?: (url: string) => boolean;
  /** The peer's UDP port, for udp:// trackers; without one they fail, saying why. */
  udp?: UdpTransport | null;
  /** The protocol of a URL, for tests; by default HTTP for http(s)://, BEP 15 for udp://. */
  protocolFor?: (url: string) => TrackerProtocol;
  /** Shuffles the tiers (BEP 12) and draws each re-announce's jitter; Math.random by default. */
  random?: () => number;
  /** The session's gate for tracker requests, shared by every swarm; without one, the announcer has a gate of its own. */
  gate?: AnnounceGate;
  /** The session's scrapes, which scrape the swarms of one tracker together; without them, the announcer scrapes alone. */
  scrapeBatches?: ScrapeBatches;
  /** Time for the re-announces, silences and back-offs (a test's fake clock); the system's by default. */
  clock?: Clock;
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  stats: () => AnnounceStats;
  /** The peer's settings: time-outs, back-off and limits where the options below name none. */
  settings?: Settings;
  onPeers: (peers: PeerAddress[]) => void;
  log?: (line: string) => void;
  /** Told of each failed round instead of `log`, by callers that report failures as events. */
  onFailure?: (failure: AnnounceFailure) => void;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Longest time one failed tracker is skipped by later rounds (settings.trackerRetryMaxMs). */
  trackerRetryMaxMs?: number;
  /** Floor for the tracker's interval, so that a tracker asking for 0 s is not hammered. */
  minIntervalMs?: number;
  /** Bound on one HTTP announce. */
  timeoutMs?: number;
  /** Bound on the event=stopped announces, which run while the program shuts down. */
  stopTimeoutMs?: number;
  /** A tracker silent this long fails the round for it (settings.trackerSilentMs). */
  silentMs?: number;
  /** Time between scrapes of each tracker; without it (or 0), no scrapes. */
  scrapeIntervalMs?: number;
}

function reasonOf(err: unknown): string {
  return err instanceof AnnounceError ? err.reason : String(err);
}

/** The protocol of a tracker URL: HTTP for http(s)://, BEP 15 for udp://, else the reason it has none. */
export function trackerProtocolFor(
  url: string,
  options: { settings?: Settings; udp?: UdpTransport | null; timeoutMs?: number } = {},
): TrackerProtocol | { error: string } {
  const settings = options.settings ?? defaultSettings;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: `tracker URL "${url}" is not a valid URL` };
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return httpTracker(url, settings, options.timeoutMs ?? settings.announceTimeoutMs);
  if (parsed.protocol === 'udp:') return udpTracker(url, { transport: options.udp ?? null, settings });
  return { error: `tracker URL "${url}" is not http, https or udp (${parsed.protocol} trackers are not supported)` };
}

/**
 * Announces a swarm to its trackers: event=started at once, then every interval the tracker in
 * use asks for (plus a little jitter, announce-jitter.ts); event=completed when the download
 * completes; event=stopped on stop() to every tracker that got a started. Each round tries the
 * trackers tier by tier (BEP 12), skipping those in back-off after a failure (tracker-tiers.ts); a
 * round in which every tracker failed is retried with exponential back-off and shown in status();
 * it is never fatal. Every request goes out through the session's gate (announce-gate.ts): a
 * round waits there for its first request's place before it begins, so that a swarm queued
 * behind thousands of others costs a ticket, not a round in progress; and a tracker's silence is
 * counted from the moment its request went out, not while it waited there.
 */
export class Announcer {
  private state: TrackerState = 'idle';
  private lastError?: string;
  private failures = 0;
  private lastAnnounceAt?: number;
  private nextAnnounceAt?: number;
  private intervalS?: number;
  private peersReceived = 0;
  /** The tracker that answered last. */
  private inUse?: string;

  /** Cancels the pending re-announce. */
  private cancelTimer?: () => void;
  private round?: Promise<void>;
  /** The next round's place at the gate while it waits for one. */
  private queued?: GateTicket;
  private completedPending = false;
  private started = false;
  private stopping?: Promise<void>;

  /** Every tracker of the torrent, in its order. */
  private readonly trackers: TrackerRecord[];
  /** The trackers we announce to (not ourselves), in BEP 12 order. */
  private readonly tiers: TrackerTiers;
  private readonly scrapes: TrackerScrapes;

  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly minIntervalMs: number;
  private readonly stopTimeoutMs: number;
  private readonly silentMs: number;
  /** Longest time one request holds its place at the gate: a slow tracker's then goes on outside it. */
  private readonly gateHoldMs: number;
  private readonly settings: Settings;
  private readonly gate: AnnounceGate;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: AnnouncerOptions) {
    this.settings = options.settings ?? defaultSettings;
    this.retryBaseMs = options.retryBaseMs ?? this.settings.announceRetryBaseMs;
    this.retryMaxMs = options.retryMaxMs ?? this.settings.announceRetryMaxMs;
    this.minIntervalMs = options.minIntervalMs ?? this.settings.announceMinIntervalMs;
    this.stopTimeoutMs = options.stopTimeoutMs ?? this.settings.announceStopTimeoutMs;
    this.silentMs = options.silentMs ?? this.settings.trackerSilentMs;
    this.gateHoldMs = Math.min(options.timeoutMs ?? this.settings.announceTimeoutMs, this.silentMs);
    this.gate = options.gate ?? new AnnounceGate(this.settings.maxConcurrentAnnounces);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    const { records, announced, tierIndexes } = trackerRecords(
      options.tiers ?? (options.url !== undefined ? [[options.url]] : []),
      (url) => options.isSelf?.(url) ?? false,
      (url) => options.protocolFor?.(url) ?? trackerProtocolFor(url, { settings: this.settings, udp: options.udp, timeoutMs: options.timeoutMs }),
    );
    this.trackers = records;
    const batches =
      options.scrapeBatches ?? new ScrapeBatches(this.gate, this.clock, { maxInfoHashes: this.settings.maxInfoHashesPerScrape, deadlineMs: this.silentMs, gatherMs: 0 });
    this.scrapes = new TrackerScrapes(records, options.infoHash, options.scrapeIntervalMs ?? 0, batches, this.clock);
    this.tiers = new TrackerTiers(announced, { random: options.random, tierIndexes, retryBaseMs: this.retryBaseMs, retryMaxMs: options.trackerRetryMaxMs ?? this.settings.trackerRetryMaxMs });
  }

  /** Whether there is any tracker to announce to (every tracker may be this peer itself). */
  get announcing(): boolean {
    return this.tiers.size > 0;
  }

  start(): void {
    if (this.started || this.stopping || !this.announcing) return;
    this.started = true;
    // Not through the unref'd timer: a process with nothing else to do could exit before it fired.
    this.announce();
    this.scrapes.start();
  }

  completed(): void {
    if (this.stopping) return;
    this.completedPending = true;
    // An announce still waiting at the gate will carry the completion (its event is chosen as it
    // goes out): it moves up to the completed lane. One already out carries the old event; the
    // completed round follows when its round ends.
    this.queued?.raise('completed');
    for (const tracker of this.trackers) tracker.attempt?.ticket?.raise('completed');
    if (this.started && !this.round) this.announce();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  status(): TrackerStatus {
    const status: TrackerStatus = {
      url: this.inUse ?? this.tiers.list()[0]?.url ?? this.trackers[0]?.url ?? '',
      state: this.state,
      failures: this.failures,
      peersReceived: this.peersReceived,
    };
    if (this.lastError !== undefined) status.lastError = this.lastError;
    if (this.lastAnnounceAt !== undefined) status.lastAnnounceAt = this.lastAnnounceAt;
    if (this.nextAnnounceAt !== undefined) status.nextAnnounceAt = this.nextAnnounceAt;
    if (this.intervalS !== undefined) status.intervalS = this.intervalS;
    return status;
  }

  /** Every tracker of the torrent, in its order, with how it is doing. */
  trackerList(): TrackerEntry[] {
    return this.trackers.map(trackerEntry);
  }

  private log(url: string, line: string): void {
    try {
      this.options.log?.(`tracker ${url}: ${line}`);
    } catch {
      // A broken log sink must not stop the announces nor escape as an unhandled rejection.
    }
  }

  private reportFailure(failure: AnnounceFailure): void {
    if (!this.options.onFailure) {
      this.log(failure.url, `announce failed (${failure.failures} in a row), retrying in ${failure.retryInMs} ms: ${failure.reason}`);
      return;
    }
    try {
      this.options.onFailure(failure);
    } catch {
      // As with log: a broken sink must not stop the announces.
    }
  }

  private params(event: AnnounceParams['event']): AnnounceParams {
    const { infoHash, peerId, port } = this.options;
    return { infoHash, peerId, port, stats: this.options.stats(), event };
  }

  private schedule(delayMs: number): void {
    this.cancelTimer?.();
    const delay = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    const dueAt = this.clock.now() + delay;
    this.nextAnnounceAt = dueAt;
    this.cancelTimer = after(this.clock, delay, () => this.announce(dueAt));
  }

  /**
   * A round now, once the gate has a place for its first request; `dueAt` is when its timer was
   * due (the back-offs it waited for are over then, even if the timer fired a little early).
   */
  private announce(dueAt = 0): void {
    // Called directly too (start, completed): a pending re-announce must not fire after it.
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.nextAnnounceAt = undefined;
    if (this.stopping || this.round || this.queued) return;
    const now = Math.max(this.clock.now(), dueAt);
    const round = this.tiers.startRound(now, this.silentMs);
    if (!round.current) {
      // Every tracker is in back-off: the round waits for the first to come out of it.
      const at = this.tiers.nextTryAt(now);
      if (at !== undefined) this.schedule(at - now);
      return;
    }
    this.state = 'announcing';
    const first = this.record(round.current.url);
    // One still in flight from an earlier round is joined, a URL we cannot announce to fails at
    // once: neither needs a place.
    if (first.attempt || 'error' in first.protocol) return this.begin(round);
    first.status = 'updating';
    const ticket = this.gate.enter(this.completedPending ? 'completed' : 'announce', () => {
      this.queued = undefined;
      this.begin(round, ticket);
    });
    this.queued = ticket;
  }

  private begin(round: TierRound, place?: GateTicket): void {
    this.round = this.runRound(round, place).finally(() => {
      place?.leave();
      this.round = undefined;
      this.scrapes.due();
    });
  }

  private record(url: string): TrackerRecord {
    return this.trackers.find((tracker) => tracker.url === url)!;
  }

  /** One round: the trackers in BEP 12 order, less those in back-off, until one answers; the first with `place` at the gate. */
  private async runRound(round: TierRound, place?: GateTicket): Promise<void> {
    let last: { url: string; error: string } | undefined;
    for (let position: TrackerPosition | undefined = round.current; position; position = round.failed(this.clock.now())) {
      const tracker = this.record(position.url);
      const outcome = await this.tryTracker(tracker, round.silentAt, place);
      place = undefined;
      if (this.stopping) return;
      if ('result' in outcome) {
        round.succeeded();
        return this.roundSucceeded(tracker, outcome);
      }
      last = { url: tracker.url, error: outcome.error };
    }
    if (!last) return;
    this.failures++;
    const size = this.tiers.size;
    this.lastError =
      round.tried < size
        ? `${last.error} (${last.url}; ${round.tried} of ${size} trackers tried, the others in back-off after failing)`
        : size > 1
          ? `${last.error} (${last.url}, the last of ${size} trackers tried)`
          : last.error;
    this.state = 'failing';
    // Not before the trackers of this round are out of their back-off: the next round tries them all again.
    const failedAt = this.clock.now();
    const delay = Math.max(Math.min(this.retryBaseMs * 2 ** (this.failures - 1), this.retryMaxMs), (round.retryAt ?? failedAt) - failedAt);
    this.reportFailure({ url: last.url, reason: this.lastError, failures: this.failures, retryInMs: delay });
    this.schedule(delay);
  }

  private roundSucceeded(tracker: TrackerRecord, outcome: { result: AnnounceResult; completion: boolean }): void {
    const { result } = outcome;
    if (outcome.completion) this.completedPending = false;
    if (this.failures > 0) this.log(tracker.url, `announce works again after ${this.failures} failures`);
    this.failures = 0;
    this.lastError = undefined;
    this.state = 'ok';
    this.inUse = tracker.url;
    this.lastAnnounceAt = this.clock.now();
    this.intervalS = result.intervalS;
    this.peersReceived = result.peers.length;
    this.schedule(this.completedPending ? 0 : reannounceDelayMs(result.intervalS, this.minIntervalMs, this.settings.announceJitterFraction, this.random));
  }

  /**
   * Announces to one tracker (or joins its announce still in flight) and waits until it answers,
   * fails or stays silent: past `silentAt` (the round's count, from when it came to this tracker),
   * and in any case for `silentMs` after the request went out, since a wait at the gate is no silence.
   */
  private async tryTracker(tracker: TrackerRecord, silentAt: number, place?: GateTicket): Promise<Outcome> {
    const attempt = tracker.attempt ?? this.startAttempt(tracker, place);
    const sentAt = await Promise.race([attempt.sent, attempt.done]);
    if (typeof sentAt !== 'number') return sentAt;
    let cancel = (): void => undefined;
    const silence = new Promise<'silent'>((resolve) => {
      cancel = after(this.clock, Math.max(silentAt, sentAt + this.silentMs) - this.clock.now(), () => resolve('silent'));
    });
    const outcome = await Promise.race([attempt.done, silence]);
    cancel();
    if (outcome !== 'silent') return outcome;
    const error = `no answer within ${this.silentMs} ms (still trying)`;
    this.markError(tracker, error);
    return { error };
  }

  private markError(tracker: TrackerRecord, error: string): void {
    if (tracker.status !== 'error' && this.tiers.size > 1) this.log(tracker.url, `failed, trying the next tracker: ${error}`);
    tracker.status = 'error';
    tracker.error = error;
  }

  /**
   * One announce to one tracker, once the gate lets it out (at once with the round's `place`); its
   * event is chosen then, from what is true then. It may outlive the round that started it; a late
   * answer counts (its peers are used).
   */
  private startAttempt(tracker: TrackerRecord, place?: GateTicket): Attempt {
    const controller = new AbortController();
    tracker.status = 'updating';
    let wentOut!: (at: number) => void;
    const sent = new Promise<number>((resolve) => (wentOut = resolve));
    // In place before the announce begins: a call that fails at once clears it in its finally.
    const attempt = { controller, sent, out: false } as Attempt;
    tracker.attempt = attempt;
    attempt.done = (async (): Promise<Outcome> => {
      let result: AnnounceResult;
      let completion = false;
      let cancelHold = (): void => undefined;
      try {
        if ('error' in tracker.protocol) throw new AnnounceError(tracker.protocol.error, 'url');
        const protocol = tracker.protocol;
        let ticket: GateTicket;
        if (place) {
          ticket = place;
        } else {
          const wait = this.gate.wait(this.completedPending ? 'completed' : 'announce', controller.signal);
          ticket = wait.ticket;
          attempt.ticket = ticket;
          await wait.granted;
        }
        if (!ticket.holding) throw cancelledAtGate();
        completion = this.completedPending;
        const event = !tracker.registered ? 'started' : completion ? 'completed' : undefined;
        const announce = protocol.announce(this.params(event), { signal: controller.signal });
        attempt.ticket = ticket;
        attempt.out = true;
        wentOut(this.clock.now());
        cancelHold = after(this.clock, this.gateHoldMs, () => ticket.leave());
        result = await announce;
      } catch (err) {
        const error = reasonOf(err);
        if (!this.stopping) this.markError(tracker, error);
        return { error };
      } finally {
        cancelHold();
        attempt.ticket?.leave();
        if (tracker.attempt === attempt) tracker.attempt = undefined;
      }
      tracker.registered = true;
      if (this.stopping) return { result, completion };
      if (tracker.status === 'error' && this.tiers.size > 1) this.log(tracker.url, 'answers again');
      tracker.status = 'working';
      tracker.error = undefined;
      if (result.complete !== undefined) tracker.seeders = result.complete;
      if (result.incomplete !== undefined) tracker.leechers = result.incomplete;
      this.tiers.promote(tracker.url);
      if (result.warning !== undefined) this.log(tracker.url, `warning: ${result.warning}`);
      try {
        this.options.onPeers(result.peers);
      } catch (err) {
        this.log(tracker.url, `peer list handler failed: ${(err as Error).message}`);
      }
      return { result, completion };
    })();
    return attempt;
  }

  private async shutDown(): Promise<void> {
    this.queued?.leave();
    this.queued = undefined;
    this.cancelTimer?.();
    this.scrapes.stop();
    this.cancelTimer = undefined;
    this.nextAnnounceAt = undefined;
    const attempts: Promise<Outcome>[] = [];
    for (const tracker of this.trackers) {
      if (tracker.attempt) {
        // The tracker may have recorded the request we are cutting short, unless it never went
        // out (it waited at the gate) or the tracker has been failing (a silent UDP tracker):
        // that one would only hold up the stop.
        if (tracker.attempt.out && tracker.status !== 'error') tracker.registered = true;
        tracker.attempt.controller.abort();
        attempts.push(tracker.attempt.done);
      }
    }
    await Promise.all(attempts);
    await this.round;
    await Promise.all(
      this.trackers.filter((tracker) => tracker.registered && !('error' in tracker.protocol)).map((tracker) => this.sendStopped(tracker, tracker.protocol as TrackerProtocol)),
    );
    this.state = 'stopped';
  }

  /** event=stopped to one tracker, ahead of every other request at the gate; the wait there and the announce together within stopTimeoutMs. */
  private async sendStopped(tracker: TrackerRecord, protocol: TrackerProtocol): Promise<void> {
    const controller = new AbortController();
    const deadline = Date.now() + this.stopTimeoutMs;
    const { ticket, granted } = this.gate.wait('stopped', controller.signal);
    // A real timer, not the clock's, and one that keeps the process up: the program waits on this
    // stop before it saves and exits, so neither a fake clock nor an idle event loop may stall it.
    let timer: NodeJS.Timeout | undefined;
    // The protocol keeps to the deadline; the timer holds the stop to it whatever a protocol does.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = ticket.holding
          ? `no answer within ${this.stopTimeoutMs} ms`
          : `not sent within ${this.stopTimeoutMs} ms: all ${this.gate.maxInFlight} tracker requests allowed at once (maxConcurrentAnnounces) were out`;
        controller.abort();
        reject(new AnnounceError(reason, 'timeout'));
      }, this.stopTimeoutMs);
    });
    try {
      const announce = granted.then(() => {
        if (!ticket.holding) throw cancelledAtGate();
        return protocol.announce(this.params('stopped'), { signal: controller.signal, deadlineMs: Math.max(1, deadline - Date.now()) });
      });
      announce.catch(() => undefined); // Once `late` has won, its end is nobody's business.
      await Promise.race([announce, late]);
    } catch (err) {
      this.log(tracker.url, `event=stopped not delivered: ${reasonOf(err)}`);
    } finally {
      clearTimeout(timer);
      ticket.leave();
    }
  }
}
