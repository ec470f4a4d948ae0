/**
 * wire-parser: the peer wire parser (src/main/wire/wire-parser.ts) in MB/s of received stream,
 * a mitata micro benchmark. The stream is recorded once: the piece messages of a download in
 * 16 KiB blocks, a HAVE after each piece, as a seeder sends them. It is cut into chunks the way
 * sockets deliver it, so that headers and blocks straddle chunk boundaries at odd places, and
 * each timed call parses the whole stream with a fresh parser whose split blocks are copied into
 * a slot (as the swarm's are, into the shared slab).
 */
import { encodeMessage, encodePieceHeader } from '../src/main/wire/wire-codec.js';
import { WireParser } from '../src/main/wire/wire-parser.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { KiB, MiB, defaultSettings as settings } from '../src/io/settings.js';
import { CHART_PANELS, duration, MB, micro, seededRandom, type BenchOptions, type BenchResult, type Benchmark, type MicroFigures } from './benchmark.js';

const PIECE_LENGTH = 256 * KiB;
const BLOCK = settings.blockLength;
/** Bytes of blocks in the recorded stream: more than the CPU caches hold, as a real download's are. */
const STREAM_BYTES = { full: 16 * MiB, quick: 4 * MiB };
/** A loopback socket hands Node reads of up to 64 KiB. */
const SOCKET_READ = 64 * KiB;
/** One TCP segment of an Ethernet LAN, for a peer whose reads arrive segment by segment. */
const SEGMENT = 1460;
const SEED = 8;
/**
 * Untimed parses of every chunking before any is timed: the parser's code paths differ with the
 * chunk sizes, and the first chunking timed would otherwise pay for the optimizer's warm-up.
 */
const WARM_UP_PARSES = 10;

interface Chunking {
  name: string;
  chunks: Buffer[];
}

/** The stream of a seeder's messages for `pieces` pieces: every block, then a HAVE of the piece. */
function recordStream(pieces: number): { stream: Buffer; blocks: number } {
  const parts: Buffer[] = [];
  let blocks = 0;
  for (let index = 0; index < pieces; index++) {
    for (let begin = 0; begin < PIECE_LENGTH; begin += BLOCK) {
      // Each block's bytes say where it belongs, so that the check below catches a misplaced one.
      const block = Buffer.alloc(BLOCK, (index * 31 + begin / BLOCK) & 0xff);
      parts.push(encodePieceHeader(index, begin, BLOCK), block);
      blocks++;
    }
    parts.push(encodeMessage({ kind: 'have', index }));
  }
  return { stream: Buffer.concat(parts), blocks };
}

/** `stream` cut into chunks whose sizes `next` gives, each a copy as a socket's reads are. */
function cut(stream: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = Math.min(next(), stream.length - at);
    chunks.push(Buffer.from(stream.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}

function chunkings(stream: Buffer): Chunking[] {
  const random = seededRandom(SEED);
  return [
    { name: `${SOCKET_READ / KiB} KiB reads (loopback)`, chunks: cut(stream, () => SOCKET_READ) },
    { name: `${SEGMENT}-byte reads (one TCP segment)`, chunks: cut(stream, () => SEGMENT) },
    { name: 'mixed reads, 1 B to 64 KiB', chunks: cut(stream, () => 1 + Math.floor(random() * SOCKET_READ)) },
  ];
}

/** A parser past the handshake, as the swarm sets one up, whose split blocks land in `slot`. */
function makeParser(pieceCount: number, slot: Buffer): WireParser {
  const parser = new WireParser({ expectHandshake: false });
  parser.setPieceCount(pieceCount);
  parser.setBlockDestination((_index, _begin, length) => (length === slot.length ? slot : undefined));
  return parser;
}

/** Parses every chunk with a fresh parser; returns the number of messages. */
function parseAll(chunks: readonly Buffer[], pieceCount: number, slot: Buffer): number {
  const parser = makeParser(pieceCount, slot);
  let events = 0;
  for (const chunk of chunks) {
    const result = parser.push(chunk);
    if (result.error) throw result.error;
    events += result.events.length;
  }
  return events;
}

/**
 * Parses once, untimed, and checks every message against the recording, so that a broken parser
 * never passes for a fast one. A split block is checked when it lands in the slot (it is
 * overwritten by the next one).
 */
function verify(chunking: Chunking, pieces: number, blocks: number): void {
  const parser = makeParser(pieces, Buffer.alloc(BLOCK));
  let pieceMessages = 0;
  let haves = 0;
  for (const chunk of chunking.chunks) {
    const result = parser.push(chunk);
    if (result.error) throw new Error(`the parser refused the recorded stream (${chunking.name}): ${result.error.message}`);
    for (const event of result.events) {
      if (event.kind === 'piece') {
        const expected = (event.index * 31 + event.begin / BLOCK) & 0xff;
        if (event.block.length !== BLOCK || event.block.some((byte) => byte !== expected)) {
          throw new Error(`block ${event.index}:${event.begin} came out of the parser wrong (${chunking.name})`);
        }
        pieceMessages++;
      } else if (event.kind === 'have') {
        haves++;
      } else {
        throw new Error(`the parser gave a ${event.kind} message that the recorded stream does not hold (${chunking.name})`);
      }
    }
  }
  if (pieceMessages !== blocks || haves !== pieces) {
    throw new Error(`the parser gave ${pieceMessages} blocks and ${haves} HAVEs of ${blocks} and ${pieces} recorded (${chunking.name})`);
  }
}

/** Copies every chunk into one buffer: what the bytes would cost with no parsing at all. */
function copyAll(chunks: readonly Buffer[], into: Buffer): number {
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(into, at);
  return at;
}

async function measureWireParser(options: BenchOptions): Promise<BenchResult> {
  const streamBytes = options.quick ? STREAM_BYTES.quick : STREAM_BYTES.full;
  const pieces = streamBytes / PIECE_LENGTH;
  const { stream, blocks } = recordStream(pieces);
  const slot = Buffer.alloc(BLOCK);
  const cases: { name: string; chunks: number; figures: MicroFigures }[] = [];
  const cuts = chunkings(stream);
  for (const chunking of cuts) verify(chunking, pieces, blocks);
  for (let i = 0; i < WARM_UP_PARSES; i++) for (const chunking of cuts) parseAll(chunking.chunks, pieces, slot);
  for (const chunking of cuts) {
    const figures = await micro(() => parseAll(chunking.chunks, pieces, slot), options.quick);
    cases.push({ name: chunking.name, chunks: chunking.chunks.length, figures });
  }
  const sink = Buffer.allocUnsafe(stream.length);
  const loopback = cuts[0];
  const copy = await micro(() => copyAll(loopback.chunks, sink), options.quick);

  const rate = (ns: number): number => stream.length / MB / (ns / 1e9);
  return {
    title: `Wire parser: a recorded stream of ${formatSize(stream.length)} (${blocks} piece messages of ${formatSize(BLOCK)}, ${pieces} HAVEs), parsed whole per call`,
    columns: ['socket reads', 'chunks', 'MB/s', 'per call', 'per message'],
    rows: [
      ...cases.map(({ name, chunks, figures }) => [
        name,
        String(chunks),
        rate(figures.medianNs).toFixed(0),
        duration(figures.medianNs),
        duration(figures.medianNs / (blocks + pieces)),
      ]),
      [`copy only, ${loopback.name}`, String(loopback.chunks.length), rate(copy.medianNs).toFixed(0), duration(copy.medianNs), ''],
    ],
    notes: [
      'MB/s: bytes of the stream (headers included) over the median time of one call (mitata); each call makes a fresh parser and pushes every chunk',
      'a block split over two reads is copied into a 16 KiB slot, as the swarm has it copied into its slab; a block inside one read comes out as a view of it',
      'every message of every chunking was checked against the recording before timing',
      '"copy only": the same chunks copied into one buffer, the floor of what receiving these bytes costs',
    ],
    chart: [{ title: CHART_PANELS.wire, unit: 'MB/s', bars: [{ label: `wire parser, ${cases[0].name}`, value: rate(cases[0].figures.medianNs), ours: true }] }],
    data: {
      streamBytes: stream.length,
      blocks,
      haves: pieces,
      blockLength: BLOCK,
      cases: cases.map(({ name, chunks, figures }) => ({ name, chunks, mbPerSecond: rate(figures.medianNs), ...figures })),
      copyOnly: { mbPerSecond: rate(copy.medianNs), ...copy },
    },
  };
}

export const wireParserBenchmark: Benchmark = {
  name: 'wire-parser',
  description: 'the peer wire parser on a recorded stream of piece messages cut into socket reads, in MB/s',
  run: measureWireParser,
};
