/**
 * The peer lists of our tracker, per served swarm. Pure: every call takes the time, so expiry is
 * tested with a fake clock. Peers are keyed by ip and port, never by peer id alone, because
 * several peers may run on one machine and a restarted peer comes back with a new id.
 */
import { defaultSettings, type Settings } from '../../io/settings.js';
import type { AnnounceRequest, TrackerFailure } from './tracker-query.js';

/** The peer running this tracker lists itself in every swarm it takes part in. */
export interface ServedSwarm {
  selfPort: number;
  selfComplete: boolean;
}

export interface PeerEntry {
  ip: string;
  port: number;
  /** Unknown for ourselves when the registry was not told our id. */
  peerId?: Buffer;
}

export interface TrackedPeer {
  ip: string;
  port: number;
  peerId: Buffer;
  seeder: boolean;
  lastSeen: number;
}

export interface AnnounceReply {
  intervalS: number;
  minIntervalS: number;
  complete: number;
  incomplete: number;
  peers: PeerEntry[];
}

export interface ScrapeFile {
  infoHash: Buffer;
  complete: number;
  /** Completed downloads reported with event=completed since this tracker started. */
  downloaded: number;
  incomplete: number;
}

export interface ScrapeReply {
  files: ScrapeFile[];
}

export interface TrackerRegistryOptions {
  served: (infoHashHex: string) => ServedSwarm | null;
  /**
   * Every swarm we serve (hex info hashes), for a scrape that names none. Without it such a
   * scrape lists the served swarms someone has announced to.
   */
  allServed?: () => Iterable<string>;
  /** Our peer id, so that the dictionary model can list us with one. */
  selfPeerId?: Buffer;
  /** The peer's settings (trackerIntervalS, trackerMinIntervalS, trackerExpiryIntervals) where the options below name none. */
  settings?: Pick<Settings, 'trackerIntervalS' | 'trackerMinIntervalS' | 'trackerExpiryIntervals'>;
  intervalS?: number;
  minIntervalS?: number;
  expiryIntervals?: number;
  /** Called when an address joins a swarm's list (not when a known one refreshes). */
  onNewPeer?: (infoHashHex: string, ip: string, port: number) => void;
}

interface SwarmPeers {
  peers: Map<string, TrackedPeer>;
  downloaded: number;
}

function addressKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export class TrackerRegistry {
  private readonly swarms = new Map<string, SwarmPeers>();
  private readonly intervalS: number;
  private readonly minIntervalS: number;
  private readonly expiryMs: number;

  constructor(private readonly options: TrackerRegistryOptions) {
    const settings = options.settings ?? defaultSettings;
    this.intervalS = options.intervalS ?? settings.trackerIntervalS;
    this.minIntervalS = options.minIntervalS ?? settings.trackerMinIntervalS;
    this.expiryMs = (options.expiryIntervals ?? settings.trackerExpiryIntervals) * this.intervalS * 1000;
  }

  announce(req: AnnounceRequest, selfIp: string, now: number): AnnounceReply | TrackerFailure {
    const hex = req.infoHash.toString('hex');
    const served = this.options.served(hex);
    if (!served) {
      this.swarms.delete(hex);
      return { failure: 'torrent not served by this peer' };
    }
    const swarm = this.liveSwarm(hex, now);
    const key = addressKey(req.ip, req.port);
    const isSelf = req.ip === selfIp && req.port === served.selfPort;

    if (req.event === 'stopped') {
      swarm.peers.delete(key);
    } else if (!isSelf) {
      const known = swarm.peers.get(key);
      const seeder = req.left === 0 || req.event === 'completed';
      if (req.event === 'completed' && !known?.seeder) swarm.downloaded++;
      swarm.peers.set(key, { ip: req.ip, port: req.port, peerId: req.peerId, seeder, lastSeen: now });
      if (!known) this.options.onNewPeer?.(hex, req.ip, req.port);
    }

    const { complete, incomplete } = this.counts(swarm, served);
    const reply: AnnounceReply = {
      intervalS: this.intervalS,
      minIntervalS: this.minIntervalS,
      complete,
      incomplete,
      peers: [],
    };
    // A leaving peer has no use for a list.
    if (req.event === 'stopped' || req.numwant === 0) return reply;

    const candidates: PeerEntry[] = [];
    if (!isSelf) candidates.push({ ip: selfIp, port: served.selfPort, peerId: this.options.selfPeerId });
    const selfKey = addressKey(selfIp, served.selfPort);
    for (const [peerKey, peer] of swarm.peers) {
      if (peerKey === key || peerKey === selfKey) continue;
      candidates.push({ ip: peer.ip, port: peer.port, peerId: peer.peerId });
    }
    reply.peers = shuffle(candidates).slice(0, req.numwant);
    return reply;
  }

  scrape(infoHashes: readonly Buffer[], now: number): ScrapeReply {
    const wanted =
      infoHashes.length > 0
        ? infoHashes.map((h) => h.toString('hex'))
        : [...(this.options.allServed?.() ?? this.swarms.keys())];
    const files: ScrapeFile[] = [];
    for (const hex of new Set(wanted)) {
      const served = this.options.served(hex);
      if (!served) {
        this.swarms.delete(hex);
        continue;
      }
      const swarm = this.liveSwarm(hex, now);
      files.push({ infoHash: Buffer.from(hex, 'hex'), downloaded: swarm.downloaded, ...this.counts(swarm, served) });
    }
    return { files };
  }

  /** The peers that announced to us and have not expired; ourselves not included. */
  peers(infoHashHex: string, now: number): TrackedPeer[] {
    if (!this.swarms.has(infoHashHex)) return [];
    return [...this.liveSwarm(infoHashHex, now).peers.values()];
  }

  /** The swarm's entry with peers past their expiry dropped; created when missing. */
  private liveSwarm(hex: string, now: number): SwarmPeers {
    let swarm = this.swarms.get(hex);
    if (!swarm) {
      swarm = { peers: new Map(), downloaded: 0 };
      this.swarms.set(hex, swarm);
    }
    for (const [key, peer] of swarm.peers) {
      if (now - peer.lastSeen >= this.expiryMs) swarm.peers.delete(key);
    }
    return swarm;
  }

  private counts(swarm: SwarmPeers, served: ServedSwarm): { complete: number; incomplete: number } {
    let complete = served.selfComplete ? 1 : 0;
    let incomplete = served.selfComplete ? 0 : 1;
    for (const peer of swarm.peers.values()) {
      if (peer.seeder) complete++;
      else incomplete++;
    }
    return { complete, incomplete };
  }
}
