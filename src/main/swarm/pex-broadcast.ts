/**
 * When to send `ut_pex` to one connected peer, and what. Pure: the caller passes the swarm's
 * peer list and the time, sends what comes back, and asks again when its list changes or when
 * `nextAllowedAt` comes (a change that had to wait, or entries beyond the per-message cap).
 */
import { defaultSettings, type Settings } from '../../io/settings.js';
import { pexPeerKey, type PexMessage, type PexPeer } from '../wire/ut-pex.js';


/**
 * Other shoal peers are those whose BEP 10 `v` starts with this (docs/architecture.md, Tracker
 * services and the broadcast).
 */
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
  /** Its pace and message size (pexIntervalMs, pexShoalIntervalMs, pexMaxPeersPerMessage); the defaults when left out. */
  settings?: Pick<Settings, 'pexIntervalMs' | 'pexShoalIntervalMs' | 'pexMaxPeersPerMessage'>;
}

export class PexSender {
  private readonly intervalMs: number;
  private readonly maxPerMessage: number;
  /** What the recipient has been told we have: added and not dropped since, by wire identity. */
  private readonly told = new Map<string, PexPeer>();
  private lastSentAt: number | undefined;
  /**
   * pexPeerKey of each spelling in the last list: working out canonical IPv6 text costs some
   * microseconds, and every peer of the swarm is keyed for every connection.
   */
  private keys = new Map<string, string>();

  constructor(options: PexSenderOptions) {
    const limits = options.settings ?? defaultSettings;
    this.intervalMs = options.shoalPeer ? limits.pexShoalIntervalMs : limits.pexIntervalMs;
    this.maxPerMessage = limits.pexMaxPeersPerMessage;
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
    const keys = new Map<string, string>();
    for (const peer of current) {
      const spelling = `${peer.ip} ${peer.port}`;
      const key = this.keys.get(spelling) ?? keys.get(spelling) ?? pexPeerKey(peer);
      keys.set(spelling, key);
      if (!currentByKey.has(key)) currentByKey.set(key, peer);
    }
    this.keys = keys;
    // Entries over the cap stay out of `told`, so the next diff finds them again.
    const added: [string, PexPeer][] = [];
    for (const [key, peer] of currentByKey) {
      if (added.length === this.maxPerMessage) break;
      if (!this.told.has(key)) added.push([key, addressOf(peer, peer.flags)]);
    }
    const dropped: [string, PexPeer][] = [];
    for (const [key, peer] of this.told) {
      if (dropped.length === this.maxPerMessage) break;
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
