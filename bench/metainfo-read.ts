/**
 * metainfo-read: reading a .torrent of 10,000 files (src/io/metainfo.ts), a mitata micro
 * benchmark. The torrent is generated in memory with our bencode encoder: files in a hundred
 * folders, of sizes spread from a few KiB to a few MiB, with their piece hashes. Timed: the
 * bencode decoding alone, and parseMetainfo (decoding, every path checked, the info hash).
 */
import { randomBytes } from 'node:crypto';
import { decodeBencode, encodeBencode } from '../src/io/bencode.js';
import { parseMetainfo } from '../src/io/metainfo.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { KiB, MiB } from '../src/io/settings.js';
import { duration, MB, micro, seededRandom, type BenchOptions, type BenchResult, type Benchmark, type MicroFigures } from './benchmark.js';

/** --quick reads a smaller torrent: a smoke run has no time for a dozen reads of the large one. */
const FILES = { full: 10_000, quick: 1_000 };
const FOLDERS = 100;
const PIECE_LENGTH = MiB;
/** File sizes are spread evenly, on a log scale, between these. */
const SMALLEST_FILE = 4 * KiB;
const LARGEST_FILE = 4 * MiB;
const SEED = 10_000;

function generateTorrent(count: number): { torrent: Buffer; totalLength: number; pieces: number } {
  const random = seededRandom(SEED);
  const spread = Math.log(LARGEST_FILE / SMALLEST_FILE);
  const files = Array.from({ length: count }, (_, i) => ({
    length: Math.round(SMALLEST_FILE * Math.exp(random() * spread)),
    path: [`folder-${String(i % FOLDERS).padStart(3, '0')}`, `track ${String(i).padStart(5, '0')} of the album.flac`],
  }));
  const totalLength = files.reduce((sum, file) => sum + file.length, 0);
  const pieces = Math.ceil(totalLength / PIECE_LENGTH);
  const torrent = encodeBencode({
    announce: 'http://127.0.0.1:6881/announce',
    'created by': 'shoal bench',
    'creation date': 1_700_000_000,
    info: { name: 'ten thousand files', 'piece length': PIECE_LENGTH, pieces: randomBytes(20 * pieces), files },
  });
  return { torrent, totalLength, pieces };
}

async function measureMetainfoRead(options: BenchOptions): Promise<BenchResult> {
  const count = options.quick ? FILES.quick : FILES.full;
  const { torrent, totalLength, pieces } = generateTorrent(count);
  const meta = parseMetainfo(torrent);
  if (meta.files.length !== count || meta.totalLength !== totalLength || meta.pieceCount !== pieces) {
    throw new Error(`parseMetainfo read ${meta.files.length} files, ${meta.totalLength} bytes, ${meta.pieceCount} pieces of ${count}, ${totalLength}, ${pieces} written`);
  }
  const cases: { name: string; figures: MicroFigures }[] = [
    { name: 'bencode decoding alone', figures: await micro(() => decodeBencode(torrent), options.quick) },
    { name: 'parseMetainfo (decode, check, info hash)', figures: await micro(() => parseMetainfo(torrent), options.quick) },
  ];
  const rate = (ns: number): number => torrent.length / MB / (ns / 1e9);
  return {
    title: `Reading a .torrent of ${count.toLocaleString('en')} files in ${FOLDERS} folders (${formatSize(torrent.length)}; ${formatSize(totalLength)} in ${pieces} pieces of ${formatSize(PIECE_LENGTH)})`,
    columns: ['step', 'per read', 'MB/s', 'files/s'],
    rows: cases.map(({ name, figures }) => [name, duration(figures.medianNs), rate(figures.medianNs).toFixed(0), `${((count / figures.medianNs) * 1e9 / 1e6).toFixed(2)} M`]),
    notes: ['generated in memory with our bencode encoder; median of mitata samples; MB/s of .torrent bytes'],
    data: {
      files: count,
      torrentBytes: torrent.length,
      totalLength,
      pieces,
      cases: cases.map(({ name, figures }) => ({ name, mbPerSecond: rate(figures.medianNs), filesPerSecond: (count / figures.medianNs) * 1e9, ...figures })),
    },
  };
}

export const metainfoReadBenchmark: Benchmark = {
  name: 'metainfo-read',
  description: 'reading a .torrent of 10,000 files (--quick: 1,000): bencode decoding and parseMetainfo',
  run: measureMetainfoRead,
};
