/**
 * wire-encoder: the peer wire encoder (src/main/wire/wire-codec.ts), a mitata micro benchmark of
 * the messages a transfer is made of: the seeder's piece messages (the header alone, which is how
 * the peer sends a block from shared memory, and the whole frame with the block copied in), the
 * leecher's requests (a batch in one buffer, as the swarm sends them, and one at a time), and
 * HAVE. Rates are messages per second and MB/s of the bytes they put on the wire.
 */
import { encodeMessage, encodePieceHeader, encodeRequests, PIECE_HEADER_LENGTH } from '../src/main/wire/wire-codec.js';
import type { WireMessage } from '../src/main/wire/wire-messages.js';
import { WireParser } from '../src/main/wire/wire-parser.js';
import { KiB, defaultSettings as settings } from '../src/io/settings.js';
import { CHART_PANELS, duration, MB, micro, perSecond, type BenchOptions, type BenchResult, type Benchmark, type MicroFigures } from './benchmark.js';

const PIECE_LENGTH = 256 * KiB;
const BLOCK = settings.blockLength;
const BLOCKS_PER_PIECE = PIECE_LENGTH / BLOCK;
/** Pieces the encoded messages cycle through: a torrent of 1 GiB. */
const PIECES = 4096;
/** Requests per batch: two pieces' worth, a typical refill of a fast peer's queue. */
const REQUEST_BATCH = 32;
const REQUEST_LENGTH = 4 + 1 + 12;
const HAVE_LENGTH = 4 + 1 + 4;

interface EncoderCase {
  name: string;
  /** Messages one call encodes. */
  messages: number;
  /** Bytes those messages take on the wire. */
  wireBytes: number;
  /** Encodes the call's messages (the timed part); `i` counts calls. */
  encode: (i: number) => Buffer;
  /** The bytes on the wire for call `i`, when the encoding is only part of them (a header before its block). */
  onWire?: (i: number) => Buffer;
  /** Its label on the chart, for the cases drawn there. */
  chartLabel?: string;
  /** What the parser must read back from one call's output, for the check before timing. */
  expected: (i: number) => WireMessage[];
}

function blockAt(i: number): { index: number; begin: number } {
  return { index: Math.floor(i / BLOCKS_PER_PIECE) % PIECES, begin: (i % BLOCKS_PER_PIECE) * BLOCK };
}

function requestBatch(i: number): { index: number; begin: number; length: number }[] {
  return Array.from({ length: REQUEST_BATCH }, (_, k) => ({ ...blockAt(i * REQUEST_BATCH + k), length: BLOCK }));
}

function encoderCases(block: Buffer): EncoderCase[] {
  // Built beforehand, as the picker hands the swarm its blocks: only the encoding is timed.
  const batches = Array.from({ length: PIECES / 2 }, (_, i) => requestBatch(i));
  return [
    {
      name: 'piece: header only (block sent from its slab view)',
      messages: 1,
      wireBytes: PIECE_HEADER_LENGTH + BLOCK,
      encode: (i) => {
        const { index, begin } = blockAt(i);
        return encodePieceHeader(index, begin, BLOCK);
      },
      onWire: (i) => {
        const { index, begin } = blockAt(i);
        return Buffer.concat([encodePieceHeader(index, begin, BLOCK), block]);
      },
      expected: (i) => [{ kind: 'piece', ...blockAt(i), block }],
    },
    {
      name: 'piece: whole frame, block copied in',
      chartLabel: 'wire encoder, piece frames',
      messages: 1,
      wireBytes: PIECE_HEADER_LENGTH + BLOCK,
      encode: (i) => encodeMessage({ kind: 'piece', ...blockAt(i), block }),
      expected: (i) => [{ kind: 'piece', ...blockAt(i), block }],
    },
    {
      name: `request: batch of ${REQUEST_BATCH} in one buffer`,
      messages: REQUEST_BATCH,
      wireBytes: REQUEST_BATCH * REQUEST_LENGTH,
      encode: (i) => encodeRequests(batches[i % batches.length]),
      expected: (i) => batches[i % batches.length].map((request) => ({ kind: 'request', ...request })),
    },
    {
      name: 'request: one message',
      messages: 1,
      wireBytes: REQUEST_LENGTH,
      encode: (i) => encodeMessage({ kind: 'request', ...blockAt(i), length: BLOCK }),
      expected: (i) => [{ kind: 'request', ...blockAt(i), length: BLOCK }],
    },
    {
      name: 'have',
      messages: 1,
      wireBytes: HAVE_LENGTH,
      encode: (i) => encodeMessage({ kind: 'have', index: i % PIECES }),
      expected: (i) => [{ kind: 'have', index: i % PIECES }],
    },
  ];
}

/** Encodes a few calls' worth and parses them back, so that a broken encoder never passes for a fast one. */
function verify(encoderCase: EncoderCase): void {
  for (const i of [0, 1, 17, 4095]) {
    const bytes = (encoderCase.onWire ?? encoderCase.encode)(i);
    if (bytes.length !== encoderCase.wireBytes) throw new Error(`${encoderCase.name}: ${bytes.length} bytes, expected ${encoderCase.wireBytes}`);
    const parser = new WireParser({ expectHandshake: false });
    parser.setPieceCount(PIECES);
    const { events, error } = parser.push(bytes);
    if (error) throw new Error(`${encoderCase.name}: the parser refused the encoding: ${error.message}`);
    const got = JSON.stringify(events);
    const want = JSON.stringify(encoderCase.expected(i));
    if (got !== want) throw new Error(`${encoderCase.name}: encoded ${got}, expected ${want}`);
  }
}

async function measureWireEncoder(options: BenchOptions): Promise<BenchResult> {
  const block = Buffer.alloc(BLOCK, 0xa5);
  const cases: { encoderCase: EncoderCase; figures: MicroFigures }[] = [];
  for (const encoderCase of encoderCases(block)) {
    verify(encoderCase);
    let i = 0;
    cases.push({ encoderCase, figures: await micro(() => encoderCase.encode(i++), options.quick) });
  }
  const rate = (bytes: number, ns: number): number => bytes / MB / (ns / 1e9);
  return {
    title: `Wire encoder: the messages of a transfer in ${BLOCK / KiB} KiB blocks`,
    columns: ['message', 'messages/s', 'per message', 'wire MB/s'],
    rows: cases.map(({ encoderCase, figures }) => [
      encoderCase.name,
      perSecond(encoderCase.messages, figures.medianNs),
      duration(figures.medianNs / encoderCase.messages),
      rate(encoderCase.wireBytes, figures.medianNs).toFixed(0),
    ]),
    notes: [
      'median time of one call (mitata); wire MB/s: the bytes the messages take on the wire (a piece message counts its block) over that time',
      'the header-only piece is how the peer uploads: a 13-byte header, then the block written from its slab view without a copy',
      'every case was parsed back and compared before timing',
    ],
    chart: [
      {
        title: CHART_PANELS.wire,
        unit: 'MB/s',
        bars: cases.flatMap(({ encoderCase, figures }) =>
          encoderCase.chartLabel === undefined ? [] : [{ label: encoderCase.chartLabel, value: rate(encoderCase.wireBytes, figures.medianNs), ours: true }],
        ),
      },
    ],
    data: {
      blockLength: BLOCK,
      requestBatch: REQUEST_BATCH,
      cases: cases.map(({ encoderCase, figures }) => ({
        name: encoderCase.name,
        messagesPerCall: encoderCase.messages,
        wireBytesPerCall: encoderCase.wireBytes,
        messagesPerSecond: encoderCase.messages / (figures.medianNs / 1e9),
        wireMbPerSecond: rate(encoderCase.wireBytes, figures.medianNs),
        ...figures,
      })),
    },
  };
}

export const wireEncoderBenchmark: Benchmark = {
  name: 'wire-encoder',
  description: 'the peer wire encoder: piece messages, request batches and HAVE, in messages/s and MB/s',
  run: measureWireEncoder,
};
