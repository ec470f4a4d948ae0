/**
 * The status document (`GET /status`, docs/architecture.md, Status document): what a peer shows
 * of itself and of each swarm. Fields may be added, never renamed.
 */
import type { SwarmStatus } from './swarm/swarm-status.js';
import type { SkippedTorrent } from './torrent-folder.js';

export interface StatusDocument {
  peerId: string;
  /** The address other peers reach this one at (--host, else the interface towards the announce host). */
  host: string;
  port: number;
  workers: number;
  eventLoopDelayP99Ms: number;
  /**
   * Open connections: `peers` the peer-wire ones (at most settings.maxConnections), `pending`
   * incoming ones not yet identified, `http` tracker and status requests.
   */
  connections: { peers: number; pending: number; http: number };
  swarms: SwarmStatus[];
  /** The .torrent files in torrents/ that were not joined, each with why (torrent-folder.ts). */
  skipped: SkippedTorrent[];
  /** The DHT (BEP 5): whether it runs (--no-dht), and the nodes in its routing table. */
  dht: { enabled: boolean; nodes: number };
}
