/**
 * Fetching a magnet's info dictionary from peers (BEP 9): who is asked for which 16 KiB piece,
 * what a peer may send back, and when the whole is checked against the info hash. Pure
 * bookkeeping over opaque peers, with the time as an argument; the swarm sends and drops.
 *
 * Peers come from anyone, so nothing they say is trusted until the SHA-1 of the whole equals the
 * info hash: the size a peer offers only decides what is asked, a piece of the wrong length or
 * one nobody asked for gets its sender dropped, and a whole that fails the hash is thrown away
 * with everyone who contributed to it, since which of them lied cannot be told.
 */
import { createHash } from 'node:crypto';
import { METADATA_PIECE_LENGTH, metadataPieceCount } from '../wire/ut-metadata.js';

export interface MetadataLimits {
  maxMetadataSize: number;
  metadataRequestTimeoutMs: number;
  metadataRequestsPerPeer: number;
}

export type Offer = { ok: true } | { ok: false; reason: string };

export type Arrival<P> =
  | { kind: 'stored' }
  /** The sender broke the rules of the exchange. */
  | { kind: 'drop'; reason: string }
  /** Every piece in, and their SHA-1 is the info hash. */
  | { kind: 'complete'; info: Buffer }
  /** Every piece in but the hash differs: all was discarded and fetching starts over without the senders. */
  | { kind: 'bad-hash'; senders: P[]; reason: string };

export class MetadataAssembly<P> {
  /** The size each peer offered (BEP 9 `metadata_size`), acceptable ones only, in the order they came. */
  private readonly offers = new Map<P, number>();
  private fixedSize: number | undefined;
  private pieces: (Buffer | undefined)[] = [];
  private senders: (P | undefined)[] = [];
  private had = 0;
  /**
   * Requests sent and not answered: peer -> piece -> when asked. One past its time-out stays, so
   * that a late answer is still welcome, but no longer holds the piece from other peers nor the
   * peer's slot.
   */
  private readonly asked = new Map<P, Map<number, number>>();
  private readonly refusals = new Map<P, Set<number>>();

  constructor(
    private readonly infoHash: Buffer,
    private readonly limits: MetadataLimits,
  ) {}

  get size(): number | undefined {
    return this.fixedSize;
  }

  get piecesHad(): number {
    return this.had;
  }

  get pieceCount(): number {
    return this.pieces.length;
  }

  /** A peer's `metadata_size`. Not ok with a reason that says whether the peer is to be dropped. */
  offered(peer: P, metadataSize: number): Offer {
    if (!Number.isSafeInteger(metadataSize) || metadataSize <= 0) {
      this.offers.delete(peer);
      return { ok: false, reason: `it offers ${metadataSize} bytes of metadata, which cannot be an info dictionary` };
    }
    if (metadataSize > this.limits.maxMetadataSize) {
      this.offers.delete(peer);
      return {
        ok: false,
        reason: `it offers ${metadataSize} bytes of metadata, more than the ${this.limits.maxMetadataSize} accepted (maxMetadataSize)`,
      };
    }
    this.offers.set(peer, metadataSize);
    if (this.fixedSize === undefined) this.start(metadataSize);
    if (metadataSize !== this.fixedSize) {
      return {
        ok: false,
        reason: `it offers ${metadataSize} bytes of metadata where other peers offered ${this.fixedSize}; it is not asked unless theirs proves wrong, and need not be dropped`,
      };
    }
    return { ok: true };
  }

  /** The pieces to ask `peer` for now; each is recorded as asked. */
  nextRequests(peer: P, now: number): number[] {
    const size = this.fixedSize;
    if (size === undefined || this.offers.get(peer) !== size) return [];
    const mine = this.askedOf(peer);
    const live = (at: number): boolean => now - at < this.limits.metadataRequestTimeoutMs;
    const busy = new Set<number>();
    for (const requests of this.asked.values()) for (const [piece, at] of requests) if (live(at)) busy.add(piece);
    // An even share of what is missing, so that several peers are asked when there are several.
    const share = Math.min(this.limits.metadataRequestsPerPeer, Math.ceil((this.pieces.length - this.had) / this.askersOf(size)));
    let room = share;
    for (const at of mine.values()) if (live(at)) room--;
    const refused = this.refusals.get(peer);
    const out: number[] = [];
    for (let piece = 0; piece < this.pieces.length && out.length < room; piece++) {
      if (this.pieces[piece] !== undefined || busy.has(piece) || refused?.has(piece)) continue;
      mine.set(piece, now);
      out.push(piece);
    }
    return out;
  }

  /** A data message; the time is not needed to judge it, since a late answer is as good as a prompt one. */
  received(peer: P, piece: number, totalSize: number, data: Buffer, _now: number): Arrival<P> {
    const offer = this.offers.get(peer);
    if (offer === undefined) return drop('it sent metadata without offering an acceptable metadata_size');
    if (totalSize !== offer) return drop(`it sent metadata of ${totalSize} bytes in all after offering ${offer}`);
    const requests = this.asked.get(peer);
    if (requests?.has(piece) !== true) return drop(`it sent metadata piece ${piece}, which was not asked of it`);
    requests.delete(piece);
    // Asked before fetching started over with another size: the answer is no longer wanted.
    if (offer !== this.fixedSize) return { kind: 'stored' };
    const expected = this.pieceLength(piece);
    if (data.length !== expected) {
      return drop(`it sent ${data.length} bytes for metadata piece ${piece}, which is ${expected} bytes long`);
    }
    if (this.pieces[piece] !== undefined) return { kind: 'stored' };
    // A copy: the payload may be a view on a socket chunk that is reused.
    this.pieces[piece] = Buffer.from(data);
    this.senders[piece] = peer;
    this.had++;
    if (this.had < this.pieces.length) return { kind: 'stored' };
    return this.check();
  }

  /** `peer` will not give `piece`: it is asked of others. */
  rejected(peer: P, piece: number): void {
    this.asked.get(peer)?.delete(piece);
    let refused = this.refusals.get(peer);
    if (refused === undefined) this.refusals.set(peer, (refused = new Set()));
    refused.add(piece);
  }

  peerLeft(peer: P): void {
    this.forget(peer);
    // The size came from peers who are all gone and nothing of it arrived: the peers left may know better.
    if (this.had === 0 && this.askersOf(this.fixedSize) === 0) this.restartWithOffers();
  }

  private check(): Arrival<P> {
    const info = Buffer.concat(this.pieces as Buffer[]);
    const hash = createHash('sha1').update(info).digest();
    if (hash.equals(this.infoHash)) return { kind: 'complete', info };
    const senders = [...new Set(this.senders as P[])];
    for (const sender of senders) this.forget(sender);
    this.restartWithOffers();
    return {
      kind: 'bad-hash',
      senders,
      reason: `the ${info.length} bytes from ${senders.length} peer(s) hash to ${hash.toString('hex')}, not ${this.infoHash.toString('hex')}`,
    };
  }

  /** Starts over with nothing held, at the size the earliest remaining peer offered. */
  private restartWithOffers(): void {
    const [first] = this.offers.values();
    if (first === undefined) {
      this.fixedSize = undefined;
      this.pieces = [];
      this.senders = [];
      this.had = 0;
    } else {
      this.start(first);
    }
  }

  private start(size: number): void {
    this.fixedSize = size;
    const count = metadataPieceCount(size);
    this.pieces = new Array<Buffer | undefined>(count).fill(undefined);
    this.senders = new Array<P | undefined>(count).fill(undefined);
    this.had = 0;
    // Refusals were of pieces of another whole; they may have the new one.
    this.refusals.clear();
  }

  private forget(peer: P): void {
    this.offers.delete(peer);
    this.asked.delete(peer);
    this.refusals.delete(peer);
  }

  /** How many peers offered `size`. */
  private askersOf(size: number | undefined): number {
    let count = 0;
    for (const offer of this.offers.values()) if (offer === size) count++;
    return count;
  }

  private askedOf(peer: P): Map<number, number> {
    let requests = this.asked.get(peer);
    if (requests === undefined) this.asked.set(peer, (requests = new Map()));
    return requests;
  }

  /** BEP 9: every piece is 16 KiB but the last. */
  private pieceLength(piece: number): number {
    const size = this.fixedSize ?? 0;
    return Math.min(METADATA_PIECE_LENGTH, size - piece * METADATA_PIECE_LENGTH);
  }
}

function drop(reason: string): { kind: 'drop'; reason: string } {
  return { kind: 'drop', reason };
}
