/** RC4 (src/main/net/mse/rc4.ts) against published test vectors: the cipher of encrypted peer connections. */
import { Rc4 } from '../../src/main/net/mse/rc4.js';

/** The keystream: RC4 over zeros. */
function keystream(key: string, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  new Rc4(Buffer.from(key, 'hex')).process(bytes);
  return bytes;
}

describe('RC4 keystream, RFC 6229', () => {
  test.each([
    ['40-bit key 0102030405', '0102030405', [
      [0, 'b2396305f03dc027ccc3524a0a1118a8'],
      [16, '6982944f18fc82d589c403a47a0d0919'],
      [1024, '30abbcc7c20b01609f23ee2d5f6bb7df'],
      [4096, 'ff25b58995996707e51fbdf08b34d875'],
    ]],
    ['128-bit key 0102...10', '0102030405060708090a0b0c0d0e0f10', [[0, '9ac7cc9a609d1ef7b2932899cde41b97']]],
  ] as const)('%s', (_name, key, expected) => {
    const stream = keystream(key, 4112);
    for (const [offset, hex] of expected) expect(stream.subarray(offset, offset + 16).toString('hex')).toBe(hex);
  });
});

test.each([
  ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
  ['Wiki', 'pedia', '1021bf0420'],
  ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
])('key "%s" encrypts "%s" to %s, and the same key decrypts it', (key, plaintext, ciphertext) => {
  const out = Buffer.alloc(plaintext.length);
  new Rc4(Buffer.from(key)).process(Buffer.from(plaintext), out);
  expect(out.toString('hex')).toBe(ciphertext);
  new Rc4(Buffer.from(key)).process(out);
  expect(out.toString()).toBe(plaintext);
});

test('a stream cut into pieces of any size gives the same bytes as in one go, and skip() moves past keystream', () => {
  const key = Buffer.from('0102030405', 'hex');
  const whole = keystream('0102030405', 4112);
  const rc4 = new Rc4(key);
  rc4.skip(1000);
  const parts: Buffer[] = [];
  for (const size of [1, 7, 16, 3000, 88]) {
    const part = Buffer.alloc(size);
    rc4.process(part);
    parts.push(part);
  }
  expect(Buffer.concat(parts)).toEqual(whole.subarray(1000, 4112));
});

test('processing into another buffer leaves the input as it was', () => {
  const input = Buffer.from('slab memory must not change');
  const out = Buffer.alloc(input.length);
  new Rc4(Buffer.from('k')).process(input, out);
  expect(input.toString()).toBe('slab memory must not change');
  expect(out.equals(input)).toBe(false);
});

test('an empty key or one over 256 bytes is refused', () => {
  expect(() => new Rc4(Buffer.alloc(0))).toThrow('an RC4 key has 1 to 256 bytes, got 0');
  expect(() => new Rc4(Buffer.alloc(257))).toThrow('got 257');
});
