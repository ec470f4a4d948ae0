/**
 * The scrapes (BEP 48, BEP 15) an Announcer makes now and then, so that /status shows each
 * tracker's counts between its announces: every `intervalMs`, and when the Announcer asks (after
 * each round), each tracker whose counts are older than that. Each goes out through the session's
 * gate (announce-gate.ts), behind every announce waiting there.
 */
import type { AnnounceGate } from './announce-gate.js';
import type { TrackerProtocol } from './tracker-protocol.js';
import type { Scraping, TrackerRecord } from './tracker-records.js';

export class TrackerScrapes {
  private timer?: NodeJS.Timeout;
  private active = false;

  /** `intervalMs`: time between scrapes of each tracker, none when 0; `deadlineMs` bounds one scrape. */
  constructor(
    private readonly trackers: readonly TrackerRecord[],
    private readonly infoHash: Buffer,
    private readonly intervalMs: number,
    private readonly deadlineMs: number,
    private readonly gate: AnnounceGate,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.active = true;
    this.timer = setInterval(() => this.due(), this.intervalMs);
    this.timer.unref();
  }

  /** Scrapes each tracker whose counts are older than intervalMs, none more than once at a time. */
  due(): void {
    if (!this.active) return;
    const now = Date.now();
    for (const tracker of this.trackers) {
      if (tracker.self || tracker.scraping || 'error' in tracker.protocol || !tracker.protocol.scrape) continue;
      if (tracker.scrapedAt !== undefined && now - tracker.scrapedAt < this.intervalMs) continue;
      tracker.scrapedAt = now;
      const protocol = tracker.protocol;
      const scraping: Scraping = { ticket: this.gate.enter('scrape', () => this.send(tracker, protocol, scraping)) };
      tracker.scraping = scraping;
    }
  }

  private send(tracker: TrackerRecord, protocol: TrackerProtocol, scraping: Scraping): void {
    const controller = (scraping.controller = new AbortController());
    protocol
      .scrape!(this.infoHash, { signal: controller.signal, deadlineMs: this.deadlineMs })
      .then(
        (counts) => {
          tracker.seeders = counts.seeders;
          tracker.leechers = counts.leechers;
          tracker.completed = counts.completed;
        },
        () => undefined, // A tracker that cannot be scraped still announces; its counts stay as they were.
      )
      .finally(() => {
        scraping.ticket.leave();
        if (tracker.scraping === scraping) tracker.scraping = undefined;
      });
  }

  /** No more scrapes; those waiting leave the gate, those in flight are cut short. */
  stop(): void {
    this.active = false;
    clearInterval(this.timer);
    for (const tracker of this.trackers) {
      tracker.scraping?.ticket.leave();
      tracker.scraping?.controller?.abort();
    }
  }
}
