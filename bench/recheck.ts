/**
 * recheck: how fast TorrentData.open() checks complete data found in shareable/, on a pool of
 * one worker per core, against the most this machine can hash: `openssl speed`'s single-core
 * SHA-1 rate times the core count. The goal (not asserted) is 0.9 of that or more.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseMetainfo } from '../src/io/metainfo.js';
import { createTorrent } from '../src/io/torrent-maker.js';
import { PieceWorkers } from '../src/io/piece-workers.js';
import { TorrentData } from '../src/io/torrent-data.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { KiB, MiB, defaultSettings as settings } from '../src/io/settings.js';
import { CHART_PANELS, MB, mbPerSecond, percent, target, timed, withTempFolder, type BenchOptions, type BenchResult, type Benchmark } from './benchmark.js';

const PIECE_LENGTH = 256 * KiB;
/** The generated file is this block, written over and over with a stamp that varies per MiB. */
const FILL_LENGTH = MiB;
/** The run behind the baseline; `-bytes` measures only the 16 KiB column instead of all six sizes. */
const OPENSSL_ARGS = ['speed', '-seconds', '2', '-bytes', '16384', '-evp', 'sha1'];
const OPENSSL_BLOCK = 16384;
const GOAL = 0.9;
/** Share of the file in the page cache above which the recheck hardly touched the disk. */
const MOSTLY_CACHED = 0.95;

const run = promisify(execFile);

/**
 * Writes `size` random-looking bytes fast: one crypto-random MiB, with the MiB's number stamped
 * into each of its blocks so that no two pieces are alike. Synced, so that write-back does not
 * compete with the recheck for the CPU.
 */
async function generateFile(file: string, size: number): Promise<void> {
  const block = randomBytes(FILL_LENGTH);
  const handle = await open(file, 'wx');
  try {
    for (let position = 0; position < size; position += FILL_LENGTH) {
      for (let at = 0; at < FILL_LENGTH; at += settings.blockLength) block.writeUInt32LE(position / FILL_LENGTH, at);
      const length = Math.min(FILL_LENGTH, size - position);
      let written = 0;
      while (written < length) {
        written += (await handle.write(block, written, length - written, position + written)).bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One core's SHA-1 rate in bytes per second, from openssl, or (a string) why there is none. */
async function opensslSha1Rate(): Promise<number | string> {
  let stdout: string;
  try {
    ({ stdout } = await run('openssl', OPENSSL_ARGS));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'openssl is not installed' : `openssl speed failed: ${(err as Error).message.split('\n')[0]}`;
  }
  // "type  16384 bytes" names the columns; "sha1  1210543.54k" holds them, in 1000s of bytes per second.
  const sizes = [...(/^type\s+(.*)$/m.exec(stdout)?.[1] ?? '').matchAll(/(\d+) bytes/g)].map((m) => Number(m[1]));
  const rates = [...(/^sha1\s+(.*)$/im.exec(stdout)?.[1] ?? '').matchAll(/([\d.]+)k/g)].map((m) => Number(m[1]) * 1000);
  const column = sizes.indexOf(OPENSSL_BLOCK);
  if (column < 0 || rates[column] === undefined) return `no ${OPENSSL_BLOCK}-byte sha1 figure in the output of openssl ${OPENSSL_ARGS.join(' ')}`;
  return rates[column];
}

/** Bytes of the file in the page cache, by fincore (util-linux), or (a string) why that is unknown. */
async function residentBytes(file: string): Promise<number | string> {
  try {
    const { stdout } = await run('fincore', ['--bytes', '--noheadings', '--output', 'RES', file]);
    const bytes = Number(stdout.trim());
    return Number.isFinite(bytes) ? bytes : `fincore printed "${stdout.trim()}"`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'fincore is not installed' : `fincore failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

async function measureRecheck(options: BenchOptions): Promise<BenchResult> {
  const cores = os.availableParallelism();
  const size = options.size;
  const openssl = await opensslSha1Rate();

  const figures = await withTempFolder(async (root) => {
    const folders = { shareable: path.join(root, 'shareable'), cache: path.join(root, 'cache') };
    await mkdir(folders.shareable);
    await mkdir(folders.cache);
    const file = path.join(folders.shareable, 'recheck.bin');
    const write = await timed(() => generateFile(file, size));
    const create = await timed(() => createTorrent(file, { announce: 'http://127.0.0.1:6881/announce', pieceLength: PIECE_LENGTH }));
    const meta = parseMetainfo(create.value);
    const resident = await residentBytes(file);

    const workers = new PieceWorkers(cores, []);
    try {
      const data = new TorrentData(meta, folders, workers);
      // Workers start when the pool is made; a first round of checks waits for them to load, so
      // start-up (which a long-running peer pays once) is not timed.
      const warmUp = data.pieceLocation(0, 'shareable');
      await Promise.all(Array.from({ length: cores * 2 }, () => workers.checkRun(new Uint8Array(20), [warmUp])));

      const recheck = await timed(() => data.open(false));
      if (data.location !== 'shareable' || recheck.value.pieces.length !== meta.pieceCount) {
        throw new Error(`the recheck found ${recheck.value.pieces.length} of ${meta.pieceCount} pieces good in ${data.location}/; the benchmark's data is wrong`);
      }
      return { writeMs: write.ms, createMs: create.ms, recheck, resident, pieces: meta.pieceCount };
    } finally {
      await workers.destroy();
    }
  });

  const recheckRate = mbPerSecond(size, figures.recheck.ms);
  const single = typeof openssl === 'number' ? openssl / MB : undefined;
  const ceiling = single === undefined ? undefined : single * cores;
  const versus = (rate: number): string => (ceiling === undefined ? '' : (rate / ceiling).toFixed(2));
  const row = (name: string, rate: number, ms: number | undefined, hashing: boolean): string[] => [
    name,
    rate.toFixed(0),
    ms === undefined ? '' : (ms / 1000).toFixed(2),
    hashing ? versus(rate) : '',
  ];

  const cache =
    typeof figures.resident !== 'number'
      ? `the file had just been written, so it was most likely in the page cache (not checked: ${figures.resident})`
      : `the file had just been written: ${percent(figures.resident / size)} of it was in the page cache just before the recheck (fincore), ` +
        (figures.resident >= MOSTLY_CACHED * size ? 'so the recheck measured hashing and memory copies, hardly the disk' : 'the rest was read from the disk');
  return {
    title: `Recheck of a ${formatSize(size)} file in shareable/ (${figures.pieces} pieces of ${formatSize(PIECE_LENGTH)}), pool of ${cores} workers`,
    columns: ['step', 'MB/s', 'seconds', `x ${cores} x openssl`],
    rows: [
      row('write the file (+ fsync)', mbPerSecond(size, figures.writeMs), figures.writeMs, false),
      row('createTorrent (main thread)', mbPerSecond(size, figures.createMs), figures.createMs, true),
      row('TorrentData.open() recheck', recheckRate, figures.recheck.ms, true),
      ...(single === undefined
        ? []
        : [row('openssl sha1, one core', single, undefined, true), row(`openssl sha1 x ${cores} cores`, single * cores, undefined, true)]),
    ],
    notes: [
      cache,
      ...(ceiling === undefined
        ? [`no openssl baseline: ${openssl}`]
        : [
            `recheck / (${cores} cores x openssl single core) = ${(recheckRate / ceiling).toFixed(2)} (goal ${GOAL} or more, not asserted)`,
            `openssl ${OPENSSL_ARGS.join(' ')}: the ${OPENSSL_BLOCK}-byte column, in 1000s of bytes per second`,
          ]),
      `during the recheck: ${figures.recheck.coresUsed.toFixed(2)} of ${cores} cores used by this process, main thread busy ${percent(figures.recheck.mainBusy)}; pool started and warmed before timing`,
    ],
    chart: [
      {
        title: CHART_PANELS.hashing,
        unit: 'MB/s',
        bars: [
          { label: `recheck of ${formatSize(size)}, pool of ${cores}`, value: recheckRate, ours: true },
          ...(ceiling === undefined ? [] : [{ label: `openssl sha1 x ${cores} cores (ceiling)`, value: ceiling, ours: false }]),
        ],
      },
    ],
    targets: [
      target(`recheck / (${cores} cores x openssl sha1)`, ceiling === undefined ? null : recheckRate / ceiling, GOAL, (v) => v.toFixed(2), {
        missing: typeof openssl === 'string' ? openssl : undefined,
      }),
    ],
    data: {
      size,
      pieceLength: PIECE_LENGTH,
      pieces: figures.pieces,
      workers: cores,
      writeMs: figures.writeMs,
      createTorrentMs: figures.createMs,
      recheckMs: figures.recheck.ms,
      recheckMbPerSecond: recheckRate,
      recheckCoresUsed: figures.recheck.coresUsed,
      recheckMainBusy: figures.recheck.mainBusy,
      residentBytesBeforeRecheck: typeof figures.resident === 'number' ? figures.resident : null,
      opensslSingleCoreMbPerSecond: single ?? null,
      ratioToCoresTimesOpenssl: ceiling === undefined ? null : recheckRate / ceiling,
      ...(typeof openssl === 'string' && { opensslMissing: openssl }),
    },
  };
}

export const recheckBenchmark: Benchmark = {
  name: 'recheck',
  description: 'TorrentData.open() on complete data, against openssl speed x cores',
  run: measureRecheck,
};
