/**
 * A swarm's announcer: the torrent's trackers as BEP 12 tiers, our own URL listed but never
 * announced to, over the session's UDP port for udp:// trackers, through the session's announce
 * gate (every swarm's requests to trackers share it), scraped with the other swarms of each
 * tracker (the session's scrape batches). Shared by a torrent's swarm and a magnet's,
 * which differ only in what they report.
 */
import type { Logger } from '../logger.js';
import { Announcer, type AnnounceFailure, type AnnounceStats, type PeerAddress } from '../tracker/announce-client.js';
import type { SwarmContext } from './swarm-context.js';

export interface SwarmAnnouncerSetup {
  tiers: readonly (readonly string[])[];
  infoHash: Buffer;
  stats: () => AnnounceStats;
  onPeers: (peers: PeerAddress[]) => void;
  log: Logger;
  /** Failed rounds as the swarm's events; without it they are logged as lines. */
  onFailure?: (failure: AnnounceFailure) => void;
  /** Whether the trackers are scraped for their counts (settings.trackerScrapeIntervalMs). */
  scrape: boolean;
}

/** The started announcer, or null when the torrent names no tracker. */
export function startAnnouncer(context: SwarmContext, setup: SwarmAnnouncerSetup): Announcer | null {
  if (setup.tiers.length === 0) return null;
  const { settings } = context;
  const announcer = new Announcer({
    tiers: setup.tiers,
    isSelf: (url) => context.isSelfTracker(url),
    udp: context.udp,
    gate: context.announceGate,
    scrapeBatches: context.scrapeBatches,
    clock: context.clock,
    scrapeIntervalMs: setup.scrape ? settings.trackerScrapeIntervalMs : 0,
    infoHash: setup.infoHash,
    peerId: context.peerId,
    port: context.port,
    settings,
    stats: setup.stats,
    onPeers: setup.onPeers,
    log: (line) => setup.log.info(line),
    onFailure: setup.onFailure,
  });
  announcer.start();
  return announcer;
}
