/**
 * Why a swarm is stuck, in a few words, from its /status entry alone (a storage error first): what the dashboard's
 * summary line of a swarm says when nothing moves. Self-contained (no imports, no outside
 * constants), like units.ts: the dashboard page embeds its source text in its script.
 *
 * The trackers are judged from the `trackers` list (every tracker of the torrent, BEP 12) when it
 * names one we announce to: they all failed when every one of them (this peer's own URL aside)
 * shows `error`, and the reason quotes the first error in the torrent's order. Without a list (a
 * status document of before it), from `tracker`, the announcing as a whole.
 */
import type { SwarmStatus } from '../swarm/swarm-status.js';

/** The part of a swarm's status the reason is read from (`trackers` may be missing from an older document). */
export type StallStatus = Pick<SwarmStatus, 'role' | 'announcer' | 'left' | 'downloadRate' | 'peers' | 'known' | 'banned' | 'tracker'> &
  Partial<Pick<SwarmStatus, 'trackers' | 'error' | 'paused'>>;

/** Why the swarm is stuck, or '' when it is not (downloading, or a seeder that can be found). */
export function stallReason(swarm: StallStatus): string {
  // Paused by its user: nothing moves, and nothing is wrong.
  if (swarm.paused) return '';
  // A storage error holds the swarm up whatever its peers do (it requests nothing until it is gone).
  if (swarm.error) return 'storage error (' + swarm.error.kind + '): ' + swarm.error.message + '; downloading paused until it is gone';
  const tracker = swarm.tracker;
  const others = (swarm.trackers || []).filter((t) => t.status !== 'self');
  const rounds = tracker !== undefined && tracker.failures > 1 ? tracker.failures : 0;
  let trackerWhy = '';
  if (others.length > 0) {
    if (others.every((t) => t.status === 'error')) {
      const firstError = others.find((t) => t.error)?.error;
      const failed = others.length === 1 ? 'the tracker failed' + (rounds ? ' ' + rounds + ' times' : '') : 'every tracker failed' + (rounds ? ', ' + rounds + ' rounds in a row' : '');
      trackerWhy = failed + (firstError ? ': ' + firstError : '');
    }
  } else if (tracker !== undefined && tracker.state === 'failing') {
    trackerWhy = 'the tracker failed' + (rounds ? ' ' + rounds + ' times' : '') + (tracker.lastError ? ': ' + tracker.lastError : '');
  }
  const trackerFailing = trackerWhy !== '';
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
