/**
 * RC4, the stream cipher of Message Stream Encryption (MSE/PE). Node 20's OpenSSL 3 leaves RC4
 * out of its default provider, so it is written here. It runs over every byte of an encrypted
 * connection, so the inner loop is kept plain: typed-array state, no allocation per byte, and the
 * caller chooses where the output goes (in place for bytes we own, a copy for bytes we must not
 * change, such as blocks sent from slab memory).
 */
export class Rc4 {
  /** The permutation (a Uint8Array measured a few per cent faster here than an Int32Array). */
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError(`an RC4 key has 1 to 256 bytes, got ${key.length}`);
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const t = s[k];
      j = (j + t + key[k % key.length]) & 0xff;
      s[k] = s[j];
      s[j] = t;
    }
  }

  /**
   * XORs `input` with the next `input.length` bytes of keystream into `output` (the same buffer
   * for in place; a distinct one must be at least as long).
   */
  process(input: Uint8Array, output: Uint8Array = input): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    const n = input.length;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 0xff;
      const si = s[i];
      j = (j + si) & 0xff;
      const sj = s[j];
      s[i] = sj;
      s[j] = si;
      output[k] = input[k] ^ s[(si + sj) & 0xff];
    }
    this.i = i;
    this.j = j;
  }

  /** Advances the keystream by `count` bytes without output (MSE drops the first 1024). */
  skip(count: number): void {
    this.process(new Uint8Array(count));
  }
}
