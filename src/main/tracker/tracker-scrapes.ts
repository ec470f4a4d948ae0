/**
 * The scrapes (BEP 48, BEP 15) an Announcer makes now and then, so that /status shows each
 * tracker's counts between its announces: every `intervalMs`, and when the Announcer asks (after
 * each round), each tracker whose counts are older than that. Each is an ask of the session's
 * scrape batches (scrape-batches.ts), which scrape the torrents of one tracker together, through
 * the session's gate, behind every announce waiting there.
 */
import type { Clock } from '../clock.js';
import { isScrapable, type ScrapeAsk, type ScrapeBatches } from './scrape-batches.js';
import type { TrackerRecord } from './tracker-records.js';

export class TrackerScrapes {
  private cancelTimer?: () => void;
  private active = false;

  /** `intervalMs`: time between scrapes of each tracker, none when 0. */
  constructor(
    private readonly trackers: readonly TrackerRecord[],
    private readonly infoHash: Buffer,
    private readonly intervalMs: number,
    private readonly batches: ScrapeBatches,
    private readonly clock: Clock,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.active = true;
    this.cancelTimer = this.clock.every(this.intervalMs, () => this.due());
  }

  /** Scrapes each tracker whose counts are older than intervalMs, none more than once at a time. */
  due(): void {
    if (!this.active) return;
    const now = this.clock.now();
    for (const tracker of this.trackers) {
      const protocol = tracker.protocol;
      if (tracker.self || tracker.scraping || 'error' in protocol || !isScrapable(protocol)) continue;
      if (tracker.scrapedAt !== undefined && now - tracker.scrapedAt < this.intervalMs) continue;
      tracker.scrapedAt = now;
      const ask: ScrapeAsk = this.batches.ask(protocol, this.infoHash, (counts) => {
        // No counts: the tracker could not be scraped or did not list us; it still announces, and its counts stay as they were.
        if (counts) {
          tracker.seeders = counts.seeders;
          tracker.leechers = counts.leechers;
          tracker.completed = counts.completed;
        }
        if (tracker.scraping === ask) tracker.scraping = undefined;
      });
      tracker.scraping = ask;
    }
  }

  /** No more scrapes; those waiting or out are cancelled. */
  stop(): void {
    this.active = false;
    this.cancelTimer?.();
    for (const tracker of this.trackers) {
      tracker.scraping?.cancel();
      tracker.scraping = undefined;
    }
  }
}
