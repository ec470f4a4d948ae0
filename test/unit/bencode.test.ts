import {
  BencodeError,
  asBytes,
  asInteger,
  asList,
  asText,
  decodeBencode,
  decodeBencodePrefix,
  decodeBencodeWithSpans,
  encodeBencode,
  isDict,
  type BencodeDict,
} from '../../src/io/bencode.js';
import { defaultSettings as settings } from '../../src/io/settings.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

function decodeError(input: Buffer, maxDepth?: number): BencodeError {
  try {
    decodeBencode(input, maxDepth === undefined ? {} : { maxDepth });
  } catch (err) {
    if (err instanceof BencodeError) return err;
    throw new Error(`expected a BencodeError, got ${String(err)}`);
  }
  throw new Error(`expected ${JSON.stringify(input.toString('latin1'))} to be refused`);
}

describe('bencode round trips', () => {
  test.each([
    'i0e',
    'i42e',
    'i-42e',
    `i${Number.MAX_SAFE_INTEGER}e`,
    `i${Number.MIN_SAFE_INTEGER}e`,
    '0:',
    '4:spam',
    'le',
    'de',
    'l4:spami42ee',
    'd3:bar4:spam3:fooi42ee',
    'd5:emptyde4:listli1eli2ed1:xleeeee',
  ])('%s decodes and encodes back to the same bytes', (text) => {
    expect(encodeBencode(decodeBencode(b(text)) as never)).toEqual(b(text));
  });

  test('decodes to Buffers, numbers, arrays and dictionaries', () => {
    const value = decodeBencode(b('d1:ai-7e1:b3:xyz1:cli1e0:ee'));
    expect(isDict(value)).toBe(true);
    const dict = value as BencodeDict;
    expect(asInteger(dict['a'])).toBe(-7);
    expect(asBytes(dict['b'])).toEqual(b('xyz'));
    expect(asText(dict['b'])).toBe('xyz');
    const list = asList(dict['c']);
    expect(list).toHaveLength(2);
    expect(asInteger(list?.[0])).toBe(1);
    expect(asBytes(list?.[1])).toEqual(Buffer.alloc(0));
  });

  test('accessors return undefined on a type mismatch', () => {
    const value = decodeBencode(b('li1e1:xe'));
    expect(isDict(value)).toBe(false);
    expect(asBytes(value)).toBeUndefined();
    expect(asText(42)).toBeUndefined();
    expect(asInteger(b('1'))).toBeUndefined();
    expect(asList(b('x'))).toBeUndefined();
  });

  test('byte strings keep every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const encoded = encodeBencode(all);
    expect(encoded.subarray(0, 4)).toEqual(b('256:'));
    expect(decodeBencode(encoded)).toEqual(all);
  });

  test('strings are encoded as UTF-8 and lengths count bytes', () => {
    expect(encodeBencode('é✓')).toEqual(Buffer.concat([b('5:'), Buffer.from('é✓', 'utf8')]));
  });

  test('undefined dictionary values are left out', () => {
    expect(encodeBencode({ a: 1, b: undefined })).toEqual(b('d1:ai1ee'));
  });

  test('only safe integers are encoded', () => {
    expect(() => encodeBencode(1.5)).toThrow(TypeError);
    expect(() => encodeBencode(2 ** 60)).toThrow(TypeError);
    expect(encodeBencode(-0)).toEqual(b('i0e'));
  });
});

describe('bencode dictionary keys', () => {
  test('keys are written sorted by their raw bytes, whatever the insertion order', () => {
    const encoded = encodeBencode({ b: 1, aa: 2, a: 3, B: 4, '\u00ff': 5, z: 6 });
    expect(encoded).toEqual(b('d1:Bi4e1:ai3e2:aai2e1:bi1e1:zi6e1:\u00ffi5ee'));
  });

  test('binary keys (such as info hashes in a scrape) survive a round trip', () => {
    const hash = Buffer.from('00ff807f10e9c3a90102030405060708090a0b0c', 'hex');
    const encoded = Buffer.concat([b('d5:filesd20:'), hash, b('d8:completei3eeee')]);
    const value = decodeBencode(encoded) as BencodeDict;
    const files = value['files'] as BencodeDict;
    expect(Object.keys(files)).toEqual([hash.toString('latin1')]);
    expect(Buffer.from(Object.keys(files)[0], 'latin1')).toEqual(hash);
    expect(encodeBencode(value as never)).toEqual(encoded);
  });

  test('unsorted keys are accepted when decoding', () => {
    const value = decodeBencode(b('d1:bi1e1:ai2ee')) as BencodeDict;
    expect(asInteger(value['a'])).toBe(2);
    expect(asInteger(value['b'])).toBe(1);
  });

  test('a key with a character above U+00FF is refused, not written as another key (property counterexample)', () => {
    expect(() => encodeBencode({ '\u0100': 0 })).toThrow(TypeError);
    expect(() => encodeBencode({ a: { '\u0100': 0, '\u0000': 1 } })).toThrow(/U\+00FF/);
  });

  test('a key named __proto__ is an ordinary key', () => {
    const value = decodeBencode(b('d9:__proto__i1ee')) as BencodeDict;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(asInteger(value['__proto__'])).toBe(1);
  });
});

describe('bencode strictness', () => {
  test.each([
    ['', 'empty input'],
    ['i03e', 'leading zero in an integer'],
    ['i-03e', 'leading zero in a negative integer'],
    ['i-0e', 'negative zero'],
    ['ie', 'empty integer'],
    ['i-e', 'a lone minus'],
    ['i1.5e', 'a fraction'],
    ['i 1e', 'a space'],
    ['i+1e', 'a plus sign'],
    ['i12', 'an unterminated integer'],
    ['03:abc', 'leading zero in a length'],
    ['-1:a', 'a negative length'],
    ['3abc', 'a length without colon'],
    ['i1ei2e', 'trailing data'],
    ['4:spamx', 'a trailing byte'],
    ['l', 'an unterminated empty list'],
    ['li1e', 'an unterminated list'],
    ['d', 'an unterminated empty dictionary'],
    ['d1:ai1e', 'an unterminated dictionary'],
    ['d1:a', 'a key without a value'],
    ['d1:ai1e1:ai2ee', 'a duplicate key'],
    ['d1:ai1e1:bi2e1:ai3ee', 'a duplicate key after another'],
    ['di1ei2ee', 'an integer key'],
    ['dli1eei2ee', 'a list key'],
    ['x', 'an unknown type byte'],
    ['e', 'a stray end'],
  ])('refuses %j (%s)', (text) => {
    const err = decodeError(b(text));
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(text.length);
    expect(err.message).toContain(err.reason);
  });

  test('reports the offset of the problem', () => {
    expect(decodeError(b('li1ei03ee')).offset).toBeGreaterThanOrEqual(4);
    expect(decodeError(b('i1ei2e')).reason).toMatch(/trailing/);
    expect(decodeError(b('d1:ai1e1:ai2ee')).reason).toMatch(/duplicate/);
    expect(decodeError(b('i-0e')).reason).toMatch(/negative zero/);
    expect(decodeError(b('i03e')).reason).toMatch(/leading zero/);
  });

  test('byte strings whose length runs past the end are refused without allocating', () => {
    expect(decodeError(b('5:abc')).reason).toMatch(/past the end/);
    expect(decodeError(b('4294967296:abc')).reason).toMatch(/past the end/);
    expect(decodeError(b('l999999999999:xe')).reason).toMatch(/past the end/);
  });

  test('numbers beyond the safe integer range are refused', () => {
    expect(decodeError(b(`i${2n ** 53n}e`)).reason).toMatch(/too large/);
    expect(decodeError(b('i99999999999999999999999e')).reason).toMatch(/too large/);
    expect(decodeError(b('99999999999999999999:x')).reason).toMatch(/too large/);
  });
});

describe('bencode depth limit', () => {
  const nested = (depth: number): Buffer => b('l'.repeat(depth) + 'e'.repeat(depth));

  test('nesting up to the limit is accepted, one more is refused', () => {
    expect(() => decodeBencode(nested(settings.bencodeMaxDepth))).not.toThrow();
    expect(decodeError(nested(settings.bencodeMaxDepth + 1)).reason).toMatch(/nesting deeper/);
  });

  test('the limit can be lowered per call, and counts dictionaries too', () => {
    expect(() => decodeBencode(b('d1:ad1:aleee'), { maxDepth: 3 })).not.toThrow();
    expect(decodeError(b('d1:ad1:aleee'), 2).reason).toMatch(/nesting deeper/);
  });

  test('very deep input fails cleanly instead of overflowing the stack', () => {
    expect(decodeError(nested(1_000_000)).reason).toMatch(/nesting deeper/);
  });
});

describe('bencode spans', () => {
  test('give the exact bytes of each top-level value, nested ones excluded', () => {
    const text = 'd8:announce3:url4:infod4:name1:x6:lengthi5ee1:zli1eee';
    const { value, spans } = decodeBencodeWithSpans(b(text));
    expect(isDict(value)).toBe(true);
    const slice = (key: string): string => {
      const span = spans.get(key);
      if (span === undefined) throw new Error(`no span for ${key}`);
      return text.slice(span[0], span[1]);
    };
    expect(slice('info')).toBe('d4:name1:x6:lengthi5ee');
    expect(slice('announce')).toBe('3:url');
    expect(slice('z')).toBe('li1ee');
    expect(spans.has('name')).toBe(false);
    expect([...spans.keys()].sort()).toEqual(['announce', 'info', 'z']);
  });

  test('a top level that is not a dictionary has no spans', () => {
    expect(decodeBencodeWithSpans(b('ld1:ai1eee')).spans.size).toBe(0);
  });
});

describe('bencode prefix', () => {
  test('decodes the value at the start and says where it ends, leaving what follows alone', () => {
    const { value, end } = decodeBencodePrefix(b('d8:msg_typei1e5:piecei0eeRAW BYTES'));
    expect(value).toEqual({ msg_type: 1, piece: 0 });
    expect(end).toBe('d8:msg_typei1e5:piecei0ee'.length);
    expect(decodeBencodePrefix(b('i5e')).end).toBe(3);
  });

  test('a value cut short is still refused', () => {
    expect(() => decodeBencodePrefix(b('d8:msg_typei1e'))).toThrow(BencodeError);
    expect(() => decodeBencodePrefix(b(''))).toThrow(BencodeError);
  });
});
