/**
 * Trackers in memory for the announce client's tests on a fake clock: each records the announces
 * it gets (in one log shared by all, in the order they went out), answers at once or holds them
 * until the test answers, and counts how many are out at once.
 */
import { Announcer, type AnnouncerOptions } from '../../src/main/tracker/announce-client.js';
import { AnnounceError, type AnnounceParams, type AnnounceResult, type TrackerProtocol } from '../../src/main/tracker/tracker-protocol.js';
import type { FakeClock } from './fake-clock.js';

export interface Sent {
  tracker: string;
  /** The first byte of the info hash: which announcer sent it. */
  swarm: number;
  event: string;
  at: number;
}

/** What every tracker of a test shares: the log of announces and the count of those out. */
export class TrackerLog {
  readonly sent: Sent[] = [];
  out = 0;
  mostOut = 0;

  constructor(readonly clock: FakeClock) {}

  eventsOf(tracker: string): string[] {
    return this.sent.filter((s) => s.tracker === tracker).map((s) => s.event);
  }
}

export class HeldTracker implements TrackerProtocol {
  /** 'answer': at once; 'hold': when the test calls answerAll. event=stopped is always answered at once. */
  behaviour: 'answer' | 'hold' = 'answer';
  intervalS = 1800;
  private readonly held: (() => void)[] = [];

  constructor(
    readonly url: string,
    private readonly log: TrackerLog,
  ) {}

  announce(params: AnnounceParams, options: { signal?: AbortSignal } = {}): Promise<AnnounceResult> {
    const { log } = this;
    log.sent.push({ tracker: this.url, swarm: params.infoHash[0], event: params.event ?? '', at: log.clock.now() });
    log.mostOut = Math.max(log.mostOut, ++log.out);
    const answer: AnnounceResult = { intervalS: this.intervalS, peers: [] };
    if (options.signal?.aborted) {
      log.out--;
      return Promise.reject(new AnnounceError('announce cancelled', 'aborted'));
    }
    if (this.behaviour === 'answer' || params.event === 'stopped') {
      log.out--;
      return Promise.resolve(answer);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        log.out--;
        finish();
      };
      this.held.push(() => settle(() => resolve(answer)));
      options.signal?.addEventListener('abort', () => settle(() => reject(new AnnounceError('announce cancelled', 'aborted'))));
    });
  }

  /** Answers every announce held so far. */
  answerAll(): void {
    for (const answer of this.held.splice(0)) answer();
  }
}

/** Lets every promise callback that is ready run (the announcer's steps between two clock moves). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An announcer of swarm number `swarm` (its info hash's first byte) on the test's clock, with its trackers. */
export function announcerOf(swarm: number, trackers: HeldTracker[], log: TrackerLog, extra: Partial<AnnouncerOptions> = {}): Announcer {
  const byUrl = new Map(trackers.map((t) => [t.url, t]));
  return new Announcer({
    tiers: trackers.map((t) => [t.url]),
    protocolFor: (url) => byUrl.get(url)!,
    clock: log.clock,
    random: () => 0,
    infoHash: Buffer.alloc(20, swarm),
    peerId: Buffer.alloc(20, 0xee),
    port: 6999,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
    onPeers: () => undefined,
    ...extra,
  });
}
