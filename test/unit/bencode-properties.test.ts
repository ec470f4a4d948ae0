/**
 * Properties of the bencode reader (fast-check; seed and run count: test/helpers/property.ts):
 * any input, random or a damaged valid encoding, gives a value or a BencodeError, never another
 * exception and never an allocation larger than the input; valid encodings round-trip exactly.
 */
import fc from 'fast-check';
import { BencodeError, decodeBencode, decodeBencodeWithSpans, encodeBencode, type BencodeValue } from '../../src/io/bencode.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { allocations, mutated, propertyRuns, randomBytes } from '../helpers/property.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Keys as the decoder gives them: any bytes, read as latin1; plus names that matter to JavaScript. */
const key = fc.oneof(
  fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'info', 'pieces'),
);

const { value: bencodeValue } = fc.letrec<{ value: BencodeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
}));

const encoded = bencodeValue.map((v) => encodeBencode(v as never));

/** What a hostile encoder writes into a near-valid document: huge lengths and numbers, deep nesting. */
const hostileTokens = fc.oneof(
  fc.constantFrom(b('2147483648:'), b('4294967295:'), b('9007199254740991:'), b('9007199254740992:'), b('i-0e'), b('i03e')),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map((n) => b(`i${n}e`)),
  fc.integer({ min: 1, max: 2000 }).map((depth) => b('l'.repeat(depth))),
  fc.integer({ min: 1, max: 2000 }).map((depth) => b('d1:a'.repeat(depth))),
  fc.constantFrom(b('e'), b('d'), b('l'), b(':'), b('-')),
);

/** A decoded value or a BencodeError; anything else fails the property. */
function decodeOrRefuse(input: Buffer): BencodeValue | BencodeError {
  try {
    return decodeBencode(input);
  } catch (err) {
    if (err instanceof BencodeError) return err;
    throw err;
  }
}

function checkBounded(input: Buffer): void {
  const { result, largest } = allocations(() => decodeOrRefuse(input));
  expect(largest).toBeLessThanOrEqual(input.length);
  if (result instanceof BencodeError) {
    expect(result.offset).toBeGreaterThanOrEqual(0);
    expect(result.offset).toBeLessThanOrEqual(input.length);
    return;
  }
  // Whatever was accepted is a document: re-encoded, it reads back the same.
  expect(decodeBencode(encodeBencode(result as never))).toEqual(result);
}

describe('bencode properties', () => {
  test('a valid encoding decodes to its value and encodes back to the same bytes', () => {
    fc.assert(
      fc.property(bencodeValue, (value) => {
        const bytes = encodeBencode(value as never);
        const decoded = decodeBencode(bytes);
        expect(decoded).toEqual(value);
        expect(encodeBencode(decoded as never)).toEqual(bytes);
      }),
      propertyRuns(500),
    );
  });

  test("a top-level dictionary's spans hold exactly the encoding of each value", () => {
    fc.assert(
      fc.property(fc.dictionary(key, bencodeValue, { maxKeys: 6 }), (dict) => {
        const bytes = encodeBencode(dict as never);
        const { spans } = decodeBencodeWithSpans(bytes);
        expect([...spans.keys()].sort()).toEqual(Object.keys(dict).sort());
        for (const [k, [start, end]] of spans) expect(bytes.subarray(start, end)).toEqual(encodeBencode(dict[k] as never));
      }),
      propertyRuns(300),
    );
  });

  test('dictionary keys of any text either round-trip or are refused by the encoder', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary', maxLength: 4 }), fc.nat(), { maxKeys: 4 }), (dict) => {
        let bytes: Buffer;
        try {
          bytes = encodeBencode(dict);
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
          return;
        }
        expect({ ...(decodeBencode(bytes) as object) }).toEqual(dict);
      }),
      propertyRuns(500),
    );
  });

  test('random bytes give a value or a BencodeError', () => {
    fc.assert(fc.property(randomBytes(64), checkBounded), propertyRuns(1000));
  });

  test('random bytes over the bencode alphabet give a value or a BencodeError', () => {
    const alphabet = fc.constantFrom(...'ilde0123456789:-'.split('').map((c) => c.charCodeAt(0)));
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 64 }).map((codes) => Buffer.from(codes)), checkBounded), propertyRuns(1000));
  });

  test('damaged valid encodings give a value or a BencodeError, without allocating declared lengths', () => {
    fc.assert(fc.property(mutated(encoded, hostileTokens), checkBounded), propertyRuns(1000));
  });

  test('nesting of any depth gives a value up to the limit and a BencodeError past it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('l', 'd1:a'), (depth, open) => {
        const input = b(open.repeat(depth) + 'le' + 'e'.repeat(depth));
        const result = decodeOrRefuse(input);
        if (depth + 1 <= settings.bencodeMaxDepth) expect(result).not.toBeInstanceOf(BencodeError);
        else expect((result as BencodeError).reason).toMatch(/nesting deeper/);
      }),
      propertyRuns(200),
    );
  });
});
