/**
 * Bencode (BEP 3), strict and bounded. Byte strings decode to Buffers; dictionary keys decode
 * to latin1 strings so that binary keys (a scrape's info hashes) survive a round trip, and are
 * encoded back the same way, sorted as raw bytes. The decoder records where each value of the
 * top-level dictionary starts and ends, because an info hash is the SHA-1 of the info
 * dictionary's bytes exactly as they stand in the file.
 */
import { defaultSettings } from './settings.js';

export type BencodeValue = number | Buffer | BencodeValue[] | BencodeDict;
export interface BencodeDict {
  [key: string]: BencodeValue;
}
/** What the encoder accepts: strings are written as UTF-8 byte strings. */
export type BencodeInput =
  | number
  | string
  | Uint8Array
  | BencodeInput[]
  | { [key: string]: BencodeInput | undefined };

export class BencodeError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`invalid bencode at byte ${offset}: ${reason}`);
    this.name = 'BencodeError';
  }
}

export interface DecodeOptions {
  maxDepth?: number;
}

export interface DecodedWithSpans {
  value: BencodeValue;
  /** Byte range [start, end) of each value of the top-level dictionary, by key. */
  spans: Map<string, [number, number]>;
}

const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const I = 0x69;
const L = 0x6c;
const D = 0x64;
const E = 0x65;

class Decoder {
  pos = 0;
  readonly spans = new Map<string, [number, number]>();

  constructor(
    private readonly buf: Buffer,
    private readonly maxDepth: number,
  ) {}

  fail(reason: string): never {
    throw new BencodeError(reason, this.pos);
  }

  value(depth: number): BencodeValue {
    if (this.pos >= this.buf.length) this.fail('unexpected end of data');
    const c = this.buf[this.pos];
    if (c === I) return this.integer();
    if (c >= ZERO && c <= NINE) return this.bytes();
    if (c === L || c === D) {
      if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
      return c === L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    this.fail(`unexpected byte 0x${c.toString(16)}`);
  }

  /** Digits of a length or an integer, without leading zeros. */
  digits(terminator: number, allowSign: boolean): number {
    const start = this.pos;
    let negative = false;
    if (allowSign && this.buf[this.pos] === MINUS) {
      negative = true;
      this.pos++;
    }
    const first = this.pos;
    let n = 0;
    while (this.pos < this.buf.length && this.buf[this.pos] !== terminator) {
      const c = this.buf[this.pos];
      if (c < ZERO || c > NINE) this.fail('expected a digit');
      n = n * 10 + (c - ZERO);
      if (!Number.isSafeInteger(n)) this.fail('integer too large');
      this.pos++;
    }
    if (this.pos >= this.buf.length) this.fail('unexpected end of data');
    const count = this.pos - first;
    if (count === 0) this.fail('empty number');
    if (count > 1 && this.buf[first] === ZERO) this.fail('leading zero');
    if (negative && n === 0) {
      this.pos = start;
      this.fail('negative zero');
    }
    this.pos++; // terminator
    return negative ? -n : n;
  }

  integer(): number {
    this.pos++; // 'i'
    return this.digits(E, true);
  }

  bytes(): Buffer {
    const length = this.digits(COLON, false);
    if (this.pos + length > this.buf.length) this.fail('byte string runs past the end');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  list(depth: number): BencodeValue[] {
    this.pos++; // 'l'
    const out: BencodeValue[] = [];
    while (this.buf[this.pos] !== E) {
      if (this.pos >= this.buf.length) this.fail('unterminated list');
      out.push(this.value(depth));
    }
    this.pos++;
    return out;
  }

  dict(depth: number): BencodeDict {
    this.pos++; // 'd'
    const out: BencodeDict = Object.create(null) as BencodeDict;
    while (this.buf[this.pos] !== E) {
      if (this.pos >= this.buf.length) this.fail('unterminated dictionary');
      const c = this.buf[this.pos];
      if (c < ZERO || c > NINE) this.fail('dictionary key is not a byte string');
      const keyBytes = this.bytes();
      const key = keyBytes.toString('latin1');
      // Unsorted keys are tolerated (many real torrents have them), duplicates are not:
      // which of two values is meant cannot be known.
      if (key in out) this.fail('duplicate dictionary key');
      const start = this.pos;
      out[key] = this.value(depth);
      if (depth === 1) this.spans.set(key, [start, this.pos]);
    }
    this.pos++;
    return out;
  }
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Decodes exactly one value that fills the whole input. */
export function decodeBencode(data: Uint8Array, options: DecodeOptions = {}): BencodeValue {
  return decodeBencodeWithSpans(data, options).value;
}

export function decodeBencodeWithSpans(data: Uint8Array, options: DecodeOptions = {}): DecodedWithSpans {
  const decoder = new Decoder(toBuffer(data), options.maxDepth ?? defaultSettings.bencodeMaxDepth);
  // The top level counts as depth 0, so its own dictionary records spans at depth 1.
  const value = decoder.value(0);
  if (decoder.pos !== data.length) decoder.fail('trailing data after the value');
  return { value, spans: decoder.spans };
}

/**
 * Decodes the one value at the start of `data` and says where it ends: a BEP 9 data message is
 * a bencoded dictionary followed by raw bytes that are not bencode.
 */
export function decodeBencodePrefix(data: Uint8Array, options: DecodeOptions = {}): { value: BencodeValue; end: number } {
  const decoder = new Decoder(toBuffer(data), options.maxDepth ?? defaultSettings.bencodeMaxDepth);
  const value = decoder.value(0);
  return { value, end: decoder.pos };
}

/**
 * A key's bytes: one per character, as the decoder reads them. A character above U+00FF has no
 * such byte, and latin1 would silently keep only its low byte, writing another key (or a
 * duplicate one) than the caller meant.
 */
function encodedKey(key: string): Buffer {
  if (/[^\u0000-\u00ff]/.test(key)) {
    throw new TypeError(`bencode dictionary keys are byte strings, one character per byte (latin1); ${JSON.stringify(key)} has a character above U+00FF`);
  }
  return Buffer.from(key, 'latin1');
}

function encodeInto(parts: Buffer[], value: BencodeInput): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`bencode integers must be safe integers, got ${value}`);
    parts.push(Buffer.from(`i${value}e`, 'latin1'));
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
  } else if (value instanceof Uint8Array) {
    parts.push(Buffer.from(`${value.length}:`, 'latin1'), toBuffer(value));
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l', 'latin1'));
    for (const item of value) encodeInto(parts, item);
    parts.push(Buffer.from('e', 'latin1'));
  } else {
    parts.push(Buffer.from('d', 'latin1'));
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .map((k) => ({ k, bytes: encodedKey(k) }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    for (const { k, bytes } of keys) {
      parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
      encodeInto(parts, value[k] as BencodeInput);
    }
    parts.push(Buffer.from('e', 'latin1'));
  }
}

export function encodeBencode(value: BencodeInput): Buffer {
  const parts: Buffer[] = [];
  encodeInto(parts, value);
  return Buffer.concat(parts);
}

/** Typed accessors used by readers of bencoded documents; each returns undefined on a type mismatch. */
export function isDict(v: BencodeValue | undefined): v is BencodeDict {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !Array.isArray(v);
}

export function asBytes(v: BencodeValue | undefined): Buffer | undefined {
  return Buffer.isBuffer(v) ? v : undefined;
}

export function asText(v: BencodeValue | undefined): string | undefined {
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

export function asInteger(v: BencodeValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

export function asList(v: BencodeValue | undefined): BencodeValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}
