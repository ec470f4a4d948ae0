/**
 * A child process of a benchmark, sampled while it runs: CPU time and peak memory from /proc,
 * and, for a leecher, its download progress as its client reports it (our /status, libtorrent's
 * status, aria2's or Transmission's RPC). The first sample that shows a payload byte and the
 * first that shows the download complete bound its transfer, the same way for every client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { KiB } from '../src/io/settings.js';

/** Bound on a clean stop (SIGTERM) before the process is killed. */
const STOP_MS = 10_000;
/** Characters of a process's output (the last ones) kept for error messages. */
const OUTPUT_TAIL = 4 * KiB;


/** What a leecher's client says of its download. */
export interface Progress {
  /** Payload bytes received so far (blocks or pieces, whichever the client counts). */
  receivedBytes: number;
  /** Every piece verified. */
  complete: boolean;
}

/** utime + stime of every thread of the process, in clock ticks; undefined once it is gone. */
async function cpuTicks(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at field 3 (state).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) in bytes; undefined once the process is gone or a zombie. */
async function peakRss(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * KiB : undefined;
  } catch {
    return undefined;
  }
}

/** Every sampled process not yet exited, to be killed when the runner is stopped by a signal. */
const running = new Set<SampledProcess>();

/** SIGKILLs every sampled process still running: for withTempFolder's signal handler. */
export function killProcesses(): void {
  for (const process of running) process.child.kill('SIGKILL');
}

export class SampledProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** performance.now() when the process exited. */
  exitAt: number | undefined;
  exitCode: number | null = null;
  ticks = 0;
  peakRssBytes = 0;
  /** performance.now() of the first sample whose progress showed a payload byte. */
  firstByteAt: number | undefined;
  /** performance.now() of the first sample whose progress showed the download complete. */
  completeAt: number | undefined;
  progress: Progress | undefined;
  private output = '';
  private partialLine = '';

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
  ) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      this.keep(text);
      const lines = (this.partialLine + text).split('\n');
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => this.keep(text));
    // A command that cannot start (not installed) reports here, then exits.
    this.child.once('error', (error) => this.keep(`\n${error.message}\n`));
    running.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exitAt = performance.now();
        this.exitCode = code;
        running.delete(this);
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.exitAt === undefined;
  }

  private keep(text: string): void {
    this.output = (this.output + text).slice(-OUTPUT_TAIL);
  }

  /** A line of the process's standard output, for clients that report there. */
  protected onLine(_line: string): void {}

  /** The client's progress now, or undefined when it cannot tell (not up yet, not a leecher). */
  protected async readProgress(): Promise<Progress | undefined> {
    return undefined;
  }

  /** Reads /proc and the progress once; a reading that fails (not up yet, exiting) keeps the previous one. */
  async sample(): Promise<void> {
    const pid = this.child.pid;
    // Once reaped, the pid may belong to another process.
    if (!this.running || pid === undefined) return;
    const [ticks, rss, progress] = await Promise.all([cpuTicks(pid), peakRss(pid), this.readProgress().catch(() => undefined)]);
    const now = performance.now();
    if (ticks !== undefined) this.ticks = ticks;
    if (rss !== undefined) this.peakRssBytes = Math.max(this.peakRssBytes, rss);
    if (progress === undefined) return;
    this.progress = progress;
    if (this.firstByteAt === undefined && (progress.receivedBytes > 0 || progress.complete)) this.firstByteAt = now;
    if (this.completeAt === undefined && progress.complete) this.completeAt = now;
  }

  /** What went wrong, for an error message: its state, `detail`, and the end of its output. */
  describe(detail = ''): string {
    const state = this.running ? 'running' : `exited with code ${this.exitCode}`;
    return `${this.label} (${state})${detail === '' ? '' : `\n${detail}`}\noutput:\n${this.output || '(none)'}`;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within `limitMs`. */
  async stop(limitMs = STOP_MS): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    // Cleared once the process has exited, so that the runner does not stay up for the rest of the bound.
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)))]);
    clearTimeout(timer);
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
