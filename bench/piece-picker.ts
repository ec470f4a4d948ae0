/**
 * piece-picker: the piece picker (src/main/swarm/piece-picker.ts) with 10,000 pieces and 50
 * peers, a mitata micro benchmark of what the swarm asks of it: picking the blocks of a new piece
 * (rarest first, a scan of every piece), and keeping availability up to date when a peer sends
 * HAVE, sends its bitfield, or leaves. Peers' pieces are held in the wire's Bitfield, as the
 * swarm holds them. Then, timed once, the picking and bookkeeping of a whole download.
 */
import { PieceGeometry } from '../src/io/piece-geometry.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { KiB, defaultSettings as settings } from '../src/io/settings.js';
import { PiecePicker } from '../src/main/swarm/piece-picker.js';
import { Bitfield } from '../src/main/wire/bitfield.js';
import { duration, micro, perSecond, seededRandom, timed, type BenchOptions, type BenchResult, type Benchmark, type MicroFigures } from './benchmark.js';

const PIECES = 10_000;
const PEERS = 50;
const PIECE_LENGTH = 256 * KiB;
const BLOCKS_PER_PIECE = PIECE_LENGTH / settings.blockLength;
/** Peers with every piece; the others have each piece with HALF_CHANCE. */
const SEEDERS = 10;
const HALF_CHANCE = 0.5;
/** Share of the pieces we have in the mid-download state the cases start from. */
const HAD = 0.3;
/** Blocks asked per pick in the whole download: two pieces' worth, a fast peer's refill. */
const DOWNLOAD_BATCH = 2 * BLOCKS_PER_PIECE;
/** Pieces of the whole download: --quick makes it smaller, as its cost grows with the square of the count. */
const DOWNLOAD_PIECES = { full: PIECES, quick: 2_000 };
const SEED = 545;

function peerBitfields(pieces: number, random: () => number): Bitfield[] {
  return Array.from({ length: PEERS }, (_, p) => {
    const bits = new Bitfield(pieces);
    for (let i = 0; i < pieces; i++) if (p < SEEDERS || random() < HALF_CHANCE) bits.set(i);
    return bits;
  });
}

/** A new peer's bitfield taken in the way Swarm.onBitfield takes it: each change of the peer's set told to the picker. */
function takeBitfield(picker: PiecePicker, known: Bitfield, bits: Bitfield): void {
  for (let i = 0; i < known.length; i++) {
    const has = bits.has(i);
    if (has === known.has(i)) continue;
    if (has) {
      known.set(i);
      picker.peerHasPiece(i);
    } else {
      known.clear(i);
      picker.peerLostPiece(i);
    }
  }
}

/** A picker in the middle of a download: 30% of the pieces had, every peer's pieces counted, one piece in flight per peer. */
function midDownload(peers: readonly Bitfield[], random: () => number): PiecePicker {
  const picker = new PiecePicker(new PieceGeometry(PIECE_LENGTH, PIECES * PIECE_LENGTH), random);
  for (let i = 0; i < PIECES; i++) if (random() < HAD) picker.markHave(i);
  for (const bits of peers) takeBitfield(picker, new Bitfield(PIECES), bits);
  for (const bits of peers) picker.pick((i) => bits.has(i), BLOCKS_PER_PIECE);
  return picker;
}

interface DownloadFigures {
  pieces: number;
  peers: number;
  picks: number;
  ms: number;
}

/**
 * A whole download from `peerCount` peers (the first of peerBitfields', seeders first), round
 * robin: each pick asks for a fast peer's batch, every block arrives, and a piece with all its
 * blocks is had. Throws unless every piece ends had.
 */
async function wholeDownload(pieces: number, peerCount: number, random: () => number): Promise<DownloadFigures> {
  const peers = peerBitfields(pieces, random).slice(0, peerCount);
  const { value: picks, ms } = await timed(async () => {
    const picker = new PiecePicker(new PieceGeometry(PIECE_LENGTH, pieces * PIECE_LENGTH), random);
    for (const bits of peers) takeBitfield(picker, new Bitfield(pieces), bits);
    let count = 0;
    for (let p = 0; !picker.complete; p = (p + 1) % peers.length) {
      const bits = peers[p];
      // The peer named as the swarm's pipeline names it: its next pick may draw from its last scan's ties.
      const blocks = picker.pick((i) => bits.has(i), DOWNLOAD_BATCH, () => true, [], bits);
      count++;
      for (const block of blocks) if (picker.blockReceived(block.index, block.begin)) picker.markHave(block.index);
      if (count > pieces * PEERS) throw new Error(`the picker had ${picker.piecesHad} of ${pieces} pieces after ${count} picks`);
    }
    return count;
  });
  return { pieces, peers: peers.length, picks, ms };
}

async function measurePiecePicker(options: BenchOptions): Promise<BenchResult> {
  const random = seededRandom(SEED);
  const peers = peerBitfields(PIECES, random);
  const picker = midDownload(peers, random);
  const cases: { name: string; figures: MicroFigures }[] = [];

  let turn = 0;
  // The piece goes back once picked, so that every call starts a new piece from the same state.
  const pickNewPiece = (): number => {
    const bits = peers[turn++ % PEERS];
    const blocks = picker.pick((i) => bits.has(i), BLOCKS_PER_PIECE);
    if (blocks.length !== BLOCKS_PER_PIECE) throw new Error(`a pick gave ${blocks.length} blocks, not a piece's ${BLOCKS_PER_PIECE}`);
    picker.pieceFailed(blocks[0].index);
    return blocks[0].index;
  };
  cases.push({ name: `pick a new piece (${BLOCKS_PER_PIECE} blocks), rarest first`, figures: await micro(pickNewPiece, options.quick) });

  // A leecher among the peers: it has half the pieces and announces one more each call.
  const leecher = peers[SEEDERS];
  const missing = Array.from({ length: PIECES }, (_, i) => i).filter((i) => !leecher.has(i));
  const have = (): boolean => {
    const index = missing[turn++ % missing.length];
    leecher.set(index);
    picker.peerHasPiece(index);
    const interested = picker.wants((i) => leecher.has(i));
    leecher.clear(index);
    picker.peerLostPiece(index);
    return interested;
  };
  cases.push({ name: 'HAVE: availability, interest, then undone', figures: await micro(have, options.quick) });

  const join = (): Bitfield => {
    const known = new Bitfield(PIECES);
    takeBitfield(picker, known, peers[turn++ % PEERS]);
    return known;
  };
  cases.push({ name: `bitfield of a joining peer (${PIECES.toLocaleString('en')} pieces)`, figures: await micro(join, options.quick) });

  const leave = (): number => {
    const bits = peers[turn++ % PEERS];
    for (let i = 0; i < PIECES; i++) if (bits.has(i)) picker.peerLostPiece(i);
    return bits.count;
  };
  cases.push({ name: 'a peer leaves (its pieces uncounted)', figures: await micro(leave, options.quick) });

  const pieces = options.quick ? DOWNLOAD_PIECES.quick : DOWNLOAD_PIECES.full;
  const downloads = [await wholeDownload(pieces, PEERS, random), await wholeDownload(pieces, 1, random)];
  const nsPerPiece = (download: DownloadFigures): number => (download.ms * 1e6) / download.pieces;

  return {
    title: `Piece picker: ${PIECES.toLocaleString('en')} pieces of ${formatSize(PIECE_LENGTH)}, ${PEERS} peers (${SEEDERS} seeders, the others with half the pieces)`,
    columns: ['operation', 'per call', 'calls/s'],
    rows: [
      ...cases.map(({ name, figures }) => [name, duration(figures.medianNs), perSecond(1, figures.medianNs)]),
      ...downloads.map((download) => [
        `whole download of ${download.pieces.toLocaleString('en')} pieces from ${download.peers === 1 ? 'one seeder' : `${download.peers} peers`}, ${DOWNLOAD_BATCH}-block picks`,
        `${(download.ms / 1000).toFixed(2)} s`,
        `${perSecond(1, nsPerPiece(download))} pieces`,
      ]),
    ],
    notes: [
      `the cases start mid-download: ${Math.round(HAD * 100)}% of the pieces had, one piece in flight per peer; median of mitata's samples`,
      'a picked piece is handed back (pieceFailed) so that every call starts a new piece from the same state; HAVE is undone the same way',
      'HAVE: the peer sets the bit, the picker counts it and tells whether we are interested (as the swarm does on each HAVE); bitfield and leave: a loop over every piece, as the swarm does',
      `whole download: timed once, ${downloads[0].picks} picks round robin over the ${PEERS} peers (${duration(nsPerPiece(downloads[0]))} a piece), ` +
        `then ${downloads[1].picks} picks from one seeder, whose picks draw from the ties of its last scan while no HAVE changes them (${duration(nsPerPiece(downloads[1]))} a piece); ` +
        `every block received and every piece had; at 400 MB/s a download finishes ${Math.round(400e6 / PIECE_LENGTH)} pieces a second`,
    ],
    data: {
      pieces: PIECES,
      peers: PEERS,
      seeders: SEEDERS,
      pieceLength: PIECE_LENGTH,
      cases: cases.map(({ name, figures }) => ({ name, callsPerSecond: 1e9 / figures.medianNs, ...figures })),
      wholeDownloads: downloads.map((download) => ({ ...download, nsPerPiece: nsPerPiece(download) })),
    },
  };
}

export const piecePickerBenchmark: Benchmark = {
  name: 'piece-picker',
  description: 'the piece picker with 10,000 pieces and 50 peers: pick, HAVE, bitfield, a peer leaving, a whole download',
  run: measurePiecePicker,
};
