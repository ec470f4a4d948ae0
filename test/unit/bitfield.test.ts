import { Bitfield } from '../../src/main/wire/bitfield.js';

describe('Bitfield', () => {
  test('starts empty, sets and clears bits in wire order, and keeps the count', () => {
    const bits = new Bitfield(12);
    expect(bits.length).toBe(12);
    expect(bits.count).toBe(0);
    bits.set(0);
    bits.set(9);
    bits.set(9);
    expect(bits.count).toBe(2);
    expect(bits.has(0)).toBe(true);
    expect(bits.has(1)).toBe(false);
    expect(bits.has(9)).toBe(true);
    // Piece 0 is the high bit of byte 0.
    expect(bits.toBuffer()).toEqual(Buffer.from([0x80, 0x40]));
    bits.clear(0);
    bits.clear(0);
    bits.clear(5);
    expect(bits.count).toBe(1);
    expect(bits.has(0)).toBe(false);
    expect(bits.toBuffer()).toEqual(Buffer.from([0x00, 0x40]));
  });

  test('isComplete once every bit is set, and not after one is cleared', () => {
    const bits = new Bitfield(3);
    for (let i = 0; i < 3; i++) {
      expect(bits.isComplete()).toBe(false);
      bits.set(i);
    }
    expect(bits.isComplete()).toBe(true);
    bits.clear(1);
    expect(bits.isComplete()).toBe(false);
    expect(new Bitfield(0).isComplete()).toBe(true);
  });

  test('is built from wire bytes, counting set bits and clearing spare ones', () => {
    const bytes = Buffer.from([0xf0, 0x0f, 0xff]);
    const bits = new Bitfield(20, bytes);
    expect(bits.count).toBe(4 + 4 + 4);
    expect(bits.has(3)).toBe(true);
    expect(bits.has(4)).toBe(false);
    expect(bits.has(19)).toBe(true);
    expect(bits.toBuffer()).toEqual(Buffer.from([0xf0, 0x0f, 0xf0]));
    expect(new Bitfield(24, Buffer.from([0xff, 0xff, 0xff])).isComplete()).toBe(true);
  });

  test('copies its input and its output', () => {
    const bytes = Buffer.from([0x00]);
    const bits = new Bitfield(8, bytes);
    bytes[0] = 0xff;
    expect(bits.has(0)).toBe(false);
    const out = bits.toBuffer();
    out[0] = 0xff;
    expect(bits.has(0)).toBe(false);
    expect(bits.count).toBe(0);
  });

  test('refuses bytes of the wrong length and bits out of range', () => {
    expect(() => new Bitfield(9, Buffer.alloc(1))).toThrow(/takes 2 bytes/);
    expect(() => new Bitfield(-1)).toThrow(/non-negative/);
    const bits = new Bitfield(10);
    for (const i of [10, -1, 1.5, NaN]) {
      expect(() => bits.has(i)).toThrow(/outside/);
      expect(() => bits.set(i)).toThrow(/outside/);
      expect(() => bits.clear(i)).toThrow(/outside/);
    }
    expect(bits.count).toBe(0);
  });
});
