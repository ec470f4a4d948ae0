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

export interface BenchOptions {
  /** Small sizes for a smoke run. */
  quick: boolean;
  /** Bytes of the file the recheck benchmark generates and checks. */
  size: number;
  /** Bytes of the file the swarm benchmark's seeder shares. */
  swarmSize: number;
  /** Folder for the CPU profile (node --cpu-prof) of the swarm benchmark's 1x1 leecher; none when absent. */
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
