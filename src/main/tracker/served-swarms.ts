/**
 * Our tracker over the session's swarms (docs/architecture.md, Tracker services): it serves every
 * torrent joined, lists this peer in its replies (complete when it seeds), and hands each peer
 * that announces to the swarm of its torrent.
 */
import type { Settings } from '../../io/settings.js';
import type { PeerSource } from '../swarm/peer-list.js';
import { TrackerRegistry } from './tracker-registry.js';

/** What the tracker needs of a swarm. */
export interface TrackedSwarm {
  readonly role: string;
  learnPeers(peers: { ip: string; port: number }[], source: PeerSource): void;
}

export function trackerOfSwarms(
  swarms: ReadonlyMap<string, TrackedSwarm>,
  self: { port: number; peerId: Buffer },
  settings: Settings,
  announceIntervalS: number | undefined,
): TrackerRegistry {
  const intervalS = announceIntervalS ?? settings.trackerIntervalS;
  return new TrackerRegistry({
    served: (infoHashHex) => {
      const swarm = swarms.get(infoHashHex);
      return swarm ? { selfPort: self.port, selfComplete: swarm.role === 'seeder' } : null;
    },
    allServed: () => swarms.keys(),
    selfPeerId: self.peerId,
    settings,
    intervalS,
    minIntervalS: Math.min(settings.trackerMinIntervalS, intervalS),
    onNewPeer: (infoHashHex, ip, port) => swarms.get(infoHashHex)?.learnPeers([{ ip, port }], 'tracker'),
  });
}
