/**
 * What becomes of a downloaded piece: the pool hashes and writes it (TorrentData.verifyAndWrite),
 * then smart ban (smart-ban.ts) judges its senders. Bad data from one sender bans it; from
 * several, the piece is downloaded again from one peer at a time, and each block's digest is
 * kept, so that the attempt that passes shows who sent the bad block. The ban itself, and what a
 * verified piece changes in the swarm, are the swarm's.
 */
import type { SlabPiece } from '../../io/block-slab.js';
import type { TorrentData } from '../../io/torrent-data.js';
import type { Logger } from '../logger.js';
import type { PiecePicker } from './piece-picker.js';
import type { FailureVerdict, SmartBan } from './smart-ban.js';

export interface VerifierSetup<P> {
  data: Pick<TorrentData, 'verifyAndWrite' | 'hashBlocks' | 'geometry'>;
  picker: Pick<PiecePicker, 'pieceFailed' | 'markHave'>;
  smartBan: SmartBan<P>;
  /** The piece's slab slots may go: it is verified or failed (RequestPipeline.pieceDone). */
  pieceDone(index: number): void;
  log: Pick<Logger, 'warn'>;
  /** The piece matched but could not be written (the swarm's storage error, which logs it). */
  storageFailed(index: number, error: unknown): void;
  /** Bans a peer that sent bad data. */
  ban(peer: P, reason: string): void;
  /** The piece failed, or could not be written: it is wanted again. */
  pieceFailed(index: number): void;
  /** The piece is on disk and counted as had. */
  pieceVerified(index: number): Promise<void>;
}

export class PieceVerifier<P extends { readonly address: string }> {
  /** Pieces being hashed and written; stopping waits for them. Made at the first piece: a seeder downloads none. */
  private pending: Set<Promise<void>> | undefined;
  private verifiedBytes = 0;

  constructor(private readonly setup: VerifierSetup<P>) {}

  /** Bytes of the pieces downloaded and verified. */
  get downloaded(): number {
    return this.verifiedBytes;
  }

  /** Hashes and writes a piece the pipeline reported complete, then judges its senders. */
  verify(index: number, piece: SlabPiece): void {
    const pending = (this.pending ??= new Set());
    const verifying = this.finish(index, piece).finally(() => pending.delete(verifying));
    pending.add(verifying);
  }

  /** Resolves once the pieces under way are done. */
  async settled(): Promise<void> {
    await Promise.all(this.pending ?? []);
  }

  private async finish(index: number, piece: SlabPiece): Promise<void> {
    const { data, picker, smartBan } = this.setup;
    let outcome: 'good' | 'bad' | 'unwritten';
    try {
      outcome = (await data.verifyAndWrite(index, piece)) ? 'good' : 'bad';
    } catch (error) {
      this.setup.storageFailed(index, error);
      outcome = 'unwritten';
    }
    const failure = outcome === 'bad' ? smartBan.pieceFailed(index) : null;
    // Blocks are hashed one by one only when that can tell who sent bad data: a failed attempt
    // from several peers, and the good data of a piece that had one.
    const wantDigests = failure?.kind === 'restrict' || (outcome === 'good' && smartBan.hasSuspects(index));
    const digests = wantDigests ? await this.blockDigests(index, piece) : undefined;
    this.setup.pieceDone(index);
    if (outcome !== 'good') {
      picker.pieceFailed(index);
      if (failure) this.judgeFailure(index, failure, digests);
      else smartBan.restart(index);
      this.setup.pieceFailed(index);
      return;
    }
    for (const culprit of smartBan.piecePassed(index, digests)) {
      this.setup.ban(culprit, `blocks it sent of piece ${index} differ from the data that verified`);
    }
    // Counted even while stopping: it is on disk, and the clean stop's resume data must say so.
    picker.markHave(index);
    this.verifiedBytes += data.geometry.pieceSize(index);
    await this.setup.pieceVerified(index);
  }

  private async blockDigests(index: number, piece: SlabPiece): Promise<Buffer[] | undefined> {
    try {
      return await this.setup.data.hashBlocks(piece);
    } catch (error) {
      this.setup.log.warn(`cannot hash the blocks of piece ${index} to find who sent bad data: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** A piece failed its hash check: one sender is banned; several, and the piece is taken from one peer at a time. */
  private judgeFailure(index: number, failure: FailureVerdict<P>, digests: Buffer[] | undefined): void {
    if (failure.kind === 'ban') {
      this.setup.log.warn(`piece ${index} failed its hash check; every block came from ${failure.peer.address}`);
      this.setup.ban(failure.peer, `it sent piece ${index}, which failed its hash check`);
      return;
    }
    const senders = [...new Set(failure.blockSenders.map((peer) => peer.address))].join(', ');
    this.setup.log.warn(`piece ${index} failed its hash check with blocks from ${senders}; downloading it again from one peer at a time`);
    if (digests) this.setup.smartBan.recordFailure(index, failure.blockSenders, digests);
  }
}
