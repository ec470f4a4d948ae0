/**
 * When to send `ut_pex` to one connected peer, and what. Pure: the caller passes the swarm's
 * peer list and the time, sends what comes back, and asks again when its list changes or when
 * `nextAllowedAt` comes (a change that had to wait, or entries beyond the per-message cap).
 */
import { pexPeerKey, type PexMessage, type PexPeer } from '../wire/ut-pex.js';

/**
 * Shortest gap between two ut_pex messages to a client that is not shoal. BEP 11 asks for at
 * most one a minute, and libtorrent disconnects a peer that sends more often.
 * Wanted in settings.ts as `pexIntervalMs`.
 */
export const PEX_INTERVAL_MS = 60_000;
/**
 * Shortest gap between two ut_pex messages to another shoal peer: changes go out at once and
 * those that follow within this window share one message.
 * Wanted in settings.ts as `pexShoalIntervalMs`.
 */
export const PEX_SHOAL_INTERVAL_MS = 1_000;
/**
 * Most entries in `added`, and in `dropped`, of one message, IPv4 and IPv6 together: the limit
 * clients agreed on for BEP 11. Wanted in settings.ts as `pexMaxPeersPerMessage`.
 */
export const PEX_MAX_PEERS_PER_MESSAGE = 50;

/** DESIGN.md: other shoal peers are those whose BEP 10 `v` starts with this. */
const SHOAL_CLIENT_PREFIX = 'shoal';

export function isShoalClient(v: string | undefined): boolean {
  return v !== undefined && v.startsWith(SHOAL_CLIENT_PREFIX);
}

/** A copy, so that later changes to the caller's objects do not alter what was sent. */
function addressOf(peer: PexPeer, flags: number | undefined): PexPeer {
  return flags === undefined ? { ip: peer.ip, port: peer.port } : { ip: peer.ip, port: peer.port, flags };
}

export interface PexSenderOptions {
  /** The recipient is another shoal peer (see isShoalClient), which may be told quickly. */
  shoalPeer: boolean;
}

export class PexSender {
  private readonly intervalMs: number;
  /** What the recipient has been told we have: added and not dropped since, by wire identity. */
  private readonly told = new Map<string, PexPeer>();
  private lastSentAt: number | undefined;

  constructor(options: PexSenderOptions) {
    this.intervalMs = options.shoalPeer ? PEX_SHOAL_INTERVAL_MS : PEX_INTERVAL_MS;
  }

  /**
   * Earliest time at which next() may return a message; -Infinity until the first one, which
   * BEP 11 lets go at once since it carries the current list.
   */
  get nextAllowedAt(): number {
    return this.lastSentAt === undefined ? -Infinity : this.lastSentAt + this.intervalMs;
  }

  /**
   * The message to send now, or null when it is too soon or the recipient already knows the
   * list. `current` excludes the recipient itself. A returned message counts as sent. A change
   * that is undone before it could be sent is never mentioned, and a change of flags alone is
   * not news.
   */
  next(current: readonly PexPeer[], now: number): PexMessage | null {
    if (now < this.nextAllowedAt) return null;
    const currentByKey = new Map<string, PexPeer>();
    for (const peer of current) {
      const key = pexPeerKey(peer);
      if (!currentByKey.has(key)) currentByKey.set(key, peer);
    }
    // Entries over the cap stay out of `told`, so the next diff finds them again.
    const added: [string, PexPeer][] = [];
    for (const [key, peer] of currentByKey) {
      if (added.length === PEX_MAX_PEERS_PER_MESSAGE) break;
      if (!this.told.has(key)) added.push([key, addressOf(peer, peer.flags)]);
    }
    const dropped: [string, PexPeer][] = [];
    for (const [key, peer] of this.told) {
      if (dropped.length === PEX_MAX_PEERS_PER_MESSAGE) break;
      // Flags describe an added peer only.
      if (!currentByKey.has(key)) dropped.push([key, addressOf(peer, undefined)]);
    }
    if (added.length === 0 && dropped.length === 0) return null;
    for (const [key, peer] of added) this.told.set(key, peer);
    for (const [key] of dropped) this.told.delete(key);
    this.lastSentAt = now;
    return { added: added.map(([, peer]) => peer), dropped: dropped.map(([, peer]) => peer) };
  }
}
