/**
 * sha1: SHA-1 of 256 KiB pieces on the main thread (a mitata micro benchmark) against the worker
 * pool with 1, 2 and 4 workers. The pool hashes the pieces where downloads leave them, in a
 * shared BlockSlab, through PieceWorkers.hash, so the figures include everything a piece's
 * hashing costs in the peer: posting the task, the worker's hashing and the digest's way back.
 */
import { createHash, randomFillSync } from 'node:crypto';
import os from 'node:os';
import { bench, run } from 'mitata';
import { BlockSlab, slabPieceViews, type SlabPiece } from '../src/io/block-slab.js';
import { PieceWorkers } from '../src/io/piece-workers.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { KiB, MiB, defaultSettings as settings } from '../src/io/settings.js';
import { CHART_PANELS, mbPerSecond, percent, timed, type BenchOptions, type BenchResult, type Benchmark, type Timed } from './benchmark.js';

const PIECE_LENGTH = 256 * KiB;
/**
 * Distinct pieces cycled through: 16 MiB, more than the CPU caches hold, as the pieces of a
 * real download are. The main thread cycles through the same ones.
 */
const DISTINCT_PIECES = 64;
/** Tasks in flight per worker: a worker that finishes one always finds the next one queued. */
const IN_FLIGHT_PER_WORKER = 8;
const POOL_SIZES = [1, 2, 4];
/** Bytes hashed by each pool size. */
const POOL_BYTES = { full: 1024 * MiB, quick: 32 * MiB };
/** One-byte tasks timed on a one-worker pool: what a task costs apart from its hashing. */
const TINY_TASKS = { full: 20_000, quick: 5_000 };

/** Runs tasks 0..count-1, `lanes` at a time, and times them. */
function runTasks(count: number, lanes: number, task: (i: number) => Promise<unknown>): Promise<Timed<void>> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  return timed(async () => {
    await Promise.all(Array.from({ length: lanes }, lane));
  });
}

function sha1(views: readonly Buffer[]): Buffer {
  const hash = createHash('sha1');
  for (const view of views) hash.update(view);
  return hash.digest();
}

/**
 * Times `count` hashes of `pieces` (cycled) on a pool of `size` workers. The pool is warmed
 * first, so that worker start-up is not timed, and its digests are compared with the main
 * thread's, so that a broken worker cannot pass for a fast one.
 */
async function timePool(size: number, slab: BlockSlab, pieces: readonly SlabPiece[], expected: readonly Buffer[], count: number): Promise<Timed<void>> {
  const workers = new PieceWorkers(size, [slab]);
  try {
    const lanes = size * IN_FLIGHT_PER_WORKER;
    await runTasks(lanes, lanes, async (i) => {
      const digest = await workers.hash(pieces[i % pieces.length]);
      if (!digest.equals(expected[i % pieces.length])) throw new Error(`the pool's SHA-1 of piece ${i % pieces.length} differs from the main thread's`);
    });
    return await runTasks(count, lanes, (i) => workers.hash(pieces[i % pieces.length]));
  } finally {
    await workers.destroy();
  }
}

/** Mean time of one main-thread hash of a piece, in nanoseconds, measured by mitata. */
async function mainThread(views: readonly Buffer[][]): Promise<{ avgNs: number; samples: number; coresUsed: number }> {
  let i = 0;
  bench('sha1 256 KiB, main thread', () => sha1(views[i++ % views.length]));
  const { value, coresUsed } = await timed(() => run({ format: 'quiet' }));
  const measured = value.benchmarks[0].runs[0];
  if (measured.stats === undefined) throw measured.error;
  return { avgNs: measured.stats.avg, samples: measured.stats.samples.length, coresUsed };
}

async function measureSha1(options: BenchOptions): Promise<BenchResult> {
  // One slot more than the pieces need, for the one-byte piece of the per-task measurement.
  const slab = new BlockSlab(0, DISTINCT_PIECES * PIECE_LENGTH + settings.blockLength);
  randomFillSync(new Uint8Array(slab.buffer));
  const pieces = Array.from({ length: DISTINCT_PIECES }, () => {
    const slots = slab.allocate(PIECE_LENGTH);
    if (slots === null) throw new Error(`the slab holds fewer than ${DISTINCT_PIECES} pieces`);
    return slab.piece(slots, PIECE_LENGTH);
  });
  const views = pieces.map((piece) => slabPieceViews(slab, piece));
  const expected = views.map(sha1);

  const main = await mainThread(views);
  const mainRate = mbPerSecond(PIECE_LENGTH, main.avgNs / 1e6);

  const poolBytes = options.quick ? POOL_BYTES.quick : POOL_BYTES.full;
  const count = poolBytes / PIECE_LENGTH;
  const pools: { workers: number; mbPerSecond: number; ratio: number; coresUsed: number; mainBusy: number }[] = [];
  for (const size of POOL_SIZES) {
    const timing = await timePool(size, slab, pieces, expected, count);
    const rate = mbPerSecond(poolBytes, timing.ms);
    pools.push({ workers: size, mbPerSecond: rate, ratio: rate / mainRate, coresUsed: timing.coresUsed, mainBusy: timing.mainBusy });
  }

  // A one-byte piece costs next to nothing to hash, so its rate is the rate of the round trip itself.
  const tinySlots = slab.allocate(1);
  if (tinySlots === null) throw new Error('the slab has no slot left for the one-byte piece');
  const tiny = slab.piece(tinySlots, 1);
  const tinyCount = options.quick ? TINY_TASKS.quick : TINY_TASKS.full;
  const tinyRun = await timePool(1, slab, [tiny], [sha1(slabPieceViews(slab, tiny))], tinyCount);
  const taskUs = (tinyRun.ms * 1000) / tinyCount;
  const pieceUs = main.avgNs / 1000;

  return {
    title: `SHA-1 of ${formatSize(PIECE_LENGTH)} pieces: main thread against the worker pool`,
    columns: ['hasher', 'MB/s', 'x main', 'cores used', 'main thread busy'],
    rows: [
      ['main thread (mitata)', mainRate.toFixed(0), '1.00', main.coresUsed.toFixed(2), ''],
      ...pools.map((pool) => [
        `pool of ${pool.workers}`,
        pool.mbPerSecond.toFixed(0),
        pool.ratio.toFixed(2),
        pool.coresUsed.toFixed(2),
        percent(pool.mainBusy),
      ]),
    ],
    notes: [
      `main thread: mean of ${main.samples} mitata samples, ${pieceUs.toFixed(0)} µs per piece`,
      `pools: ${formatSize(poolBytes)} each, ${IN_FLIGHT_PER_WORKER} tasks in flight per worker, pieces cycled from a ${formatSize(DISTINCT_PIECES * PIECE_LENGTH)} slab; workers started and warmed before timing`,
      `pool round trip (one-byte pieces, pool of 1): ${taskUs.toFixed(1)} µs per task, ${percent(taskUs / pieceUs)} of a piece's hashing; main thread busy ${percent(tinyRun.mainBusy)}, ${tinyRun.coresUsed.toFixed(2)} cores used`,
      `cores used: CPU time of the whole process per wall second, out of ${os.availableParallelism()}; the main thread's dispatching counts in it`,
    ],
    chart: [
      {
        title: CHART_PANELS.hashing,
        unit: 'MB/s',
        bars: [
          { label: 'SHA-1 of 256 KiB pieces, main thread', value: mainRate, ours: true },
          ...pools.filter((pool) => pool.workers === 2).map((pool) => ({ label: 'SHA-1 on the pool of 2 workers', value: pool.mbPerSecond, ours: true })),
        ],
      },
    ],
    data: {
      pieceLength: PIECE_LENGTH,
      mainThread: { mbPerSecond: mainRate, avgNs: main.avgNs, samples: main.samples, coresUsed: main.coresUsed },
      poolBytes,
      inFlightPerWorker: IN_FLIGHT_PER_WORKER,
      pools,
      roundTrip: { tasks: tinyCount, microseconds: taskUs, mainBusy: tinyRun.mainBusy, coresUsed: tinyRun.coresUsed },
    },
  };
}

export const sha1Benchmark: Benchmark = {
  name: 'sha1',
  description: 'SHA-1 of 256 KiB pieces, main thread against pools of 1, 2 and 4 workers',
  run: measureSha1,
};
