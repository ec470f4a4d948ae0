/**
 * Which blocks to request next. Pure bookkeeping, no I/O: pieces we have, how many peers have
 * each piece, and the state of every block of the pieces being downloaded. Partial pieces are
 * finished before new ones are started; then the pieces the peer suggested (BEP 6: likely in its
 * read cache, so served soonest); the first few pieces are picked at random (a new peer needs
 * something to trade soon, and the rarest pieces are slow to get), then rarest first with ties
 * at random. When every missing block is already requested, the end game begins: the
 * request pipeline may then ask an idle peer for a block requested elsewhere (request-pipeline.ts).
 *
 * Each piece has a priority (file-priorities.ts): SKIP pieces are never started, and a new piece
 * comes from the highest priority that the peer has: URGENT (a stream waits for it), HIGH, then
 * NORMAL. Within it, rarest first; in sequential mode, the lowest index of the first
 * `sequentialWindow` candidates, drawn at random so that peers in order still trade; URGENT pieces
 * strictly in order, as a reader waits for the first. `complete` means every piece;
 * `wantedComplete` every piece that is not skipped.
 */
import type { PieceGeometry } from '../../io/piece-geometry.js';

export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

/** Pieces picked at random before rarest first takes over. */
export const RANDOM_FIRST_PIECES = 4;

/** Piece priorities, lowest first: what decides which piece is started next. */
export const SKIP = 0;
export const NORMAL = 1;
export const HIGH = 2;
export const URGENT = 3;
const PRIORITY_CLASSES = 4;

const MISSING = 0;
const REQUESTED = 1;
const RECEIVED = 2;

interface PartialPiece {
  /** MISSING, REQUESTED or RECEIVED per block. */
  blocks: Uint8Array;
  received: number;
}

export class PiecePicker {
  private readonly have: Uint8Array;
  private haveCount = 0;
  // `availability`, `partials`, `started` and `ties` are made when first needed: a seeder with
  // no peer never needs them, and a peer of thousands of seeding swarms saves their cost in each.
  /** Peers that have each piece; none while undefined. */
  private availability: Uint32Array | undefined;
  private partials: Map<number, PartialPiece> | undefined;
  /**
   * 1 for the pieces in `partials`: the scans for a new piece read every piece, and a typed
   * array costs them far less than a Map lookup each.
   */
  private started: Uint8Array | undefined;
  /**
   * The pieces tied in the last rarest-first scan, so that one of them is drawn without a second
   * scan; the first `tied` are kept for the next pick of the same peer while `version` holds.
   */
  private ties: Int32Array | undefined;
  private tied = 0;
  private tiesFor: object | undefined;
  private tiesVersion = -1;
  /**
   * Moves on whenever what a scan reads changes in a way that could add a candidate or change the
   * rarest (availability, priorities, a failed piece put back, the mode), so that kept ties are
   * only drawn from while a new scan would find the same ones, less the pieces started or had since.
   */
  private version = 0;
  /** SKIP, NORMAL, HIGH or URGENT per piece. */
  private readonly priority: Uint8Array;
  /** Pieces not had, per priority: which class new pieces come from. */
  private readonly missingByPriority = new Uint32Array(PRIORITY_CLASSES);
  /** Bytes of the pieces not had and not skipped, kept as they change: /status reads it every second. */
  private wantedBytesMissing: number;
  /** 0 for rarest first; else sequential order, drawn among this many first candidates. */
  private sequentialWindow = 0;

  constructor(
    readonly geometry: PieceGeometry,
    private readonly random: () => number = Math.random,
  ) {
    this.have = new Uint8Array(geometry.pieceCount);
    this.priority = new Uint8Array(geometry.pieceCount).fill(NORMAL);
    this.missingByPriority[NORMAL] = geometry.pieceCount;
    this.wantedBytesMissing = geometry.totalLength;
  }

  /** Every piece had that is not skipped: nothing more to download. */
  get wantedComplete(): boolean {
    return this.missingByPriority[NORMAL] + this.missingByPriority[HIGH] + this.missingByPriority[URGENT] === 0;
  }

  priorityOf(index: number): number {
    return this.priority[index];
  }

  /** Changes a piece's priority; a piece under way is finished whatever its new priority. */
  setPriority(index: number, priority: number): void {
    const old = this.priority[index];
    if (old === priority) return;
    this.priority[index] = priority;
    this.version++;
    if (this.have[index]) return;
    this.missingByPriority[old]--;
    this.missingByPriority[priority]++;
    if (old === SKIP) this.wantedBytesMissing += this.geometry.pieceSize(index);
    else if (priority === SKIP) this.wantedBytesMissing -= this.geometry.pieceSize(index);
  }

  /** Sequential order with a random draw among the first `window` candidates, or rarest first (0). */
  setSequential(window: number): void {
    this.sequentialWindow = window;
    this.version++;
  }

  get complete(): boolean {
    return this.haveCount === this.geometry.pieceCount;
  }

  get piecesHad(): number {
    return this.haveCount;
  }

  hasPiece(index: number): boolean {
    return this.have[index] === 1;
  }

  markHave(index: number): void {
    if (this.have[index]) return;
    this.have[index] = 1;
    this.haveCount++;
    const priority = this.priority[index];
    this.missingByPriority[priority]--;
    if (priority !== SKIP) this.wantedBytesMissing -= this.geometry.pieceSize(index);
    this.forget(index);
  }

  private forget(index: number): void {
    this.partials?.delete(index);
    if (this.started) this.started[index] = 0;
  }

  /** Bytes still missing of the pieces not skipped (what a tracker calls `left`), in O(1). */
  bytesLeft(): number {
    return this.wantedBytesMissing;
  }

  peerHasPiece(index: number): void {
    (this.availability ??= new Uint32Array(this.geometry.pieceCount))[index]++;
    this.version++;
  }

  peerLostPiece(index: number): void {
    const availability = this.availability;
    if (availability && availability[index] > 0) availability[index]--;
    this.version++;
  }

  /** Whether a peer with pieces `peerHas` has something we lack and want. */
  wants(peerHas: (index: number) => boolean): boolean {
    for (let i = 0; i < this.geometry.pieceCount; i++) if (!this.have[i] && this.priority[i] !== SKIP && peerHas(i)) return true;
    return false;
  }

  /** The highest priority among the pieces not had: new pieces come from it first. */
  private topPriority(): number {
    for (let p = URGENT; p > SKIP; p--) if (this.missingByPriority[p] > 0) return p;
    return SKIP;
  }

  /**
   * Up to `count` blocks from the peer's pieces, marked as requested. A new piece is started only
   * if `reserve(index)` agrees (its memory is available): when it does not, picking stops there.
   * New pieces come from `preferred` first (the peer's suggestions, in order), when it has them.
   * `peer`, when given, names who asks: its next pick may draw from this scan's ties.
   */
  pick(
    peerHas: (index: number) => boolean,
    count: number,
    reserve: (index: number) => boolean = () => true,
    preferred: readonly number[] = [],
    peer?: object,
  ): BlockRef[] {
    const out: BlockRef[] = [];
    for (const [index, partial] of this.partials ?? []) {
      if (out.length >= count) return out;
      if (peerHas(index)) this.takeBlocks(index, partial, count, out);
    }
    // A suggestion is taken only when nothing of a higher priority is missing.
    const top = this.topPriority();
    for (const index of preferred) {
      if (out.length >= count) return out;
      if (this.have[index] || this.started?.[index] || this.priority[index] < top || this.priority[index] === SKIP || !peerHas(index)) continue;
      if (!reserve(index)) return out;
      this.startPiece(index, count, out);
    }
    while (out.length < count) {
      const index = this.newPiece(peerHas, peer);
      if (index < 0 || !reserve(index)) break;
      this.startPiece(index, count, out);
    }
    return out;
  }

  private startPiece(index: number, count: number, out: BlockRef[]): void {
    const partial: PartialPiece = { blocks: new Uint8Array(this.geometry.blocksIn(index)), received: 0 };
    (this.partials ??= new Map()).set(index, partial);
    this.startedFlags()[index] = 1;
    this.takeBlocks(index, partial, count, out);
  }

  private takeBlocks(index: number, partial: PartialPiece, count: number, out: BlockRef[]): void {
    for (let b = 0; b < partial.blocks.length && out.length < count; b++) {
      if (partial.blocks[b] !== MISSING) continue;
      partial.blocks[b] = REQUESTED;
      out.push({ index, begin: b * this.geometry.blockLength, length: this.geometry.blockSize(index, b) });
    }
  }

  /** The next piece to start of those the peer has (class comment); -1 if none. */
  private newPiece(peerHas: (index: number) => boolean, peer: object | undefined): number {
    if (this.missingByPriority[URGENT] > 0 || this.sequentialWindow > 0) {
      const index = this.sequentialNewPiece(peerHas);
      // Urgent pieces the peer lacks leave the other classes to their usual order.
      if (index >= 0 || this.sequentialWindow > 0) return index;
    }
    if (this.haveCount < RANDOM_FIRST_PIECES) return this.randomNewPiece(peerHas);
    return this.keptTie(peer) ?? this.rarestNewPiece(peerHas, peer);
  }

  /**
   * A piece drawn from `peer`'s ties of its last scan, if nothing a scan reads changed since:
   * the same draw as a new scan's, without reading every piece again. Undefined when a scan is due.
   */
  private keptTie(peer: object | undefined): number | undefined {
    if (peer === undefined || peer !== this.tiesFor || this.version !== this.tiesVersion) return undefined;
    const ties = this.tiesArray();
    while (this.tied > 0) {
      const at = Math.floor(this.random() * this.tied);
      const index = ties[at];
      ties[at] = ties[--this.tied];
      // Started for another peer, or had, since: a new scan would not list it.
      if (!this.started?.[index] && !this.have[index]) return index;
    }
    return undefined;
  }

  /**
   * The rarest piece of the highest priority the peer has that is neither had nor started, ties
   * broken at random; -1 if none. One scan that keeps the ties at the best (priority, then lowest
   * availability) seen so far, then one draw among them: with a single seeder every piece ties.
   */
  private rarestNewPiece(peerHas: (index: number) => boolean, peer: object | undefined): number {
    const count = this.geometry.pieceCount;
    const ties = this.tiesArray();
    const started = this.startedFlags();
    const availability = (this.availability ??= new Uint32Array(count));
    let best = SKIP + 1;
    let lowest = Infinity;
    let tied = 0;
    for (let i = 0; i < count; i++) {
      if (this.have[i] || started[i]) continue;
      const p = this.priority[i];
      if (p < best) continue;
      const a = availability[i];
      // The availability first: it rules most pieces out without asking the peer's bitfield.
      if ((p === best && a > lowest) || !peerHas(i)) continue;
      if (p > best || a < lowest) {
        best = p;
        lowest = a;
        tied = 0;
      }
      ties[tied++] = i;
    }
    if (tied === 0) return -1;
    const at = Math.floor(this.random() * tied);
    const index = ties[at];
    ties[at] = ties[tied - 1];
    this.tied = tied - 1;
    this.tiesFor = peer;
    this.tiesVersion = this.version;
    return index;
  }

  private tiesArray(): Int32Array {
    return (this.ties ??= new Int32Array(this.geometry.pieceCount));
  }

  private startedFlags(): Uint8Array {
    return (this.started ??= new Uint8Array(this.geometry.pieceCount));
  }

  /** The ties array as scratch for another scan: the ties kept for a peer are gone. */
  private scratch(): Int32Array {
    this.tiesFor = undefined;
    return this.tiesArray();
  }

  /** Any piece of the highest priority the peer has, neither had nor started, all equally likely; -1 if none. */
  private randomNewPiece(peerHas: (index: number) => boolean): number {
    const candidates = this.scratch();
    const started = this.startedFlags();
    let best = SKIP + 1;
    let found = 0;
    for (let i = 0; i < this.geometry.pieceCount; i++) {
      const p = this.priority[i];
      if (p < best || this.have[i] || started[i] || !peerHas(i)) continue;
      if (p > best) {
        best = p;
        found = 0;
      }
      candidates[found++] = i;
    }
    return found === 0 ? -1 : candidates[Math.floor(this.random() * found)];
  }

  /**
   * In index order: URGENT pieces the first one first; with sequential mode on, the others of the
   * highest priority the peer has, one drawn among the first `sequentialWindow`; -1 if none.
   */
  private sequentialNewPiece(peerHas: (index: number) => boolean): number {
    const candidates = this.scratch();
    const started = this.startedFlags();
    let best = this.sequentialWindow > 0 ? SKIP + 1 : URGENT;
    let found = 0;
    for (let i = 0; i < this.geometry.pieceCount; i++) {
      const p = this.priority[i];
      if (p < best || this.have[i] || started[i] || !peerHas(i)) continue;
      if (p === URGENT) return i;
      if (p > best) {
        best = p;
        found = 0;
      }
      if (found < this.sequentialWindow) candidates[found++] = i;
    }
    return found === 0 ? -1 : candidates[Math.floor(this.random() * found)];
  }

  /**
   * End game: no piece is left to start and every missing block is requested from someone.
   * Only then may a block be asked of a second peer (the request pipeline decides which).
   */
  inEndgame(): boolean {
    if (!this.partials) return false;
    let wantedStarted = 0;
    for (const index of this.partials.keys()) if (this.priority[index] !== SKIP) wantedStarted++;
    const wantedMissing = this.missingByPriority[NORMAL] + this.missingByPriority[HIGH] + this.missingByPriority[URGENT];
    if (wantedStarted < wantedMissing) return false;
    for (const partial of this.partials.values()) if (partial.blocks.includes(MISSING)) return false;
    return this.partials.size > 0;
  }

  /** Whether the block at (index, begin) has arrived already (a duplicate in the end game). */
  isReceived(index: number, begin: number): boolean {
    const partial = this.partials?.get(index);
    return partial !== undefined && partial.blocks[begin / this.geometry.blockLength] === RECEIVED;
  }

  /** Whether the block at (index, begin) is currently requested: what a PIECE must answer. */
  isRequested(index: number, begin: number): boolean {
    const partial = this.partials?.get(index);
    if (!partial || begin % this.geometry.blockLength !== 0) return false;
    return partial.blocks[begin / this.geometry.blockLength] === REQUESTED;
  }

  /** Records a received block; returns true when the piece now has all its blocks. */
  blockReceived(index: number, begin: number): boolean {
    const partial = this.partials?.get(index);
    if (!partial) return false;
    const b = begin / this.geometry.blockLength;
    if (partial.blocks[b] === RECEIVED) return false;
    partial.blocks[b] = RECEIVED;
    partial.received++;
    return partial.received === partial.blocks.length;
  }

  /** A request that will not be answered (choke, disconnect, time-out): the block is missing again. */
  releaseBlock(index: number, begin: number): void {
    const partial = this.partials?.get(index);
    const b = begin / this.geometry.blockLength;
    if (partial && partial.blocks[b] === REQUESTED) partial.blocks[b] = MISSING;
  }

  /** A piece that failed its hash check is downloaded again from scratch. */
  pieceFailed(index: number): void {
    this.forget(index);
    // Back among the candidates: kept ties would leave it out.
    this.version++;
  }
}
