/**
 * One seeder to some leechers, whichever the client: waiting for the transfer with a bound,
 * checking what arrived, and the figures every run reports, so that ours and the reference
 * clients are measured the same way.
 */
import { createHash, randomFill } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { MiB } from '../src/io/settings.js';
import { mbPerSecond, MB } from './benchmark.js';
import type { SampledProcess } from './sampled-process.js';

export const GiB = 1024 * MiB;
/** Period of the sampling of a transfer's processes: the precision of its first byte and its completion. */
export const TRANSFER_POLL_MS = 50;
/**
 * A transfer is given up when its leechers have not finished by the time this rate (all of them
 * together) would have taken, plus a grace for start-up: far below what a working swarm does,
 * so that only a stuck one hits it, yet the run stays bounded.
 */
export const SLOWEST_RATE = 10 * MB;
/**
 * The same for a reference pair, whose client is not ours to fix: Transmission 3.00 moves about
 * 4 MB/s here and waits about 10 s before its first byte, and it is measured all the same.
 */
export const SLOWEST_REFERENCE_RATE = 2 * MB;
export const DEADLINE_GRACE_MS = 20_000;

/** Bound on a seeder's start-up, which checks the whole file. */
export const SEEDER_START_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const randomFillAsync = promisify(randomFill);

/** The bound on a transfer of `bytes` in all, by clients that move at least `slowestRate` bytes a second. */
export function transferDeadlineMs(bytes: number, slowestRate = SLOWEST_RATE): number {
  return DEADLINE_GRACE_MS + (bytes / slowestRate) * 1000;
}

export interface WaitOptions {
  /** performance.now() when the leechers were spawned. */
  start: number;
  deadlineMs: number;
  /** Whether each leecher exits by itself once complete (ours with --exit-when-done), and is waited for. */
  untilExit: boolean;
  pollMs: number;
  /** The error text for a process, with what its client says of itself. */
  describe?: (process: SampledProcess) => string;
}

/**
 * Samples every process every pollMs until every leecher is complete (and has exited, with
 * untilExit); throws when a leecher exits with an error, the seeder exits, or the deadline passes.
 * A leecher that exits 0 before a sample saw it complete counts as complete when it exited.
 */
export async function untilLeechersDone(seeder: SampledProcess, leechers: readonly SampledProcess[], options: WaitOptions): Promise<void> {
  const all = [seeder, ...leechers];
  const describe = options.describe ?? ((process: SampledProcess) => process.describe());
  for (;;) {
    await Promise.all(all.map((process) => process.sample()));
    for (const leecher of leechers) {
      if (leecher.running) continue;
      if (leecher.exitCode !== 0) throw new Error(`a leecher failed: ${describe(leecher)}`);
      leecher.completeAt ??= leecher.exitAt;
      // Never seen receiving (its /status kept timing out): its whole life bounds the transfer.
      leecher.firstByteAt ??= options.start;
    }
    if (leechers.every((leecher) => leecher.completeAt !== undefined && (!options.untilExit || !leecher.running))) return;
    if (!seeder.running) throw new Error(`the seeder exited during the transfer: ${describe(seeder)}`);
    if (performance.now() - options.start > options.deadlineMs) {
      throw new Error(`the leechers did not finish within ${(options.deadlineMs / 1000).toFixed(0)} s:\n${all.map(describe).join('\n')}`);
    }
    await sleep(options.pollMs);
  }
}

/** Writes `size` random bytes, a fresh random MiB at a time, synced so that write-back does not compete with the swarm; returns their SHA-1. */
export async function generateFile(file: string, size: number): Promise<string> {
  const block = Buffer.allocUnsafe(MiB);
  const hash = createHash('sha1');
  const handle = await open(file, 'wx');
  try {
    for (let position = 0; position < size; position += MiB) {
      const chunk = block.subarray(0, Math.min(MiB, size - position));
      await randomFillAsync(chunk);
      hash.update(chunk);
      let written = 0;
      while (written < chunk.length) {
        written += (await handle.write(chunk, written, chunk.length - written, position + written)).bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export { freePort } from '../src/main/net/free-port.js';

export async function fileSha1(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Throws unless `file` holds `size` bytes whose SHA-1 is `sha1`: a broken run never passes for a fast one. */
export async function requireSameFile(who: string, file: string, size: number, sha1: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info?.size !== size) throw new Error(`${who} finished, but ${file} ${info ? `holds ${info.size} bytes, not ${size}` : 'is missing'}`);
  if ((await fileSha1(file)) !== sha1) throw new Error(`${who}'s ${file} differs from the seeder's (SHA-1)`);
}

export interface ProcessFigures {
  label: string;
  /** From the leechers' start until this leecher completed; null for the seeder. */
  completionMs: number | null;
  /** From this leecher's first payload byte until it completed; null for the seeder. */
  transferMs: number | null;
  downloadedBytes: number;
  uploadedBytes: number;
  cpuSeconds: number;
  cpuSecondsPerGiB: number;
  peakRssBytes: number;
  /** Ours only: the main thread's event-loop delay, from /status. */
  eventLoopDelayP99Ms: number | null;
}

export function processFigures(
  process: SampledProcess,
  ticks: number,
  clockTicks: number,
  moved: { downloadedBytes: number; uploadedBytes: number },
  start: number,
  leecher: boolean,
  eventLoopDelayP99Ms: number | null = null,
): ProcessFigures {
  const cpuSeconds = ticks / clockTicks;
  return {
    label: process.label,
    completionMs: leecher && process.completeAt !== undefined ? process.completeAt - start : null,
    transferMs: leecher && process.completeAt !== undefined && process.firstByteAt !== undefined ? process.completeAt - process.firstByteAt : null,
    ...moved,
    cpuSeconds,
    cpuSecondsPerGiB: cpuSeconds / ((moved.downloadedBytes + moved.uploadedBytes) / GiB),
    peakRssBytes: process.peakRssBytes,
    eventLoopDelayP99Ms,
  };
}

/** One run of a scenario through one client. */
export interface RunFigures {
  /** The scenario: "(a) 1x1", "(b) 1x4". */
  scenario: string;
  /** "shoal", or the reference client with its version. */
  client: string;
  leechers: number;
  size: number;
  /** From spawning the leechers until the last one completed (and exited, for ours). */
  wallMs: number;
  /** From the first payload byte a leecher reported until the last one completed. */
  transferMs: number;
  /** Leechers x size over transferMs. */
  mbPerSecond: number;
  cpuSeconds: number;
  processes: ProcessFigures[];
}

/** The run's figures from its leechers' first byte and completion, as sampled. */
export function runFigures(
  scenario: string,
  client: string,
  size: number,
  leechers: readonly SampledProcess[],
  start: number,
  processes: ProcessFigures[],
  endOf: (leecher: SampledProcess) => number | undefined = (leecher) => leecher.completeAt,
): RunFigures {
  const firstByte = Math.min(...leechers.map((leecher) => leecher.firstByteAt ?? start));
  const complete = Math.max(...leechers.map((leecher) => leecher.completeAt ?? start));
  const end = Math.max(...leechers.map((leecher) => endOf(leecher) ?? start));
  const transferMs = complete - firstByte;
  return {
    scenario,
    client,
    leechers: leechers.length,
    size,
    wallMs: end - start,
    transferMs,
    mbPerSecond: mbPerSecond(leechers.length * size, transferMs),
    cpuSeconds: processes.reduce((sum, p) => sum + p.cpuSeconds, 0),
    processes,
  };
}
