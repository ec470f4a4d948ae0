/**
 * What every benchmark of `npm run bench` gives the runner, and the formatting they share.
 * Rates are in MB/s of 10^6 bytes, the unit `openssl speed` reports in, so that our figures
 * and openssl's compare without conversion.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { do_not_optimize, measure } from 'mitata';
import { MiB } from '../src/io/settings.js';
import type { ChartPanel } from './svg-chart.js';

export interface BenchOptions {
  /** Small sizes for a smoke run. */
  quick: boolean;
  /** Bytes of the file the recheck benchmark checks and the swarm benchmark's (a), 1 seeder to 1 leecher, shares. */
  size: number;
  /** Bytes of the file the swarm benchmark's (b), 1 seeder to 4 leechers, shares. */
  swarmSize: number;
  /** Folder for the CPU profile (node --cpu-prof) of the swarm benchmark's (a) leecher; none when absent. */
  swarmProfile: string | undefined;
}

export interface BenchResult {
  /** One line saying what was measured. */
  title: string;
  columns: string[];
  rows: string[][];
  /** Lines printed under the table: the conditions the figures depend on. */
  notes: string[];
  /** The raw figures, unrounded, for bench/results/latest.json. */
  data: Record<string, unknown>;
  /** Parts that failed while the rest ran (a reference client that broke): the run's exit code says so. */
  failures?: string[];
  /** Bars for bench/results/latest.svg; panels of the same title from several benchmarks are drawn as one. */
  chart?: ChartPanel[];
  /** The targets this benchmark measures. */
  targets?: TargetCheck[];
}

/** Titles of the chart's panels that several benchmarks add bars to. */
export const CHART_PANELS = {
  hashing: 'SHA-1 of 256 KiB pieces and the recheck of complete data (MB/s)',
  wire: 'The peer wire in one process (MB/s of stream)',
  swarms: 'Whole swarms of our peers over loopback (MB/s delivered to the leechers)',
} as const;

/** A target of the issue, as this run measured it. */
export interface TargetCheck {
  name: string;
  /** The goal as people read it: ">= 1.0", "< 20 ms". */
  goal: string;
  value: number | null;
  /** The value as printed, or why there is none. */
  measured: string;
  /** null when nothing was measured (a reference client not installed). */
  met: boolean | null;
}

/** A target met when `value` is at least `goal`, or below it with `atMost` (at most it with `inclusive` too). */
export function target(
  name: string,
  value: number | null,
  goal: number,
  format: (v: number) => string,
  options: { atMost?: boolean; inclusive?: boolean; missing?: string } = {},
): TargetCheck {
  const goalText = `${options.atMost ? (options.inclusive ? '<=' : '<') : '>='} ${format(goal)}`;
  if (value === null || !Number.isFinite(value)) return { name, goal: goalText, value: null, measured: options.missing ?? 'not measured', met: null };
  const met = options.atMost ? (options.inclusive ? value <= goal : value < goal) : value >= goal;
  return { name, goal: goalText, value, measured: format(value), met };
}

export interface Benchmark {
  /** What `--only` selects it by. */
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

export const MB = 1e6;

export function mbPerSecond(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

/** Bytes in whole MiB, for tables of memory and amounts moved. */
export function mib(bytes: number): string {
  return (bytes / MiB).toFixed(0);
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

export interface Timed<T> {
  value: T;
  ms: number;
  /**
   * CPU time of this process (every thread) per second of wall time: the cores it had. On a
   * machine shared with other programs this says whether a low rate was ours or theirs.
   */
  coresUsed: number;
  /** Share of the time the main thread's event loop was busy rather than waiting. */
  mainBusy: number;
}

/** Runs `work` and returns its result with the time it took and what it used meanwhile. */
export async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { value, ms, coresUsed: (used.user + used.system) / 1000 / ms, mainBusy: performance.eventLoopUtilization(loop).utilization };
}

/**
 * mitata's minimum CPU time and sample count per measured case: its own defaults for a full run
 * (enough samples to steady the median on a noisy machine), a tenth of a second and a few samples
 * for --quick, which only has to show that every case still runs.
 */
const MICRO_LIMITS = { full: { min_cpu_time: 642e6, min_samples: 12 }, quick: { min_cpu_time: 100e6, min_samples: 4 } };

export interface MicroFigures {
  /** Median time of one call, in nanoseconds: steadier than the mean when other programs share the cores. */
  medianNs: number;
  meanNs: number;
  p99Ns: number;
  /** Calls timed (mitata batches fast calls, so this may exceed its sample count). */
  calls: number;
}

/** Times `work` with mitata; its result is kept from the optimizer, so it must return what it computed. */
export async function micro(work: () => unknown, quick: boolean): Promise<MicroFigures> {
  const stats = await measure(() => do_not_optimize(work()), quick ? MICRO_LIMITS.quick : MICRO_LIMITS.full);
  return { medianNs: stats.p50, meanNs: stats.avg, p99Ns: stats.p99, calls: stats.ticks };
}

/**
 * A repeatable stream of numbers in [0, 1) (mulberry32): benchmarks generate the same inputs on
 * every run, so that two runs differ only in how fast they went.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A count per second, in the units people read: 12.3 k/s, 4.56 M/s. */
export function perSecond(count: number, ns: number): string {
  const rate = count / (ns / 1e9);
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M/s`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k/s`;
  return `${rate.toFixed(0)} /s`;
}

/** A duration in the unit that suits it: 850 ns, 12.3 µs, 4.56 ms. */
export function duration(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** The table as lines: the first column (names) aligned left, the figures aligned right. */
export function renderTable(columns: readonly string[], rows: readonly string[][]): string[] {
  const widths = columns.map((column, i) => Math.max(column.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}

/**
 * Runs `work` with a fresh folder under the system's temporary folder, removed afterwards even
 * on error or Ctrl-C. On a signal, `onSignal` runs first (to kill processes still writing there).
 */
export async function withTempFolder<T>(work: (root: string) => Promise<T>, onSignal: () => void = () => undefined): Promise<T> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'shoal-bench-'));
  // A signal skips `finally`; a file of a gigabyte must not stay behind in /tmp all the same.
  const handler = (signal: NodeJS.Signals): void => {
    onSignal();
    // A killed process may have been creating a file in there a moment ago: retry a non-empty folder.
    rmSync(root, { recursive: true, force: true, maxRetries: 5 });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  try {
    return await work(root);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    await rm(root, { recursive: true, force: true });
  }
}
