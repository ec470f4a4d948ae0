/**
 * Scrapes of many torrents in one request ("multiscrape", as Transmission sends them): every
 * swarm of the session asks here for the counts of (tracker URL, info hash), and the asks of one
 * URL go out together, up to `maxInfoHashes` in a request (BEP 48: `info_hash` repeated in one
 * GET; BEP 15: the hashes in one packet). A peer of ten thousand torrents on one tracker then
 * scrapes them in some 160 requests, not ten thousand.
 *
 * The asks of one URL wait together: first `gatherMs` for others to join (swarms whose scrapes
 * fall due within it share a request even when the gate has room), then for one place at the
 * session's gate (announce-gate.ts, the scrape lane, behind every announce). When the place comes,
 * the first `maxInfoHashes` go out in one scrape and the others at once ask for the next place.
 * Each ask is answered once with its torrent's counts, or with none when the reply does not list
 * it or the request failed: a tracker that cannot be scraped still announces.
 */
import { after, type Clock } from '../clock.js';
import type { AnnounceGate, GateTicket } from './announce-gate.js';
import type { ScrapeCounts, TrackerProtocol } from './tracker-protocol.js';

/** A tracker that can be scraped. */
export type ScrapableTracker = TrackerProtocol & Required<Pick<TrackerProtocol, 'scrape'>>;

export function isScrapable(protocol: TrackerProtocol): protocol is ScrapableTracker {
  return protocol.scrape !== undefined;
}

/** An ask's answer: its torrent's counts, or undefined when the tracker gave none. */
export type ScrapeAnswer = (counts: ScrapeCounts | undefined) => void;

/** One swarm's ask, until it is answered or cancelled. */
export interface ScrapeAsk {
  /** The swarm no longer wants the counts: its ask leaves its batch, and a request out for nobody else is aborted. Any number of calls. */
  cancel(): void;
}

export interface ScrapeBatchOptions {
  /** Most info hashes in one request (settings.maxInfoHashesPerScrape), and fewer where the protocol says so. */
  maxInfoHashes: number;
  /** Bound on one request, retransmissions included (settings.trackerSilentMs). */
  deadlineMs: number;
  /** How long a URL's first ask waits for others before it asks the gate for a place (settings.scrapeGatherMs); 0: at once. */
  gatherMs: number;
}

/** The asks of one tracker URL not yet sent, and what they wait for. */
interface Waiting {
  /** The first ask's protocol: every swarm's for one URL speaks to the same tracker. */
  tracker: ScrapableTracker;
  asks: Set<Ask>;
  /** Cancels the gathering while it lasts. */
  gathering?: () => void;
  ticket?: GateTicket;
}

/** Asks sent together: aborted once none of them wants the answer. */
interface Batch {
  wanted: number;
  controller: AbortController;
}

class Ask implements ScrapeAsk {
  /** Where it is: waiting with the others of its URL, out in a batch, or answered or cancelled. */
  place: Waiting | Batch | 'done';

  constructor(
    private readonly batches: ScrapeBatches,
    waiting: Waiting,
    readonly infoHash: Buffer,
    private readonly answer: ScrapeAnswer,
  ) {
    this.place = waiting;
  }

  cancel(): void {
    this.batches.cancel(this);
  }

  /** Answers the ask, unless it was cancelled meanwhile. */
  settle(counts: ScrapeCounts | undefined): void {
    if (this.place === 'done') return;
    this.place = 'done';
    this.answer(counts);
  }
}

export class ScrapeBatches {
  /** Asks not yet sent, by tracker URL. */
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly gate: AnnounceGate,
    private readonly clock: Clock,
    private readonly options: ScrapeBatchOptions,
  ) {
    if (!(options.maxInfoHashes >= 1)) throw new RangeError(`maxInfoHashesPerScrape must allow at least one info hash in a scrape, not ${options.maxInfoHashes}`);
  }

  /** Asks not yet sent, every tracker together. */
  get queued(): number {
    let count = 0;
    for (const waiting of this.waiting.values()) count += waiting.asks.size;
    return count;
  }

  /**
   * Asks `tracker` for the counts of `infoHash`, together with the other asks of its URL:
   * `answer` is called once, later (never inside ask), unless the ask is cancelled first.
   */
  ask(tracker: ScrapableTracker, infoHash: Buffer, answer: ScrapeAnswer): ScrapeAsk {
    let waiting = this.waiting.get(tracker.url);
    if (!waiting) {
      waiting = { tracker, asks: new Set() };
      this.waiting.set(tracker.url, waiting);
      this.gather(waiting);
    }
    const ask = new Ask(this, waiting, infoHash, answer);
    waiting.asks.add(ask);
    return ask;
  }

  /** For Ask.cancel. */
  cancel(ask: Ask): void {
    const place = ask.place;
    if (place === 'done') return;
    ask.place = 'done';
    if ('asks' in place) {
      place.asks.delete(ask);
      if (place.asks.size > 0) return;
      place.gathering?.();
      place.ticket?.leave();
      this.waiting.delete(place.tracker.url);
    } else if (--place.wanted === 0) {
      place.controller.abort();
    }
  }

  private gather(waiting: Waiting): void {
    if (this.options.gatherMs <= 0) return this.enterGate(waiting);
    waiting.gathering = after(this.clock, this.options.gatherMs, () => {
      waiting.gathering = undefined;
      this.enterGate(waiting);
    });
  }

  private enterGate(waiting: Waiting): void {
    const ticket = this.gate.enter('scrape', () => this.send(waiting, ticket));
    waiting.ticket = ticket;
  }

  /** The gate let `waiting` out: its first asks go in one request, the others wait for the next place. */
  private send(waiting: Waiting, ticket: GateTicket): void {
    const { tracker } = waiting;
    const bound = Math.min(this.options.maxInfoHashes, tracker.maxScrapeInfoHashes ?? Infinity);
    const batch: Batch = { wanted: 0, controller: new AbortController() };
    const asks: Ask[] = [];
    for (const ask of waiting.asks) {
      if (asks.length >= bound) break;
      waiting.asks.delete(ask);
      ask.place = batch;
      asks.push(ask);
    }
    batch.wanted = asks.length;
    if (waiting.asks.size > 0) this.enterGate(waiting);
    else this.waiting.delete(tracker.url);
    tracker
      .scrape(
        asks.map((ask) => ask.infoHash),
        { signal: batch.controller.signal, deadlineMs: this.options.deadlineMs },
      )
      .then(
        (counts) => asks.forEach((ask, i) => ask.settle(counts[i])),
        () => asks.forEach((ask) => ask.settle(undefined)),
      )
      .finally(() => ticket.leave());
  }
}
