/**
 * Attributes downloaded blocks to the peers that sent them, and finds who sent bad data when a
 * piece fails its hash check:
 * - every block from one peer: that peer sent bad data, and is to be banned at once;
 * - blocks from several peers: the digest of each block of the failed attempt is kept with its
 *   sender, and the piece is downloaded again from one peer at a time (the first peer to take a
 *   block of it holds it until the piece is done or the peer stops serving). The next attempt
 *   shows the culprit: if it fails, its one peer; if it passes, every earlier sender whose block
 *   differs from the good one.
 * Pure bookkeeping over an opaque peer type compared by identity: the caller hashes blocks and
 * closes connections.
 */

export type FailureVerdict<P> =
  /** One peer sent every block: ban it. */
  | { kind: 'ban'; peer: P }
  /** Several peers did: the piece is now restricted; the caller may record each block's digest. */
  | { kind: 'restrict'; blockSenders: P[] };

interface SuspectBlock<P> {
  block: number;
  sender: P;
  digest: Buffer;
}

export class SmartBan<P> {
  // Each map is made when first written: a seeder never writes them.
  /** Sender of each block received so far, by piece. */
  private senders: Map<number, (P | undefined)[]> | undefined;
  /** Blocks of failed attempts from several peers, by piece, until the piece passes. */
  private suspects: Map<number, SuspectBlock<P>[]> | undefined;
  /** Pieces downloaded from one peer at a time: the peer holding each, or null while none does. */
  private restricted: Map<number, P | null> | undefined;

  blockReceived(index: number, block: number, blockCount: number, sender: P): void {
    let senders = this.senders?.get(index);
    if (!senders) (this.senders ??= new Map()).set(index, (senders = new Array<P | undefined>(blockCount)));
    senders[block] = sender;
  }

  /** The piece failed its hash check; what it says about its senders. Its next attempt starts afresh. */
  pieceFailed(index: number): FailureVerdict<P> {
    const blockSenders = (this.senders?.get(index) ?? []).filter((sender): sender is P => sender !== undefined);
    this.senders?.delete(index);
    this.release(index);
    const distinct = new Set(blockSenders);
    if (distinct.size === 1) return { kind: 'ban', peer: blockSenders[0] };
    (this.restricted ??= new Map()).set(index, null);
    return { kind: 'restrict', blockSenders };
  }

  /** Keeps the digest of each block of a failed attempt (`digests[i]` is block i's), with its sender. */
  recordFailure(index: number, blockSenders: readonly P[], digests: readonly Buffer[]): void {
    const records = this.suspects?.get(index) ?? [];
    blockSenders.forEach((sender, block) => records.push({ block, sender, digest: digests[block] }));
    (this.suspects ??= new Map()).set(index, records);
  }

  /** Whether the piece that just passed had a failed attempt whose blocks are to be compared. */
  hasSuspects(index: number): boolean {
    return this.suspects?.has(index) ?? false;
  }

  /**
   * The piece passed: returns the senders of earlier failed attempts whose blocks differ from
   * the good ones (`digests[i]` is good block i's; none given, none can be judged).
   */
  piecePassed(index: number, digests?: readonly Buffer[]): P[] {
    const culprits = new Set<P>();
    if (digests) {
      for (const { block, sender, digest } of this.suspects?.get(index) ?? []) {
        if (!digest.equals(digests[block])) culprits.add(sender);
      }
    }
    this.senders?.delete(index);
    this.suspects?.delete(index);
    this.restricted?.delete(index);
    return [...culprits];
  }

  /** The piece's blocks so far are thrown away (a write that failed, or its holder left): no verdict. */
  restart(index: number): void {
    this.senders?.delete(index);
    this.release(index);
  }

  /** Whether `peer` may be asked for blocks of the piece. */
  mayDownload(index: number, peer: P): boolean {
    if (!this.restricted?.size) return true;
    const holder = this.restricted.get(index);
    return holder === undefined || holder === null || holder === peer;
  }

  /** `peer` was asked for a block of the piece: a restricted piece is now its alone. */
  claim(index: number, peer: P): void {
    if (this.restricted?.get(index) === null) this.restricted.set(index, peer);
  }

  /** The pieces in progress that hold blocks from `peer` (when it is banned, they start over). */
  piecesFrom(peer: P): number[] {
    const pieces: number[] = [];
    for (const [index, senders] of this.senders ?? []) if (senders.includes(peer)) pieces.push(index);
    return pieces;
  }

  /** The restricted pieces `peer` holds, which it will not finish (it left, choked us, timed out). */
  heldBy(peer: P): number[] {
    const held: number[] = [];
    for (const [index, holder] of this.restricted ?? []) if (holder === peer) held.push(index);
    return held;
  }

  private release(index: number): void {
    if (this.restricted?.has(index)) this.restricted.set(index, null);
  }
}
