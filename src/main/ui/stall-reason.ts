/**
 * Why a swarm is stuck, in a few words, from its /status entry alone: what the dashboard's
 * summary line of a swarm says when nothing moves. Self-contained (no imports, no outside
 * constants), like units.ts: the dashboard page embeds its source text in its script.
 */
import type { SwarmStatus } from '../swarm/swarm-status.js';

/** The part of a swarm's status the reason is read from. */
export type StallStatus = Pick<SwarmStatus, 'role' | 'announcer' | 'left' | 'downloadRate' | 'peers' | 'known' | 'banned' | 'tracker'>;

/** Why the swarm is stuck, or '' when it is not (downloading, or a seeder that can be found). */
export function stallReason(swarm: StallStatus): string {
  const tracker = swarm.tracker;
  const trackerFailing = tracker !== undefined && tracker.state === 'failing';
  const trackerWhy = trackerFailing
    ? 'the tracker failed' + (tracker.failures > 1 ? ' ' + tracker.failures + ' times' : '') + (tracker.lastError ? ': ' + tracker.lastError : '')
    : '';
  const leeching = swarm.role !== 'seeder' && swarm.left > 0;
  if (swarm.peers.length > 0) {
    if (!leeching || swarm.downloadRate > 0) return '';
    const connected = swarm.peers.length === 1 ? '1 peer' : swarm.peers.length + ' peers';
    return 'nothing arriving: ' + connected + ' connected, none sending';
  }
  // No connection: a seeder waits for leechers, and is stuck only if they cannot find it.
  if (!leeching) return trackerFailing ? 'peers cannot find it: ' + trackerWhy : '';
  if (trackerFailing) return 'no peers: ' + trackerWhy;
  const banned = swarm.banned.length;
  if (swarm.known.length > 0) {
    const known = swarm.known.length === 1 ? '1 peer known' : swarm.known.length + ' peers known';
    return 'no peers: ' + known + ', none connected' + (banned > 0 ? ' (' + banned + ' banned for bad data)' : '');
  }
  if (swarm.announcer) return 'no peers: none has announced to this peer\'s tracker yet';
  if (tracker === undefined) return 'no peers: the torrent names no tracker';
  if (tracker.lastAnnounceAt === undefined) return 'no peers yet: waiting for the tracker\'s answer';
  return 'no peers: the tracker knows no other peer';
}
