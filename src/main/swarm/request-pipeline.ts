/**
 * One swarm's download requests: which blocks each peer is asked for and how many at a time,
 * where each block lands in the slab, and what becomes of requests that a choke, a REJECT (BEP 6),
 * a departure, a time-out or the end game leaves unanswered. A Fast peer that chokes us is still
 * asked for the pieces it allows fast, and its suggestions are started first. The swarm passes
 * on the peers' messages and acts on what it is told: it verifies the pieces reported complete
 * and closes peers that break the rules.
 */
import type { BlockSlab, SlabPiece } from '../../io/block-slab.js';
import { copyBytes } from '../../io/byte-copy.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import { checkBlock } from '../wire/message-rules.js';
import type { WireMessage } from '../wire/wire-messages.js';
import { blockKey, PeerRequests } from './peer-requests.js';
import type { BlockRef, PiecePicker } from './piece-picker.js';
import type { SlabOwner, SlabShares } from './slab-shares.js';
import type { SmartBan } from './smart-ban.js';

/** What the pipeline needs of a connection: PeerConnection, or a plain object in tests. */
export interface RequestPeer {
  readonly peerPieces: { has(index: number): boolean };
  readonly peerChoking: boolean;
  /** Whether we may request blocks of the piece while the peer chokes us (its ALLOWED_FAST, BEP 6). */
  peerAllowsFast(index: number): boolean;
  readonly peerAllowsAnyFast: boolean;
  /** Pieces the peer suggested (SUGGEST_PIECE), best first: new pieces are started from these first. */
  readonly suggestedPieces: readonly number[];
  readonly amInterested: boolean;
  readonly isClosed: boolean;
  /** Its BEP 10 handshake, whose `reqq` caps the requests it takes. */
  readonly extensions: { readonly reqq?: number } | null;
  readonly downloadRate: { rate(now: number): number };
  /** Writes REQUESTs for `blocks` in one go. */
  sendRequests(blocks: readonly BlockRef[]): void;
  send(message: WireMessage): void;
}

/** Smart ban's part in requesting: who may be asked for a piece restricted after bad data, and who sent each block. */
export type RequestBan<P> = Pick<SmartBan<P>, 'mayDownload' | 'claim' | 'blockReceived' | 'restart' | 'heldBy'>;

export interface PipelineSetup<P> {
  picker: PiecePicker;
  /** The block slab, shared fairly among swarms: a piece being downloaded holds one slot per block. */
  slabShares: SlabShares;
  smartBan: RequestBan<P>;
  settings: Settings;
  clock: Clock;
  /** Whether the swarm downloads now (a leecher): a seeder asks for nothing. */
  isDownloading: () => boolean;
}

/** What became of a block a peer sent. */
export type BlockOutcome =
  /** Nobody asked the peer for it: it breaks the protocol. */
  | { kind: 'unrequested' }
  /** The answer to a request given up on: dropped. */
  | { kind: 'late' }
  | { kind: 'malformed'; reason: string }
  /** End game: another peer's copy came first, and this one is not kept. */
  | { kind: 'duplicate' }
  /** In its slot. `piece` when it was the piece's last block: to verify, then pieceDone. */
  | { kind: 'accepted'; piece: SlabPiece | null };

/** Requests are topped up when at least this many fit in the peer's queue. */
const REQUEST_BATCH = 16;

/** A block requested elsewhere that an idle peer may be asked for in the end game. */
interface DuplicateCandidate {
  block: BlockRef;
  /** Peers asked for it now. */
  peers: number;
  /** Seconds until the first of them would deliver it (Infinity when none sends anything). */
  wait: number;
  /** When it was first asked for. */
  sentAt: number;
}

const UNREQUESTED: BlockOutcome = Object.freeze({ kind: 'unrequested' });
const LATE: BlockOutcome = Object.freeze({ kind: 'late' });
const DUPLICATE: BlockOutcome = Object.freeze({ kind: 'duplicate' });
const ACCEPTED: BlockOutcome = Object.freeze({ kind: 'accepted', piece: null });

export class RequestPipeline<P extends RequestPeer> implements SlabOwner {
  // Each collection is made when first written: an idle seeder never writes them.
  /** Every connected peer, in the order it joined. */
  private requests: Map<P, PeerRequests> | undefined;
  /** Slab slots of the pieces being downloaded (one per block), by piece index. */
  private pieceSlots: Map<number, number[]> | undefined;
  /** Pieces reported complete and not yet done: their blocks must stay where they are while they are hashed. */
  private verifying: Set<number> | undefined;
  private readonly picker: PiecePicker;
  private readonly slabShares: SlabShares;
  private readonly slab: BlockSlab;
  private readonly ban: RequestBan<P>;
  private readonly settings: Settings;
  private readonly clock: Clock;
  private readonly isDownloading: () => boolean;

  constructor(setup: PipelineSetup<P>) {
    ({ picker: this.picker, slabShares: this.slabShares, smartBan: this.ban, settings: this.settings, clock: this.clock, isDownloading: this.isDownloading } = setup);
    this.slab = this.slabShares.slab;
  }

  /** A peer connected: from now on it may be asked for blocks. */
  join(peer: P): void {
    (this.requests ??= new Map()).set(peer, new PeerRequests(this.settings));
  }

  /** The swarm as the slab's shares know it (SlabOwner): memory it was refused came back, so every peer is topped up. */
  wake(): void {
    for (const peer of this.requests?.keys() ?? []) this.fill(peer);
  }

  isSnubbed(peer: P): boolean {
    return this.of(peer).snubbed;
  }

  /**
   * Tops up the peer's requests to the depth its rate calls for (PeerRequests.depth) with blocks
   * nobody was asked for; in the end game, an idle peer gets a block asked of another one.
   */
  fill(peer: P): void {
    if (!this.isDownloading() || !peer.amInterested || peer.isClosed) return;
    if (peer.peerChoking && !peer.peerAllowsAnyFast) return;
    const requests = this.of(peer);
    const now = this.clock.now();
    const depth = requests.depth(peer.downloadRate.rate(now), this.picker.geometry.blockLength, peer.extensions?.reqq);
    const room = depth - requests.outstanding.size;
    if (room <= 0) return;
    // Refilled in batches rather than one block at a time: fewer picks and fewer socket writes.
    const batchFits = room >= Math.min(REQUEST_BATCH, depth / 2) || requests.outstanding.size === 0;
    let blocks = batchFits ? this.pickNew(peer, room, now) : [];
    if (blocks.length === 0) blocks = this.pickDuplicates(peer, requests, Math.min(room, this.settings.endgameRequestsPerPeer - requests.outstanding.size), now);
    if (blocks.length === 0) return;
    for (const block of blocks) {
      this.ban.claim(block.index, peer);
      // A literal, not a spread: V8 (Node 20) gives each object made from a spread a hidden class
      // of its own, and there is one of these for every block in flight.
      requests.outstanding.set(blockKey(block.index, block.begin), { index: block.index, begin: block.begin, length: block.length, sentAt: now });
    }
    peer.sendRequests(blocks);
  }

  /**
   * The peer's part of its pieces: what it has, less the pieces smart ban keeps for another peer,
   * and while it chokes us, only those it allows fast.
   */
  private peerHas(peer: P): (index: number) => boolean {
    return (index) => peer.peerPieces.has(index) && this.ban.mayDownload(index, peer) && (!peer.peerChoking || peer.peerAllowsFast(index));
  }

  /** Up to `count` blocks nobody was asked for, of the peer's pieces, while memory allows new pieces. */
  private pickNew(peer: P, count: number, now: number): BlockRef[] {
    const geometry = this.picker.geometry;
    const reserve = (index: number): boolean => {
      const slots = this.slabShares.allocate(this, geometry.pieceSize(index), now);
      if (slots) (this.pieceSlots ??= new Map()).set(index, slots);
      return slots !== null;
    };
    return this.picker.pick(this.peerHas(peer), count, reserve, peer.suggestedPieces, peer);
  }

  /**
   * The end game: up to `count` blocks requested from other peers and not yet received, for a
   * peer with nothing else to ask for (the caller's count is what settings.endgameRequestsPerPeer
   * leaves). A block goes to at most settings.endgameMaxPeersPerBlock peers, and to this one only
   * if it would deliver the block before the holders, at their rates and its own: any block of a
   * holder that sends nothing (snubbed, or no rate yet) qualifies, and is taken first, the longest
   * asked first; then the back of a slower peer's queue. The front of a queue is on the wire
   * already: a copy of it would only arrive second.
   */
  private pickDuplicates(peer: P, requests: PeerRequests, count: number, now: number): BlockRef[] {
    if (count <= 0 || !this.picker.inEndgame()) return [];
    const peerHas = this.peerHas(peer);
    const candidates = new Map<string, DuplicateCandidate>();
    for (const [holder, held] of this.requests ?? []) {
      if (holder === peer) continue;
      const rate = held.snubbed ? 0 : holder.downloadRate.rate(now);
      let queued = 0;
      for (const [key, request] of held.outstanding) {
        queued += request.length;
        // Seconds until the holder delivers it, were its queue served in order at its rate.
        const wait = rate > 0 ? queued / rate : Infinity;
        const known = candidates.get(key);
        if (known) {
          known.peers++;
          known.wait = Math.min(known.wait, wait);
          known.sentAt = Math.min(known.sentAt, request.sentAt);
        } else if (!requests.outstanding.has(key) && peerHas(request.index) && this.picker.isRequested(request.index, request.begin)) {
          candidates.set(key, { block: request, peers: 1, wait, sentAt: request.sentAt });
        }
      }
    }
    // Seconds this peer takes for one block at its rate; a peer with no rate yet helps only with silent holders.
    const ownRate = requests.snubbed ? 0 : peer.downloadRate.rate(now);
    const sooner = ({ wait, block }: DuplicateCandidate): boolean => wait === Infinity || (ownRate > 0 && wait > block.length / ownRate);
    const eligible = [...candidates.values()].filter((candidate) => candidate.peers < this.settings.endgameMaxPeersPerBlock && sooner(candidate));
    eligible.sort((x, y) => (x.wait === y.wait ? x.sentAt - y.sentAt : y.wait - x.wait));
    return eligible.slice(0, count).map(({ block: { index, begin, length } }) => ({ index, begin, length }));
  }

  /**
   * Where the parser may copy a block that spans socket chunks: the slot of a block the peer was
   * asked for, or undefined to leave it to blockArrived.
   */
  slotFor(peer: P, index: number, begin: number, length: number): Buffer | undefined {
    const request = this.requests?.get(peer)?.outstanding.get(blockKey(index, begin));
    // A duplicate (end game) must not overwrite a block that may be under hashing.
    if (!request || request.length !== length || this.picker.isReceived(index, begin)) return undefined;
    return this.slot(index, begin, length);
  }

  private slot(index: number, begin: number, length: number): Buffer | undefined {
    const slots = this.pieceSlots?.get(index);
    return slots && this.slab.view(slots[begin / this.picker.geometry.blockLength], length);
  }

  /** Takes a block the peer sent, into its slot when it is wanted; the caller tops the peer up after. */
  blockArrived(peer: P, index: number, begin: number, block: Buffer): BlockOutcome {
    const requests = this.of(peer);
    const key = blockKey(index, begin);
    const request = requests.outstanding.get(key);
    if (!request) return requests.excuseLate(key) ? LATE : UNREQUESTED;
    const geometry = this.picker.geometry;
    const problem = checkBlock({ index, begin, block }, geometry, this.settings.maxRequestLength);
    if (problem || block.length !== request.length) return { kind: 'malformed', reason: problem ?? 'wrong length' };
    requests.answered(key);
    if (this.picker.isReceived(index, begin)) return DUPLICATE;
    this.cancelElsewhere(peer, key);
    this.ban.blockReceived(index, begin / geometry.blockLength, geometry.blocksIn(index), peer);
    const slot = this.slot(index, begin, block.length)!;
    // A block that spanned socket chunks was copied into its slot by the parser already.
    if (block.buffer !== slot.buffer || block.byteOffset !== slot.byteOffset) copyBytes(block, slot);
    if (!this.picker.blockReceived(index, begin)) return ACCEPTED;
    (this.verifying ??= new Set()).add(index);
    // The piece's slots are there: its block was copied into one above.
    return { kind: 'accepted', piece: this.slab.piece(this.pieceSlots!.get(index)!, geometry.pieceSize(index)) };
  }

  /**
   * The peer choked us. Without BEP 6 its requests will not be answered. A Fast peer's choke
   * rejects nothing: the peer answers each request with a REJECT or the block. Still, every
   * request not of a piece it allows fast is released at once, as if rejected, so that other
   * peers are asked now rather than when (or if) the REJECTs come: a peer need not keep serving
   * whom it chokes. Those requests are remembered as abandoned, so that a block the peer sends
   * anyway is dropped as late, never taken for an unrequested one (which closes the connection),
   * and their REJECTs find nothing outstanding and are ignored. Requests of allowed-fast pieces
   * stay outstanding, and more of them are asked for: the peer serves them while it chokes us.
   */
  choked(peer: P): void {
    this.release(peer, this.of(peer), (request) => !peer.peerAllowsFast(request.index));
    this.restartHeldPieces(peer);
    this.fill(peer);
  }

  /**
   * The peer rejected a request (BEP 6). Its block is released at once and other peers may be
   * asked for it now; this peer is asked again at its next top-up (a block it sends, its unchoke,
   * the swarm's tick), never in answer to its own REJECT, so that a peer rejecting everything
   * cannot hold us in a loop. Returns false, changing nothing, for a REJECT of no outstanding
   * request: one given up on (a choke, a time-out, a cancel), or one never made.
   */
  rejected(peer: P, block: BlockRef): boolean {
    const requests = this.of(peer);
    const key = blockKey(block.index, block.begin);
    const request = requests.outstanding.get(key);
    if (!request || request.length !== block.length) return false;
    requests.outstanding.delete(key);
    if (!this.askedElsewhere(peer, key)) this.picker.releaseBlock(request.index, request.begin);
    return true;
  }

  peerLeft(peer: P): void {
    const requests = this.of(peer);
    this.requests?.delete(peer);
    this.release(peer, requests);
    this.restartHeldPieces(peer);
  }

  /** The download is complete: nothing outstanding is wanted any more. */
  releaseAll(): void {
    for (const [peer, requests] of this.requests ?? []) this.release(peer, requests);
  }

  /**
   * Downloading stops for a while (a storage error): every outstanding request is cancelled at its
   * peer and its block is free to be asked for again later; blocks already received stay in
   * their slots.
   */
  cancelAll(): void {
    for (const [peer, requests] of this.requests ?? []) {
      for (const [key, request] of [...requests.outstanding]) {
        this.cancel(peer, requests, key, request);
        this.picker.releaseBlock(request.index, request.begin);
      }
    }
  }

  /**
   * Requests unanswered for settings.requestTimeoutMs are cancelled and given to other peers,
   * and their peer is snubbed; each peer's rate is looked at to end slow start.
   */
  timeOuts(now: number): void {
    for (const [peer, requests] of this.requests ?? []) {
      if (this.expire(peer, requests, now)) this.restartHeldPieces(peer);
      requests.observeRate(peer.downloadRate.rate(now));
    }
  }

  /** Cancels the peer's requests that timed out; returns whether there were any. */
  private expire(peer: P, requests: PeerRequests, now: number): boolean {
    let timedOut = false;
    for (const [key, request] of requests.outstanding) {
      if (now - request.sentAt < this.settings.requestTimeoutMs) continue;
      this.cancel(peer, requests, key, request);
      requests.snubbed = true;
      timedOut = true;
      if (!this.askedElsewhere(peer, key)) this.picker.releaseBlock(request.index, request.begin);
    }
    return timedOut;
  }

  /**
   * Throws away the blocks of a piece in progress and cancels its requests at every peer (a late
   * answer is then dropped, never copied): it starts over, from whichever peer takes it next. A
   * piece being verified keeps its blocks.
   */
  restartPiece(index: number): void {
    if (this.verifying?.has(index)) return;
    for (const [peer, requests] of this.requests ?? []) {
      for (const [key, request] of requests.outstanding) if (request.index === index) this.cancel(peer, requests, key, request);
    }
    this.freeSlots(index);
    this.picker.pieceFailed(index);
    this.ban.restart(index);
  }

  /** A piece reported complete was verified (or failed): its slots go back to the slab. */
  pieceDone(index: number): void {
    this.freeSlots(index);
    this.verifying?.delete(index);
  }

  /** Gives back every slot; the swarm stops, once its pieces under verification are done. */
  stop(): void {
    for (const slots of this.pieceSlots?.values() ?? []) this.slabShares.release(this, slots);
    this.pieceSlots?.clear();
    this.slabShares.forget(this);
  }

  private freeSlots(index: number): void {
    const slots = this.pieceSlots?.get(index);
    if (slots) this.slabShares.release(this, slots);
    this.pieceSlots?.delete(index);
  }

  /** The pieces restricted to `peer` (after bad data) that it will not finish now start over. */
  private restartHeldPieces(peer: P): void {
    for (const index of this.ban.heldBy(peer)) this.restartPiece(index);
  }

  /** Gives a peer's outstanding requests (those `which` selects) back to the picker, so other peers can be asked. */
  private release(peer: P, requests: PeerRequests, which: (request: BlockRef) => boolean = () => true): void {
    for (const [key, request] of requests.outstanding) {
      if (!which(request)) continue;
      requests.outstanding.delete(key);
      requests.abandon(key);
      if (!this.askedElsewhere(peer, key)) this.picker.releaseBlock(request.index, request.begin);
    }
  }

  /** Whether another peer also has the block requested (end game): then it stays requested. */
  private askedElsewhere(peer: P, key: string): boolean {
    for (const [other, requests] of this.requests ?? []) if (other !== peer && requests.outstanding.has(key)) return true;
    return false;
  }

  /** In the end game a block may be requested from several peers: once it arrives, the others are cancelled. */
  private cancelElsewhere(from: P, key: string): void {
    for (const [other, requests] of this.requests ?? []) {
      const request = other === from ? undefined : requests.outstanding.get(key);
      if (request) this.cancel(other, requests, key, request);
    }
  }

  /** Withdraws a request: its late answer, if one comes, is dropped. */
  private cancel(peer: P, requests: PeerRequests, key: string, request: BlockRef): void {
    requests.outstanding.delete(key);
    requests.abandon(key);
    peer.send({ kind: 'cancel', index: request.index, begin: request.begin, length: request.length });
  }

  private of(peer: P): PeerRequests {
    const requests = this.requests?.get(peer);
    if (!requests) throw new Error('the request pipeline was given a peer that never joined or has left');
    return requests;
  }
}
