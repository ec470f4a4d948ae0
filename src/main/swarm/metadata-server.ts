/**
 * Gives out a torrent's info dictionary with ut_metadata (BEP 9) to the peers of its swarm: a
 * request for a piece that exists gets its 16 KiB, any other a reject. A peer asking for the same
 * pieces over and over is bounded: past a few copies of the whole dictionary, it gets rejects.
 */
import { METADATA_PIECE_LENGTH, metadataPieceCount, type MetadataMessage } from '../wire/ut-metadata.js';

/** Copies of the whole dictionary one connection may fetch: a few retries, not a stream. */
const COPIES_PER_PEER = 4;

export class MetadataServer<P extends object> {
  private readonly pieceCount: number;
  private readonly served = new WeakMap<P, number>();

  constructor(private readonly info: Buffer) {
    this.pieceCount = metadataPieceCount(info.length);
  }

  get size(): number {
    return this.info.length;
  }

  /** The answer to `peer`'s request for metadata piece `piece`. */
  answer(peer: P, piece: number): MetadataMessage {
    const served = this.served.get(peer) ?? 0;
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount || served >= COPIES_PER_PEER * this.pieceCount) {
      return { type: 'reject', piece };
    }
    this.served.set(peer, served + 1);
    const begin = piece * METADATA_PIECE_LENGTH;
    return { type: 'data', piece, totalSize: this.info.length, data: this.info.subarray(begin, begin + METADATA_PIECE_LENGTH) };
  }
}
