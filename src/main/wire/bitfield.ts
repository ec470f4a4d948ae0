/**
 * A set of piece indexes in the wire's bitfield layout (piece 0 is the high bit of byte 0),
 * with the number of set bits kept up to date so that "how many" and "complete?" cost nothing.
 */

/** Set bits of each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

export class Bitfield {
  private readonly bytes: Buffer;
  private setBits = 0;

  /** `bytes`, when given, is copied, with any bits past `length` cleared. */
  constructor(
    private readonly bitCount: number,
    bytes?: Buffer,
  ) {
    if (!Number.isSafeInteger(bitCount) || bitCount < 0) throw new RangeError(`bitfield length must be a non-negative integer, got ${bitCount}`);
    const byteLength = Math.ceil(bitCount / 8);
    this.bytes = Buffer.alloc(byteLength);
    if (bytes === undefined) return;
    if (bytes.length !== byteLength) {
      throw new RangeError(`a bitfield of ${bitCount} bits takes ${byteLength} bytes, got ${bytes.length}`);
    }
    bytes.copy(this.bytes);
    if (bitCount % 8 !== 0) this.bytes[byteLength - 1] &= 0xff00 >> (bitCount % 8);
    for (const b of this.bytes) this.setBits += POPCOUNT[b];
  }

  private check(i: number): void {
    // `>>> 0` changes negatives, fractions and NaN, so this refuses them along with the too large.
    if (i >>> 0 !== i || i >= this.bitCount) throw new RangeError(`bit ${i} is outside a bitfield of ${this.bitCount} bits`);
  }

  has(i: number): boolean {
    this.check(i);
    return (this.bytes[i >> 3] & (0x80 >> (i & 7))) !== 0;
  }

  set(i: number): void {
    this.check(i);
    const mask = 0x80 >> (i & 7);
    const byte = this.bytes[i >> 3];
    if ((byte & mask) !== 0) return;
    this.bytes[i >> 3] = byte | mask;
    this.setBits++;
  }

  clear(i: number): void {
    this.check(i);
    const mask = 0x80 >> (i & 7);
    const byte = this.bytes[i >> 3];
    if ((byte & mask) === 0) return;
    this.bytes[i >> 3] = byte & ~mask;
    this.setBits--;
  }

  /** Number of set bits. */
  get count(): number {
    return this.setBits;
  }

  /** Number of bits (pieces). */
  get length(): number {
    return this.bitCount;
  }

  isComplete(): boolean {
    return this.setBits === this.bitCount;
  }

  /** A copy in wire layout, spare bits clear: the body of a bitfield message. */
  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}
