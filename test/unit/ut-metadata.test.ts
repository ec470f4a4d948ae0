/** The BEP 9 ut_metadata codec: the three messages both ways, and every malformed one refused. */
import { WireProtocolError } from '../../src/main/wire/wire-messages.js';
import {
  METADATA_PIECE_LENGTH,
  decodeMetadataMessage,
  encodeMetadataMessage,
  metadataPieceCount,
} from '../../src/main/wire/ut-metadata.js';

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

function refusal(payload: Buffer): WireProtocolError {
  try {
    decodeMetadataMessage(payload);
  } catch (err) {
    if (err instanceof WireProtocolError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(payload.toString('latin1'))} to be refused`);
}

describe('ut_metadata messages', () => {
  test('are encoded as BEP 9 shows them', () => {
    expect(encodeMetadataMessage({ type: 'request', piece: 0 }).toString('latin1')).toBe('d8:msg_typei0e5:piecei0ee');
    expect(encodeMetadataMessage({ type: 'reject', piece: 3 }).toString('latin1')).toBe('d8:msg_typei2e5:piecei3ee');
    expect(encodeMetadataMessage({ type: 'data', piece: 1, totalSize: 16390, data: text('abcdef') }).toString('latin1')).toBe(
      'd8:msg_typei1e5:piecei1e10:total_sizei16390eeabcdef',
    );
  });

  test('decode to what was encoded, a data message with its bytes after the dictionary', () => {
    const data = Buffer.alloc(METADATA_PIECE_LENGTH, 7);
    for (const message of [
      { type: 'request', piece: 5 },
      { type: 'reject', piece: 0 },
      { type: 'data', piece: 2, totalSize: 3 * METADATA_PIECE_LENGTH, data },
      { type: 'data', piece: 0, totalSize: 1, data: text('d') },
    ] as const) {
      expect(decodeMetadataMessage(encodeMetadataMessage(message))).toEqual(message);
    }
  });

  test('keys in another order and extra keys are accepted', () => {
    expect(decodeMetadataMessage(text('d5:piecei4e8:msg_typei0e1:xi1ee'))).toEqual({ type: 'request', piece: 4 });
  });

  test('an unknown msg_type is reported for the caller to ignore, as BEP 9 asks', () => {
    expect(decodeMetadataMessage(text('d8:msg_typei7e5:piecei0eetrailing'))).toEqual({ type: 'unknown', msgType: 7 });
  });

  test.each([
    ['not bencode', 'hello', /does not start with valid bencode/],
    ['a cut-off dictionary', 'd8:msg_typei0e5:piecei', /does not start with valid bencode/],
    ['a list', 'li0ei0ee', /is not a bencoded dictionary/],
    ['no msg_type', 'd5:piecei0ee', /has no integer "msg_type"/],
    ['a msg_type that is a string', 'd8:msg_type1:05:piecei0ee', /has no integer "msg_type"/],
    ['no piece', 'd8:msg_typei0ee', /has no integer "piece"/],
    ['a negative piece', 'd8:msg_typei0e5:piecei-1ee', /negative "piece" \(-1\)/],
    ['a data message without total_size', 'd8:msg_typei1e5:piecei0eexyz', /has no integer "total_size"/],
    ['a data message with a negative total_size', 'd8:msg_typei1e5:piecei0e10:total_sizei-5eexyz', /negative "total_size"/],
    ['a request with bytes after it', 'd8:msg_typei0e5:piecei0eexyz', /3 bytes after its dictionary/],
    ['a reject with bytes after it', 'd8:msg_typei2e5:piecei0eex', /1 bytes after its dictionary/],
    ['deep nesting', `d8:msg_typei0e5:piecei0e1:x${'l'.repeat(10)}${'e'.repeat(10)}e`, /nesting deeper/],
  ])('%s is refused', (_what, payload, reason) => {
    const err = refusal(text(payload));
    expect(err.reason).toBe('bad-metadata');
    expect(err.message).toMatch(reason);
    expect(err.message).toMatch(/^The peer's ut_metadata message .*; the connection is closed\.$/);
  });

  test('a data message carrying more than one metadata piece is refused', () => {
    const head = text('d8:msg_typei1e5:piecei0e10:total_sizei99999ee');
    expect(decodeMetadataMessage(Buffer.concat([head, Buffer.alloc(METADATA_PIECE_LENGTH)])).type).toBe('data');
    expect(refusal(Buffer.concat([head, Buffer.alloc(METADATA_PIECE_LENGTH + 1)])).message).toMatch(/carries 16385 bytes, more than a metadata piece \(16384\)/);
  });

  test('metadataPieceCount: 16 KiB pieces, the last one shorter', () => {
    expect(metadataPieceCount(0)).toBe(0);
    expect(metadataPieceCount(1)).toBe(1);
    expect(metadataPieceCount(METADATA_PIECE_LENGTH)).toBe(1);
    expect(metadataPieceCount(METADATA_PIECE_LENGTH + 1)).toBe(2);
    expect(metadataPieceCount(16 * 1024 * 1024)).toBe(1024);
  });
});
