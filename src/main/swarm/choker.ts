/**
 * Whom we upload to: the tit-for-tat choker of BEP 3, as libtorrent and Transmission run it.
 * Pure: the caller passes the peers as plain records and the time, and sends CHOKE or UNCHOKE
 * only to the peers whose state the decision changes.
 *
 * Every regular round, the `unchokeSlots` interested peers with the best rate are unchoked: the
 * rate they give us while leeching (reciprocation), the rate we manage to send them while seeding
 * (the data goes where it moves fastest). One more interested peer, drawn at random and kept for
 * `optimisticIntervalMs`, is unchoked optimistically, so that peers with no rate yet get a
 * chance to show one; newly connected peers are favoured in the draw since they have nothing to
 * offer until they get a first piece. Everyone else is choked.
 *
 * Peers that are not interested are choked, as libtorrent does: unchoking them
 * would cost nothing now, but they could then start downloading the moment they become
 * interested, outside the slots, and the set of unchoked peers would no longer be exactly what
 * the choker decided. A peer that becomes interested is let in at once by `admit` when a slot is
 * free, so keeping it choked until then delays nothing.
 */
import { defaultSettings } from '../../io/settings.js';
import type { Role } from './role.js';


/** One connected peer, as the swarm sees it when the choker runs. */
export interface ChokerPeer {
  id: string;
  /** It wants data from us. */
  interested: boolean;
  /** We currently unchoke it. */
  unchoked: boolean;
  /** Bytes per second it sends us. */
  downloadRate: number;
  /** Bytes per second we send it. */
  uploadRate: number;
  connectedAt: number;
  /** It has stopped sending us what we ask for: it earns no slot by rate, only an optimistic one. */
  snubbed?: boolean;
}

export interface ChokeDecision {
  /** The peers to unchoke; every other peer is choked. */
  unchoke: Set<string>;
  /** The optimistic unchoke, one of `unchoke`, or null when no peer was left to draw. */
  optimistic: string | null;
}

export interface ChokerOptions {
  random?: () => number;
  unchokeSlots?: number;
  chokeIntervalMs?: number;
  optimisticIntervalMs?: number;
  newPeerWindowMs?: number;
  newPeerOptimisticWeight?: number;
}

export class Choker {
  private readonly random: () => number;
  private readonly slots: number;
  private readonly roundMs: number;
  private readonly optimisticMs: number;
  private readonly newPeerMs: number;
  private readonly newPeerWeight: number;
  private nextRoundAt = -Infinity;
  private optimistic: string | null = null;
  private optimisticSince = 0;

  constructor(options: ChokerOptions = {}) {
    this.random = options.random ?? Math.random;
    this.slots = options.unchokeSlots ?? defaultSettings.unchokeSlots;
    this.roundMs = options.chokeIntervalMs ?? defaultSettings.chokeIntervalMs;
    this.optimisticMs = options.optimisticIntervalMs ?? defaultSettings.optimisticIntervalMs;
    this.newPeerMs = options.newPeerWindowMs ?? defaultSettings.newPeerWindowMs;
    this.newPeerWeight = options.newPeerOptimisticWeight ?? defaultSettings.newPeerOptimisticWeight;
  }

  /** Whether a regular round is due; the first one is due at once. */
  due(now: number): boolean {
    return now >= this.nextRoundAt;
  }

  /**
   * A regular round. The caller may also run one early (an unchoked peer left, the role
   * changed); the next one is then due a full interval later. The optimistic unchoke rotates
   * at the first round `optimisticIntervalMs` after it was drawn, and is drawn again at once
   * when its peer left, lost interest or earned a slot by rate.
   */
  round(role: Role, peers: readonly ChokerPeer[], now: number): ChokeDecision {
    this.nextRoundAt = now + this.roundMs;
    const ranked = peers.filter((p) => p.interested && !p.snubbed).sort(byRate(role));
    const unchoke = new Set(ranked.slice(0, this.slots).map((p) => p.id));

    const others = peers.filter((p) => p.interested && !unchoke.has(p.id));
    const kept = others.find((p) => p.id === this.optimistic);
    if (kept === undefined || now - this.optimisticSince >= this.optimisticMs) {
      const drawn = this.draw(others.filter((p) => p !== kept), now);
      if (drawn !== undefined) {
        this.optimistic = drawn.id;
        this.optimisticSince = now;
      } else if (kept === undefined) {
        this.optimistic = null;
      }
    }
    if (this.optimistic !== null) unchoke.add(this.optimistic);
    return { unchoke, optimistic: this.optimistic };
  }

  /**
   * Between rounds, when a peer became interested (or connected interested): unchokes waiting
   * peers into free slots at once, so that a fresh leecher does not wait up to a whole round for
   * its first byte. Nobody already unchoked is choked for it, except peers no longer interested.
   */
  admit(role: Role, peers: readonly ChokerPeer[], now: number): ChokeDecision {
    const unchoke = new Set(peers.filter((p) => p.interested && p.unchoked).map((p) => p.id));
    if (this.optimistic !== null && !unchoke.has(this.optimistic)) this.optimistic = null;
    const regular = unchoke.size - (this.optimistic === null ? 0 : 1);

    const waiting = peers.filter((p) => p.interested && !unchoke.has(p.id));
    const ranked = waiting.filter((p) => !p.snubbed).sort(byRate(role));
    for (const p of ranked.slice(0, Math.max(0, this.slots - regular))) unchoke.add(p.id);

    if (this.optimistic === null) {
      const drawn = this.draw(waiting.filter((p) => !unchoke.has(p.id)), now);
      if (drawn !== undefined) {
        this.optimistic = drawn.id;
        this.optimisticSince = now;
        unchoke.add(drawn.id);
      }
    }
    return { unchoke, optimistic: this.optimistic };
  }

  /** A weighted random pick: a peer connected within `newPeerWindowMs` weighs `newPeerWeight`, others 1. */
  private draw(candidates: readonly ChokerPeer[], now: number): ChokerPeer | undefined {
    const weights = candidates.map((p) => (now - p.connectedAt < this.newPeerMs ? this.newPeerWeight : 1));
    let r = this.random() * weights.reduce((sum, w) => sum + w, 0);
    for (let i = 0; i < candidates.length; i++) {
      r -= weights[i];
      if (r < 0) return candidates[i];
    }
    // Only reached through rounding when random() is just below 1, or with no candidates.
    return candidates[candidates.length - 1];
  }
}

/**
 * Best rate first. Ties (most often everyone at 0 B/s) go to the peer we already unchoke, since
 * choking a peer we just unchoked throws away its queued requests before it could reciprocate and
 * costs two messages for nothing; then to the peer connected longer ago, then by id, so that the
 * order never depends on the order of the list.
 */
function byRate(role: Role): (a: ChokerPeer, b: ChokerPeer) => number {
  const rate = role === 'seeder' ? (p: ChokerPeer) => p.uploadRate : (p: ChokerPeer) => p.downloadRate;
  return (a, b) =>
    rate(b) - rate(a) ||
    Number(b.unchoked) - Number(a.unchoked) ||
    a.connectedAt - b.connectedAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
