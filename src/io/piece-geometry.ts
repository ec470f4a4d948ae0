/** Sizes of pieces and blocks of one torrent: the arithmetic every layer needs. */
import { defaultSettings } from './settings.js';

export class PieceGeometry {
  readonly pieceCount: number;

  constructor(
    readonly pieceLength: number,
    readonly totalLength: number,
    readonly blockLength: number = defaultSettings.blockLength,
  ) {
    this.pieceCount = totalLength === 0 ? 0 : Math.ceil(totalLength / pieceLength);
  }

  /** Length of piece `index`: the last piece may be shorter. */
  pieceSize(index: number): number {
    if (index === this.pieceCount - 1) return this.totalLength - index * this.pieceLength;
    return this.pieceLength;
  }

  blocksIn(index: number): number {
    return Math.ceil(this.pieceSize(index) / this.blockLength);
  }

  /** Length of block `block` of piece `index`: the last block may be shorter. */
  blockSize(index: number, block: number): number {
    return Math.min(this.blockLength, this.pieceSize(index) - block * this.blockLength);
  }

  /** Bytes of a bitfield for this torrent. */
  get bitfieldLength(): number {
    return Math.ceil(this.pieceCount / 8);
  }

  /** The BEP 3 bitfield of the pieces for which `has` is true (spare bits clear). */
  bitfield(has: (index: number) => boolean): Buffer {
    const bits = Buffer.alloc(this.bitfieldLength);
    for (let i = 0; i < this.pieceCount; i++) if (has(i)) bits[i >> 3] |= 0x80 >> (i & 7);
    return bits;
  }
}
