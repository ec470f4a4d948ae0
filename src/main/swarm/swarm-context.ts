/**
 * What a swarm runs with: what the session shares among its swarms (settings, clock, dialler,
 * connection and rate limits, block buffers, read cache), and the swarm's own options.
 */
import type { FilePriority } from '../../io/control-state.js';
import type { ReadCache } from '../../io/read-cache.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { ConnectionBudget } from '../net/connection-budget.js';
import type { Dialler } from '../net/dialler.js';
import type { FairLimiter } from '../net/fair-limiter.js';
import type { EncryptionPolicy } from '../net/mse/encryption-policy.js';
import type { DhtSwarm } from '../dht/dht-swarms.js';
import type { PeerAddress } from '../tracker/announce-client.js';
import type { AnnounceGate } from '../tracker/announce-gate.js';
import type { ScrapeBatches } from '../tracker/scrape-batches.js';
import type { UdpTransport } from '../tracker/udp-tracker-client.js';
import type { Housekeeping } from './housekeeping.js';
import type { SaveSlots } from './resume-saver.js';
import type { SlabShares } from './slab-shares.js';
import type { Swarm } from './swarm.js';

/** What a swarm needs from the session that holds it. */
export interface SwarmContext {
  settings: Settings;
  clock: Clock;
  /** The session's one timer for every swarm's periodic housekeeping: a swarm joins it on start and leaves on stop. */
  housekeeping: Housekeeping;
  /** Opens outgoing connections (tcpDialler, or a test's). */
  dial: Dialler;
  /** --encryption: whether outgoing connections try MSE first, and fall back to plain. */
  encryption: EncryptionPolicy;
  peerId: Buffer;
  port: number;
  log: Logger;
  /** Whether ip:port is this very peer (one of our addresses, our port). */
  isSelf(ip: string, port: number): boolean;
  /** Whether a tracker URL names this very peer (session.ts, isAnnouncer): it is not announced to. */
  isSelfTracker(url: string): boolean;
  /**
   * The DHT (BEP 5) while it runs, null with --no-dht: a swarm that is not private is announced
   * and looked up through it (add), and its peers' DHT nodes (PORT messages) join it (addNode).
   */
  dht: { add(swarm: DhtSwarm): () => void; addNode(host: string, port: number): void } | null;
  /** Local service discovery (BEP 14) while it runs, null with --no-lsd: a swarm that is not private is announced on the LAN. */
  lsd: { add(infoHashHex: string, learnPeers: (peers: PeerAddress[]) => void): () => void } | null;
  /** The peer's UDP port, for udp:// trackers (BEP 15); null when it has none. */
  udp: UdpTransport | null;
  /** Requests to outside trackers out at once, every swarm together (settings.maxConcurrentAnnounces). */
  announceGate: AnnounceGate;
  /** Scrapes of the swarms of one tracker together, through the announce gate (settings.maxInfoHashesPerScrape). */
  scrapeBatches: ScrapeBatches;
  /** Whether one more connection of a swarm that has `swarmConnections` fits the session-wide limit. */
  hasConnectionRoom(swarmConnections: number): boolean;
  /** Peer-wire connections of the whole session (settings.maxConnections): outgoing ones are claimed as they are dialled. */
  connections: ConnectionBudget;
  /** Shared by every swarm: --upload-limit and --download-limit. */
  uploadLimiter: FairLimiter;
  downloadLimiter: FairLimiter;
  /** Each swarm's fair share of the block buffers for pieces being downloaded: pieces are allocated through it. */
  slabShares: SlabShares;
  /** Pieces read for uploading. */
  readCache: ReadCache;
  /** Resume saves under way at once, all swarms together (settings.maxConcurrentResumeSaves). */
  resumeSaves: SaveSlots;
  /** Whether the previous run of this peer stopped cleanly (run-marker.ts): only then is fast resume allowed. */
  previousRunClean: boolean;
  /** Called once when the swarm's data becomes complete. */
  onComplete(swarm: Swarm): void;
}

export interface SwarmOptions {
  /** Whether this peer is the torrent's announce address: it serves the tracker and does not announce. */
  announcer: boolean;
  /** Paused (control API): the data is checked and shown, and the swarm stops at once, joining nobody. */
  paused?: boolean;
  /** Each file's priority (pad files aside), all normal when absent; and sequential order (control API). */
  priorities?: readonly FilePriority[];
  sequential?: boolean;
}
