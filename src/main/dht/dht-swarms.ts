/**
 * When the DHT is asked about each swarm (DESIGN.md, Discovery beyond the tracker): every swarm
 * handed here (never a private one: the swarm does not come) is announced at once and every
 * dhtAnnounceIntervalMs (announce_peer after a get_peers); while it wants peers it is also
 * looked up every dhtLookupIntervalMs, and sooner after a search that found nobody or failed
 * (dhtLookupRetryBaseMs, doubling). At most dhtMaxConcurrentLookups searches run at once, and
 * none while the routing table is empty: they wait for the bootstrap. Peers found go to the
 * swarm like a tracker's. The time comes from the clock, so tests run it on a fake one.
 */
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { PeerAddress } from '../tracker/announce-client.js';

export type DhtSwarmsSettings = Pick<Settings, 'dhtAnnounceIntervalMs' | 'dhtLookupIntervalMs' | 'dhtLookupRetryBaseMs' | 'dhtMaxConcurrentLookups'>;

/** What the scheduler needs of the DHT node (dht-node.ts); tests give a fake. */
export interface DhtSearches {
  readonly nodes: number;
  lookup(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<unknown>;
  announce(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<unknown>;
}

/** A swarm as the DHT sees it. */
export interface DhtSwarm {
  readonly infoHash: Buffer;
  /** Whether it wants more peers now: a leecher, or a magnet link still fetching its metadata. */
  wantsPeers(): boolean;
  /** Whether ip:port is this very peer, which the DHT returns among the peers of our own swarms. */
  isSelf(ip: string, port: number): boolean;
  learnPeers(peers: readonly PeerAddress[]): void;
}

interface Entry {
  swarm: DhtSwarm;
  nextAnnounceAt: number;
  nextLookupAt: number;
  retryMs: number;
  busy: boolean;
  removed: boolean;
}

/** How often due searches are looked for. */
const TICK_MS = 1_000;

export class DhtSwarms {
  private readonly entries = new Set<Entry>();
  private running = 0;
  private readonly stopTicking: () => void;

  constructor(
    private readonly searches: DhtSearches,
    private readonly settings: DhtSwarmsSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.stopTicking = clock.every(TICK_MS, () => this.tick());
  }

  /** Starts announcing and looking up `swarm`; the returned function stops it (a search under way is ignored). */
  add(swarm: DhtSwarm): () => void {
    const entry: Entry = { swarm, nextAnnounceAt: this.clock.now(), nextLookupAt: Infinity, retryMs: this.settings.dhtLookupRetryBaseMs, busy: false, removed: false };
    this.entries.add(entry);
    this.tick();
    return () => {
      entry.removed = true;
      this.entries.delete(entry);
    };
  }

  /** Swarms being announced. */
  get size(): number {
    return this.entries.size;
  }

  private tick(): void {
    if (this.searches.nodes === 0) return;
    const now = this.clock.now();
    for (const entry of this.entries) {
      if (this.running >= this.settings.dhtMaxConcurrentLookups) return;
      if (entry.busy) continue;
      if (now >= entry.nextAnnounceAt) this.run(entry, 'announce');
      else if (now >= entry.nextLookupAt && entry.swarm.wantsPeers()) this.run(entry, 'lookup');
    }
  }

  private run(entry: Entry, kind: 'announce' | 'lookup'): void {
    entry.busy = true;
    this.running++;
    // Re-inserted last: swarms waiting behind this one go first at the next free slot.
    this.entries.delete(entry);
    this.entries.add(entry);
    const infoHash = entry.swarm.infoHash;
    // Others only: finding nobody but ourselves is finding nobody, and the search is repeated soon.
    let found = 0;
    const onPeers = (peers: PeerAddress[]): void => {
      const others = peers.filter(({ ip, port }) => !entry.swarm.isSelf(ip, port));
      found += others.length;
      if (!entry.removed && others.length > 0) entry.swarm.learnPeers(others);
    };
    this.searches[kind](infoHash, onPeers).then(
      () => this.finished(entry, kind, found, null),
      (error: Error) => this.finished(entry, kind, found, error),
    );
  }

  private finished(entry: Entry, kind: 'announce' | 'lookup', found: number, error: Error | null): void {
    this.running--;
    entry.busy = false;
    if (entry.removed) return;
    const now = this.clock.now();
    const name = entry.swarm.infoHash.toString('hex');
    if (error) this.log.debug(`DHT ${kind} of ${name} failed: ${error.message}`);
    else this.log.debug(`DHT ${kind} of ${name}: ${found} peer(s)`);
    const { dhtAnnounceIntervalMs, dhtLookupIntervalMs, dhtLookupRetryBaseMs } = this.settings;
    if (kind === 'announce') entry.nextAnnounceAt = now + (error ? entry.retryMs : dhtAnnounceIntervalMs);
    if (found > 0) {
      entry.retryMs = dhtLookupRetryBaseMs;
      entry.nextLookupAt = now + dhtLookupIntervalMs;
    } else {
      entry.nextLookupAt = now + entry.retryMs;
      entry.retryMs = Math.min(2 * entry.retryMs, dhtLookupIntervalMs);
    }
  }

  stop(): void {
    this.stopTicking();
    for (const entry of this.entries) entry.removed = true;
    this.entries.clear();
  }
}
