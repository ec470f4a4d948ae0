/** copyBytes: the one copy of every downloaded block, into the shared slab or into ordinary memory. */
import { randomBytes } from 'node:crypto';
import { copyBytes } from '../../src/io/byte-copy.js';

describe.each([
  ['shared memory', (n: number) => Buffer.from(new SharedArrayBuffer(n))],
  ['ordinary memory', (n: number) => Buffer.alloc(n)],
])('into %s', (_, make) => {
  test('copies exactly the source, at the offset, and nothing around it', () => {
    const target = make(64);
    const source = randomBytes(20);
    copyBytes(source.subarray(3, 13), target, 30);
    expect(target.subarray(30, 40).equals(source.subarray(3, 13))).toBe(true);
    expect(target.subarray(0, 30).every((b) => b === 0)).toBe(true);
    expect(target.subarray(40).every((b) => b === 0)).toBe(true);
  });

  test('an empty source changes nothing; an overflow is refused before writing', () => {
    const target = make(8);
    copyBytes(Buffer.alloc(0), target, 8);
    expect(() => copyBytes(Buffer.alloc(4, 1), target, 6)).toThrow(RangeError);
    expect(target.every((b) => b === 0)).toBe(true);
  });
});
