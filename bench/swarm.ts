/**
 * swarm: whole swarms of real peer processes over loopback, through the command line this
 * benchmark was compiled with (dist-bench/src/main/cli/shoal.js), on generated data in a
 * temporary folder. One seeder, the torrent's announcer, serves one leecher (1x1), then a fresh
 * seeder serves four leechers started together (1x4). Every leecher's file is checked (size and
 * SHA-1) before its figures count, so that a broken run never passes for a fast one.
 *
 * The peer processes and their sampling are exported for the other benchmarks that run peers
 * (many.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFill } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTorrent, setAnnounce } from '../src/io/metainfo.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import type { StatusDocument } from '../src/main/session.js';
import { KiB, MiB } from '../src/main/settings.js';
import type { SwarmStatus } from '../src/main/swarm/swarm.js';
import { MB, mbPerSecond, withTempFolder, type BenchOptions, type BenchResult, type Benchmark } from './benchmark.js';

/** The peer as built beside this module, not dist/: the benchmark measures the code it was compiled with. */
const SHOAL = fileURLToPath(new URL('../src/main/cli/shoal.js', import.meta.url));
/** The project's root (above dist-bench/), as a URL prefix: profile frames are named by their path inside it. */
const PROJECT_URL = new URL('../../', import.meta.url).href;
export const PIECE_LENGTH = 256 * KiB;
const FILE_NAME = 'swarm.bin';
const GiB = 1024 * MiB;
export const WORKERS = 2;
const SCENARIOS = [
  { name: '1x1', leechers: 1 },
  { name: '1x4', leechers: 4 },
] as const;
/** Period of the /status and /proc sampling of every process. */
export const POLL_MS = 100;
/** A /status that takes longer than this is skipped: the next poll asks again. */
const STATUS_TIMEOUT_MS = 2_000;
/** Bound on the seeder's start-up, which checks the whole file. */
export const SEEDER_START_MS = 60_000;
/** Bound on a clean stop (SIGTERM) before the process is killed. */
const STOP_MS = 10_000;
/**
 * A scenario is given up when its leechers have not finished by the time this rate (all of them
 * together) would have taken, plus a grace for start-up: far below what a working swarm does,
 * so that only a stuck one hits it, yet the run stays bounded.
 */
export const SLOWEST_RATE = 10 * MB;
export const DEADLINE_GRACE_MS = 20_000;
/** Characters of a failed peer's output (the last ones) quoted in the error. */
const OUTPUT_TAIL = 4 * KiB;
/** Functions listed from the leecher's CPU profile. */
const PROFILE_TOP = 10;

const execFileAsync = promisify(execFile);
const randomFillAsync = promisify(randomFill);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface PeerFolders {
  torrents: string;
  shareable: string;
  cache: string;
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

export async function fileSha1(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A TCP port on loopback that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One GET of /status on a fresh connection, so that a peer that exits leaves no pooled socket behind. */
function getStatus(port: number): Promise<StatusDocument> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/status', agent: false, timeout: STATUS_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.once('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as StatusDocument) : reject(new Error(`/status answered ${res.statusCode}`))));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('/status timed out')));
    req.once('error', reject);
  });
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

/** Every peer process not yet exited, to be killed when the runner is stopped by a signal. */
const running = new Set<PeerRun>();

/** SIGKILLs every peer process still running: for withTempFolder's signal handler. */
export function killPeers(): void {
  for (const peer of running) peer.child.kill('SIGKILL');
}

/** One shoal process, sampled (CPU, peak memory, /status) while it runs. */
export class PeerRun {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** performance.now() when the process exited. */
  exitAt: number | undefined;
  exitCode: number | null = null;
  ticks = 0;
  peakRssBytes = 0;
  last: StatusDocument | undefined;
  private output = '';

  constructor(
    readonly label: string,
    readonly port: number,
    folders: PeerFolders,
    peerArgs: readonly string[],
    nodeArgs: readonly string[] = [],
  ) {
    const args = [...nodeArgs, SHOAL, '--port', String(port), '--torrents', folders.torrents, '--shareable', folders.shareable, '--cache', folders.cache];
    this.child = spawn(process.execPath, [...args, '--workers', String(WORKERS), '--quiet', ...peerArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (text: string): void => {
      this.output = (this.output + text).slice(-OUTPUT_TAIL);
    };
    this.child.stdout?.setEncoding('utf8').on('data', keep);
    this.child.stderr?.setEncoding('utf8').on('data', keep);
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

  get swarm(): SwarmStatus | undefined {
    return this.last?.swarms[0];
  }

  /** Reads /proc and /status once; a reading that fails (not listening yet, exiting) keeps the previous one. */
  async sample(): Promise<void> {
    const pid = this.child.pid;
    // Once reaped, the pid may belong to another process.
    if (!this.running || pid === undefined) return;
    const [ticks, rss, status] = await Promise.all([cpuTicks(pid), peakRss(pid), getStatus(this.port).catch(() => undefined)]);
    if (ticks !== undefined) this.ticks = ticks;
    if (rss !== undefined) this.peakRssBytes = Math.max(this.peakRssBytes, rss);
    if (status !== undefined) this.last = status;
  }

  /** What went wrong, for an error message: the last status and the end of the output. */
  describe(): string {
    const state = this.running ? 'running' : `exited with code ${this.exitCode}`;
    const swarms = this.last?.swarms ?? [];
    // With hundreds of swarms the whole status would bury the output: counts and the first one.
    const seeding = swarms.filter((swarm) => swarm.role === 'seeder').length;
    const last = `${swarms.length} swarm(s), ${seeding} seeding; first: ${JSON.stringify(this.swarm ?? null)}`;
    return `${this.label} (port ${this.port}, ${state})\nlast status: ${last}\noutput:\n${this.output || '(none)'}`;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within STOP_MS. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    await Promise.race([this.exited, sleep(STOP_MS)]);
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Samples `peer` every POLL_MS until its /status satisfies `ready`; throws if it exits or `limitMs` passes first. */
export async function untilStatus(peer: PeerRun, ready: (status: StatusDocument) => boolean, limitMs: number, what: string): Promise<StatusDocument> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    await peer.sample();
    if (peer.last !== undefined && ready(peer.last)) return peer.last;
    if (!peer.running || performance.now() > deadline) throw new Error(`the ${peer.label} did not ${what} within ${limitMs / 1000} s: ${peer.describe()}`);
    await sleep(POLL_MS);
  }
}

/** Whether `status` lists `count` swarms, every one a seeder with every piece. */
export function allSeeding(status: StatusDocument, count: number): boolean {
  return status.swarms.length === count && status.swarms.every((swarm) => swarm.role === 'seeder' && swarm.have === swarm.pieces);
}

/**
 * Samples every peer every POLL_MS until all the leechers (--exit-when-done) have exited; throws
 * when one exits with an error, the seeder exits, or `deadlineMs` from `start` passes first.
 * Exited peers are no longer sampled, so the last round reads the seeder after the transfer.
 */
export async function untilLeechersExit(seeder: PeerRun, leechers: readonly PeerRun[], start: number, deadlineMs: number): Promise<void> {
  const peers = [seeder, ...leechers];
  for (;;) {
    await Promise.all(peers.map((peer) => peer.sample()));
    const failed = leechers.find((leecher) => !leecher.running && leecher.exitCode !== 0);
    if (failed) throw new Error(`a leecher failed: ${failed.describe()}`);
    if (!leechers.some((leecher) => leecher.running)) return;
    if (!seeder.running) throw new Error(`the seeder exited during the transfer: ${seeder.describe()}`);
    if (performance.now() - start > deadlineMs) {
      throw new Error(`the leechers did not finish within ${(deadlineMs / 1000).toFixed(0)} s:\n${peers.map((peer) => peer.describe()).join('\n')}`);
    }
    await sleep(POLL_MS);
  }
}

interface ProcessFigures {
  label: string;
  /** From the leechers' start until this leecher exited, its file complete; null for the seeder. */
  completionMs: number | null;
  downloadedBytes: number;
  uploadedBytes: number;
  cpuSeconds: number;
  cpuSecondsPerGiB: number;
  peakRssBytes: number;
  eventLoopDelayP99Ms: number | null;
}

interface ScenarioFigures {
  name: string;
  leechers: number;
  /** Until the last leecher exited. */
  ms: number;
  /** Leechers x size over ms. */
  mbPerSecond: number;
  cpuSeconds: number;
  processes: ProcessFigures[];
  profile: ProfileSummary | null;
}

interface ProfileSummary {
  file: string;
  sampledMs: number;
  idleMs: number;
  top: { function: string; ms: number; share: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A profile's call frame as "function file:line", the file relative to the project (dist-bench/..., node_modules/...) or node's own module name. */
function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const where = frame.url.startsWith(PROJECT_URL) ? frame.url.slice(PROJECT_URL.length) : frame.url;
  return `${name} ${where}:${frame.lineNumber + 1}`;
}

/** Self time per function of a V8 CPU profile (the main thread's), the largest first. */
async function summarizeProfile(file: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, frameName(node.callFrame)]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] leads up to sample i, so the function caught by sample i ran until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const name = frames.get(profile.samples[i]) ?? '(unknown)';
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    totalUs += us;
  }
  const top = [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, PROFILE_TOP)
    .map(([name, us]) => ({ function: name, ms: us / 1000, share: us / totalUs }));
  return { file, sampledMs: totalUs / 1000, idleMs: (selfUs.get('(idle)') ?? 0) / 1000, top };
}

/** The main thread's profile of process `pid` in `folder`: node names it CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile, thread 0 being the main one. */
async function mainThreadProfile(folder: string, pid: number): Promise<string> {
  const pattern = new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`);
  const name = (await readdir(folder)).find((entry) => pattern.test(entry));
  if (name === undefined) throw new Error(`no main-thread CPU profile of process ${pid} in ${folder}`);
  return path.join(folder, name);
}

export async function makeFolders(root: string, shareable?: string): Promise<PeerFolders> {
  const folders = { torrents: path.join(root, 'torrents'), shareable: shareable ?? path.join(root, 'shareable'), cache: path.join(root, 'cache') };
  await Promise.all(Object.values(folders).map((folder) => mkdir(folder, { recursive: true })));
  return folders;
}

interface SwarmData {
  root: string;
  /** The seeders' shareable/, holding the generated file. */
  shareable: string;
  /** The .torrent as made, announcing to some other port: setAnnounce points it at each seeder without hashing again. */
  torrent: Buffer;
  size: number;
  sha1: string;
  clockTicksPerSecond: number;
  profileDir: string | undefined;
}

/** Starts peers in `scenario`, runs them to completion and stops them. */
async function runScenario(data: SwarmData, scenario: (typeof SCENARIOS)[number]): Promise<ScenarioFigures> {
  const peers: PeerRun[] = [];
  const track = (peer: PeerRun): PeerRun => {
    peers.push(peer);
    return peer;
  };
  try {
    const seederPort = await freePort();
    const torrent = setAnnounce(data.torrent, `http://127.0.0.1:${seederPort}/announce`);
    const seederFolders = await makeFolders(path.join(data.root, `${scenario.name}-seeder`), data.shareable);
    await writeFile(path.join(seederFolders.torrents, `${FILE_NAME}.torrent`), torrent);
    const seeder = track(new PeerRun('seeder', seederPort, seederFolders, []));
    await untilStatus(seeder, (status) => allSeeding(status, 1), SEEDER_START_MS, 'come up as a seeder');

    const leecherSetups = await Promise.all(
      Array.from({ length: scenario.leechers }, async (_, i) => {
        const folders = await makeFolders(path.join(data.root, `${scenario.name}-leecher-${i + 1}`));
        await writeFile(path.join(folders.torrents, `${FILE_NAME}.torrent`), torrent);
        return { folders, port: await freePort() };
      }),
    );
    // Only the 1x1 leecher is profiled: with four, the profiler's cost would be spread over a crowded machine.
    const profileDir = scenario.leechers === 1 ? data.profileDir : undefined;
    const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
    await seeder.sample();
    const seederTicksBefore = seeder.ticks;
    const start = performance.now();
    const leechers = leecherSetups.map(({ folders, port }, i) =>
      track(new PeerRun(scenario.leechers === 1 ? 'leecher' : `leecher ${i + 1}`, port, folders, ['--exit-when-done'], nodeArgs)),
    );
    await untilLeechersExit(seeder, leechers, start, DEADLINE_GRACE_MS + ((scenario.leechers * data.size) / SLOWEST_RATE) * 1000);
    const end = Math.max(...leechers.map((leecher) => leecher.exitAt ?? start));

    // A file that is missing, short or different makes the whole scenario fail rather than count.
    await Promise.all(
      leecherSetups.map(async ({ folders }, i) => {
        const file = path.join(folders.shareable, FILE_NAME);
        const info = await stat(file).catch(() => undefined);
        if (info?.size !== data.size) throw new Error(`${leechers[i].label} exited 0 but ${file} ${info ? `holds ${info.size} bytes, not ${data.size}` : 'is missing'}`);
        if ((await fileSha1(file)) !== data.sha1) throw new Error(`${leechers[i].label}'s ${file} differs from the seeder's (SHA-1)`);
      }),
    );

    const figures = (peer: PeerRun, ticks: number, isLeecher: boolean): ProcessFigures => {
      // A fresh leecher's verified downloads are its whole file once that file checked out; a poll may have missed the last pieces.
      const downloadedBytes = isLeecher ? data.size : (peer.swarm?.downloaded ?? 0);
      const uploadedBytes = peer.swarm?.uploaded ?? 0;
      const cpuSeconds = ticks / data.clockTicksPerSecond;
      return {
        label: peer.label,
        completionMs: isLeecher && peer.exitAt !== undefined ? peer.exitAt - start : null,
        downloadedBytes,
        uploadedBytes,
        cpuSeconds,
        cpuSecondsPerGiB: cpuSeconds / ((downloadedBytes + uploadedBytes) / GiB),
        peakRssBytes: peer.peakRssBytes,
        eventLoopDelayP99Ms: peer.last?.eventLoopDelayP99Ms ?? null,
      };
    };
    const processes = [figures(seeder, seeder.ticks - seederTicksBefore, false), ...leechers.map((leecher) => figures(leecher, leecher.ticks, true))];
    const profiledPid = leechers[0].child.pid;
    const profile = profileDir !== undefined && profiledPid !== undefined ? await summarizeProfile(await mainThreadProfile(profileDir, profiledPid)) : null;
    return {
      name: scenario.name,
      leechers: scenario.leechers,
      ms: end - start,
      mbPerSecond: mbPerSecond(scenario.leechers * data.size, end - start),
      cpuSeconds: processes.reduce((sum, p) => sum + p.cpuSeconds, 0),
      processes,
      profile,
    };
  } finally {
    await Promise.all(peers.map((peer) => peer.stop()));
  }
}

export async function clockTicksPerSecond(): Promise<number> {
  const { stdout } = await execFileAsync('getconf', ['CLK_TCK']);
  const ticks = Number(stdout.trim());
  if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK printed "${stdout.trim()}"`);
  return ticks;
}

export const mib = (bytes: number): string => (bytes / MiB).toFixed(0);

function rows(scenario: ScenarioFigures, size: number): string[][] {
  const delivered = scenario.leechers * size;
  return [
    [
      scenario.name,
      (scenario.ms / 1000).toFixed(2),
      scenario.mbPerSecond.toFixed(1),
      mib(delivered),
      scenario.cpuSeconds.toFixed(2),
      (scenario.cpuSeconds / (delivered / GiB)).toFixed(2),
      '',
      '',
    ],
    ...scenario.processes.map((p) => [
      `  ${p.label}`,
      p.completionMs === null ? '' : (p.completionMs / 1000).toFixed(2),
      p.completionMs === null ? '' : mbPerSecond(size, p.completionMs).toFixed(1),
      mib(p.downloadedBytes + p.uploadedBytes),
      p.cpuSeconds.toFixed(2),
      p.cpuSecondsPerGiB.toFixed(2),
      mib(p.peakRssBytes),
      p.eventLoopDelayP99Ms === null ? '' : p.eventLoopDelayP99Ms.toFixed(1),
    ]),
  ];
}

function profileNotes(profile: ProfileSummary): string[] {
  const busyMs = profile.sampledMs - profile.idleMs;
  return [
    `1x1 leecher ran under node --cpu-prof (its figures include the profiler's cost); main thread: ${(profile.sampledMs / 1000).toFixed(2)} s sampled, ${(busyMs / 1000).toFixed(2)} s not idle; profile ${profile.file}`,
    ...profile.top.map((entry) => `self time ${(entry.share * 100).toFixed(1).padStart(4)}% ${entry.ms.toFixed(0).padStart(5)} ms  ${entry.function}`),
  ];
}

async function measureSwarm(options: BenchOptions): Promise<BenchResult> {
  const size = options.swarmSize;
  const cores = os.availableParallelism();
  const clockTicks = await clockTicksPerSecond();
  if (options.swarmProfile !== undefined) await mkdir(options.swarmProfile, { recursive: true });

  const results = await withTempFolder(
    async (root) => {
      const shareable = path.join(root, 'data');
      await mkdir(shareable);
      const file = path.join(shareable, FILE_NAME);
      const sha1 = await generateFile(file, size);
      // Port 1 is never a seeder's: each scenario's seeder gets the torrent re-pointed at its own port.
      const torrent = await createTorrent(file, { announce: 'http://127.0.0.1:1/announce', pieceLength: PIECE_LENGTH });
      const data: SwarmData = { root, shareable, torrent, size, sha1, clockTicksPerSecond: clockTicks, profileDir: options.swarmProfile };
      const scenarios: ScenarioFigures[] = [];
      for (const scenario of SCENARIOS) scenarios.push(await runScenario(data, scenario));
      return scenarios;
    },
    // Ctrl-C reaches the peers too (same process group), but a SIGTERM to the runner alone would not.
    killPeers,
  );

  const profile = results.find((scenario) => scenario.profile !== null)?.profile ?? null;
  return {
    title: `Whole swarms over loopback through the command line: a ${formatSize(size)} file (${Math.ceil(size / PIECE_LENGTH)} pieces of ${formatSize(PIECE_LENGTH)}), every peer --workers ${WORKERS}`,
    columns: ['run / process', 'seconds', 'MB/s', 'moved MiB', 'CPU s', 'CPU s/GiB', 'peak RSS MiB', 'loop p99 ms'],
    rows: results.flatMap((scenario) => rows(scenario, size)),
    notes: [
      'seconds: from spawning the leechers (Node start-up and announce included) until the last one exited (--exit-when-done), its file in shareable/; ' +
        'MB/s: leechers x size over that time; every leecher\'s file checked (size and SHA-1)',
      `CPU: utime+stime of all threads (/proc/<pid>/stat, ${clockTicks} ticks a second) read every ${POLL_MS} ms; a leecher's whole life up to its last reading, the seeder's during the transfer; ` +
        `per GiB of payload it downloaded and uploaded (/status); a run's row: all its processes per GiB delivered to the leechers`,
      `peak RSS: VmHWM (/proc/<pid>/status) read every ${POLL_MS} ms; loop p99: eventLoopDelayP99Ms of the last /status before exit (over the last minute)`,
      ...results.map((scenario) => `${scenario.name}: ${(scenario.cpuSeconds / (scenario.ms / 1000)).toFixed(2)} of ${cores} cores used by the swarm's processes`),
      ...(profile === null ? [] : profileNotes(profile)),
    ],
    data: {
      size,
      pieceLength: PIECE_LENGTH,
      workersPerPeer: WORKERS,
      clockTicksPerSecond: clockTicks,
      scenarios: results,
    },
  };
}

export const swarmBenchmark: Benchmark = {
  name: 'swarm',
  description: 'whole swarms over loopback through the command line: 1 seeder to 1 leecher, then to 4',
  run: measureSwarm,
};
