import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { checkBlock, checkRequest } from '../../src/main/wire/message-rules.js';

// Four pieces of 32 KiB, the last one 1696 bytes long.
const geometry = new PieceGeometry(32768, 3 * 32768 + 1696);

describe('checkRequest', () => {
  test.each([
    ['a first block', 0, 0, 16384],
    ['the end of a piece', 2, 16384, 16384],
    ['a whole piece in one request', 1, 0, 32768],
    ['the whole short last piece', 3, 0, 1696],
  ])('accepts %s', (_name, index, begin, length) => {
    expect(checkRequest({ index, begin, length }, geometry)).toBeNull();
  });

  test('accepts a request of exactly maxRequestLength', () => {
    const big = new PieceGeometry(4 * settings.maxRequestLength, 8 * settings.maxRequestLength);
    expect(checkRequest({ index: 1, begin: settings.maxRequestLength, length: settings.maxRequestLength }, big)).toBeNull();
  });

  test.each([
    ['an index past the last piece', 4, 0, 16384, /piece 4 does not exist/],
    ['a negative index', -1, 0, 16384, /does not exist/],
    ['a fractional index', 0.5, 0, 16384, /does not exist/],
    ['an empty request', 0, 0, 0, /0 bytes/],
    ['a request over maxRequestLength', 0, 0, settings.maxRequestLength + 1, /over the limit/],
    ['a span past the end of a piece', 0, 16385, 16384, /beyond the end of piece 0/],
    ['a span past the short last piece', 3, 0, 1697, /beyond the end of piece 3, which has 1696 bytes/],
    ['a begin past the piece', 1, 32768, 1, /beyond the end/],
  ])('refuses %s', (_name, index, begin, length, reason) => {
    expect(checkRequest({ index, begin, length }, geometry)).toMatch(reason);
  });
});

describe('checkBlock', () => {
  test('accepts blocks inside their piece', () => {
    expect(checkBlock({ index: 0, begin: 16384, block: Buffer.alloc(16384) }, geometry)).toBeNull();
    expect(checkBlock({ index: 3, begin: 1000, block: Buffer.alloc(696) }, geometry)).toBeNull();
  });

  test.each([
    ['an index past the last piece', 4, 0, 16384, /piece 4 does not exist/],
    ['an empty block', 0, 0, 0, /empty block/],
    ['a block over maxRequestLength', 0, 0, settings.maxRequestLength + 1, /over the limit/],
    ['a block past the end of its piece', 1, 16384, 16385, /beyond the end of piece 1/],
    ['a block past the short last piece', 3, 1000, 697, /beyond the end of piece 3/],
  ])('refuses %s', (_name, index, begin, length, reason) => {
    expect(checkBlock({ index, begin, block: Buffer.alloc(length) }, geometry)).toMatch(reason);
  });
});
