/**
 * Keep-alives and idle peers (BEP 3): we send a keep-alive after `keepAliveIntervalMs` of silence
 * on our side, and drop a peer that sent nothing for `idleTimeoutMs`. Pure: times are arguments.
 */
import { defaultSettings, type Settings } from '../../io/settings.js';

export type LivenessAction = 'drop' | 'keep-alive' | 'none';

export function livenessAction(
  lastReceivedAt: number,
  lastSentAt: number,
  now: number,
  limits: Pick<Settings, 'idleTimeoutMs' | 'keepAliveIntervalMs'> = defaultSettings,
): LivenessAction {
  if (now - lastReceivedAt >= limits.idleTimeoutMs) return 'drop';
  if (now - lastSentAt >= limits.keepAliveIntervalMs) return 'keep-alive';
  return 'none';
}

/** What tendLiveness needs of a connection: PeerConnection, or a plain object in tests. */
export interface LivePeer {
  readonly lastReceivedAt: number;
  readonly lastSentAt: number;
  send(message: { kind: 'keep-alive' }): void;
  close(reason: string): void;
}

/** A swarm's tick: a keep-alive to each peer that is due one, and the idle peers closed. */
export function tendLiveness(peers: Iterable<LivePeer>, now: number, limits: Pick<Settings, 'idleTimeoutMs' | 'keepAliveIntervalMs'> = defaultSettings): void {
  const idle: LivePeer[] = [];
  for (const peer of peers) {
    const action = livenessAction(peer.lastReceivedAt, peer.lastSentAt, now, limits);
    if (action === 'drop') idle.push(peer);
    else if (action === 'keep-alive') peer.send({ kind: 'keep-alive' });
  }
  // Closed after the loop: closing removes the peer from the set being walked.
  for (const peer of idle) peer.close(`nothing received for ${Math.round((now - peer.lastReceivedAt) / 1000)} s (idleTimeoutMs)`);
}
