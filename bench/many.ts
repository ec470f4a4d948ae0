/**
 * many: one peer with many swarms, through the command line, over loopback, on generated data
 * in a temporary folder (the processes and their sampling are swarm.ts's).
 *
 * - transfer (200x4MiB): one seeder, the announcer of every torrent, serves one leecher that has
 *   the same .torrent files and empty folders; the time is until the leecher exits with
 *   --exit-when-done. Every file must then have its size and SHA-1, so that a broken run never
 *   passes for a fast one. Its last /status is no proof either way: the leecher may complete its
 *   last pieces and exit between two polls.
 * - startup (startup-10000): a seeder of many one-piece torrents, started on fresh folders and
 *   again from fast resume, announcing to a tracker of the runner's own (seeder-startup.ts).
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTorrent } from '../src/io/torrent-maker.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import type { StatusDocument } from '../src/main/session.js';
import { MiB } from '../src/io/settings.js';
import { CHART_PANELS, MB, mbPerSecond, mib, target, withTempFolder, type BenchOptions, type BenchResult, type Benchmark } from './benchmark.js';
import { killProcesses } from './sampled-process.js';
import { runStartup, STARTUP_FILE_SIZE, STARTUP_TORRENTS, startupNotes, startupRows, startupTargets } from './seeder-startup.js';
import { allSeeding, clockTicksPerSecond, makeFolders, PeerRun, POLL_MS, untilStatus, WORKERS, type PeerFolders } from './shoal-peer.js';
import { PIECE_LENGTH } from './swarm.js';
import { freePort, generateFile, requireSameFile, SEEDER_START_MS, transferDeadlineMs, untilLeechersDone } from './transfer.js';

/** The goal for the seeder's peak memory during the transfer of many torrents. */
const SEEDER_RSS_GOAL = 150 * MB;
const TRANSFER = { full: { torrents: 200, fileSize: 4 * MiB }, quick: { torrents: 20, fileSize: MiB } };

interface GeneratedFile {
  name: string;
  sha1: string;
  torrent: Buffer;
}

/**
 * Writes `count` files of `size` random bytes into `folder`, each with a .torrent announcing to
 * `port` on loopback, so that the peer listening there is the announcer of all of them.
 */
async function generateTorrents(folder: string, count: number, size: number, pieceLength: number, port: number): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [];
  const width = String(count - 1).length;
  for (let i = 0; i < count; i++) {
    const name = `file-${String(i).padStart(width, '0')}.bin`;
    const file = path.join(folder, name);
    const sha1 = await generateFile(file, size);
    files.push({ name, sha1, torrent: await createTorrent(file, { announce: `http://127.0.0.1:${port}/announce`, pieceLength }) });
  }
  return files;
}

async function writeTorrents(folders: PeerFolders, files: readonly GeneratedFile[]): Promise<void> {
  for (const file of files) await writeFile(path.join(folders.torrents, `${file.name}.torrent`), file.torrent);
}

/** Throws unless every swarm in `status` is served by the peer's own tracker. */
function requireAnnouncer(peer: PeerRun, status: StatusDocument): void {
  const others = status.swarms.filter((swarm) => !swarm.announcer).length;
  if (others > 0) throw new Error(`the ${peer.label} is not the announcer of ${others} of its ${status.swarms.length} swarms`);
}

interface ProcessFigures {
  label: string;
  cpuSeconds: number;
  peakRssBytes: number;
  eventLoopDelayP99Ms: number | null;
}

function processFigures(peer: PeerRun, ticks: number, clockTicks: number): ProcessFigures {
  return { label: peer.label, cpuSeconds: ticks / clockTicks, peakRssBytes: peer.peakRssBytes, eventLoopDelayP99Ms: peer.last?.eventLoopDelayP99Ms ?? null };
}

interface TransferFigures {
  name: string;
  torrents: number;
  fileSize: number;
  /** From spawning the leecher until it exited. */
  ms: number;
  /** torrents x fileSize over ms. */
  mbPerSecond: number;
  /** The seeder's start-up, every piece of every torrent checked, before the leecher was spawned. */
  seederStartMs: number;
  /** The seeder during the transfer, the leecher over its whole life. */
  processes: ProcessFigures[];
}

/** Checks every file's size and SHA-1 against the generated data's. */
async function verifyFiles(folder: string, files: readonly GeneratedFile[], size: number): Promise<void> {
  for (const { name, sha1 } of files) await requireSameFile('the leecher', path.join(folder, name), size, sha1);
}

async function runTransfer(root: string, torrents: number, fileSize: number, clockTicks: number): Promise<TransferFigures> {
  const name = `${torrents}x${fileSize / MiB}MiB`;
  const seederPort = await freePort();
  const seederFolders = await makeFolders(path.join(root, `${name}-seeder`));
  const files = await generateTorrents(seederFolders.shareable, torrents, fileSize, PIECE_LENGTH, seederPort);
  await writeTorrents(seederFolders, files);
  const leecherFolders = await makeFolders(path.join(root, `${name}-leecher`));
  await writeTorrents(leecherFolders, files);
  const leecherPort = await freePort();

  const peers: PeerRun[] = [];
  try {
    const seederSpawn = performance.now();
    const seeder = new PeerRun('seeder', seederPort, seederFolders, []);
    peers.push(seeder);
    const ready = await untilStatus(seeder, (status) => allSeeding(status, torrents), SEEDER_START_MS, `come up as the seeder of all ${torrents} torrents`);
    const seederStartMs = performance.now() - seederSpawn;
    requireAnnouncer(seeder, ready);
    const seederTicksBefore = seeder.ticks;

    const start = performance.now();
    const leecher = new PeerRun('leecher', leecherPort, leecherFolders, ['--exit-when-done']);
    peers.push(leecher);
    await untilLeechersDone(seeder, [leecher], { start, deadlineMs: transferDeadlineMs(torrents * fileSize), untilExit: true, pollMs: POLL_MS });
    const ms = (leecher.exitAt ?? start) - start;
    await verifyFiles(leecherFolders.shareable, files, fileSize);
    return {
      name,
      torrents,
      fileSize,
      ms,
      mbPerSecond: mbPerSecond(torrents * fileSize, ms),
      seederStartMs,
      processes: [processFigures(seeder, seeder.ticks - seederTicksBefore, clockTicks), processFigures(leecher, leecher.ticks, clockTicks)],
    };
  } finally {
    await Promise.all(peers.map((peer) => peer.stop()));
  }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const loopP99 = (p: ProcessFigures): string => (p.eventLoopDelayP99Ms === null ? '' : p.eventLoopDelayP99Ms.toFixed(1));

function transferRows(t: TransferFigures): string[][] {
  const cpuSeconds = t.processes.reduce((sum, p) => sum + p.cpuSeconds, 0);
  return [
    [t.name, seconds(t.ms), t.mbPerSecond.toFixed(1), String(t.torrents), cpuSeconds.toFixed(2), '', ''],
    ...t.processes.map((p) => [`  ${p.label}`, '', '', '', p.cpuSeconds.toFixed(2), mib(p.peakRssBytes), loopP99(p)]),
  ];
}

async function measureMany(options: BenchOptions): Promise<BenchResult> {
  const { torrents, fileSize } = options.quick ? TRANSFER.quick : TRANSFER.full;
  const startupTorrents = options.quick ? STARTUP_TORRENTS.quick : STARTUP_TORRENTS.full;
  const cores = os.availableParallelism();
  const clockTicks = await clockTicksPerSecond();

  const { transfer, startup } = await withTempFolder(
    async (root) => ({ transfer: await runTransfer(root, torrents, fileSize, clockTicks), startup: await runStartup(root, startupTorrents, clockTicks) }),
    // Ctrl-C reaches the peers too (same process group), but a SIGTERM to the runner alone would not.
    killProcesses,
  );

  const transferCpu = transfer.processes.reduce((sum, p) => sum + p.cpuSeconds, 0);
  return {
    title:
      `Many swarms in one peer, over loopback through the command line, every peer --workers ${WORKERS}: ` +
      `${transfer.name}: ${torrents} torrents of ${formatSize(fileSize)} (pieces of ${formatSize(PIECE_LENGTH)}), one seeder to one leecher; ` +
      `${startup.name}: a seeder of ${startupTorrents} one-piece torrents of ${formatSize(STARTUP_FILE_SIZE)}, started twice, announcing to a tracker of the runner's`,
    columns: ['scenario / process', 'seconds', 'MB/s', 'swarms', 'CPU s', 'peak RSS MiB', 'loop p99 ms'],
    rows: [...transferRows(transfer), ...startupRows(startup)],
    notes: [
      `${transfer.name}: seconds from spawning the leecher (Node start-up, joining and announcing ${torrents} swarms included) until it exited (--exit-when-done); ` +
        `MB/s: ${torrents} x ${formatSize(fileSize)} over that time; every file's size and SHA-1 checked after the exit`,
      `${transfer.name}: CPU: utime+stime of all threads (/proc/<pid>/stat, ${clockTicks} ticks a second) read every ${POLL_MS} ms, the seeder's during the transfer, the leecher's whole life; ` +
        `${(transferCpu / (transfer.ms / 1000)).toFixed(2)} of ${cores} cores used; peak RSS: VmHWM over the whole life (the seeder's includes its start-up, ` +
        `which checked all ${formatSize(torrents * fileSize)} in ${seconds(transfer.seederStartMs)} s); loop p99: eventLoopDelayP99Ms of the last /status (over the last minute)`,
      ...startupNotes(startup),
    ],
    chart: [{ title: CHART_PANELS.swarms, unit: 'MB/s', bars: [{ label: `(c) ${transfer.name}`, value: transfer.mbPerSecond, ours: true }] }],
    targets: [
      target(`(c) ${transfer.name}: seeder peak RSS`, transfer.processes[0].peakRssBytes, SEEDER_RSS_GOAL, (v) => `${(v / MB).toFixed(0)} MB`, { atMost: true }),
      ...startupTargets(startup),
    ],
    data: {
      pieceLength: PIECE_LENGTH,
      workersPerPeer: WORKERS,
      clockTicksPerSecond: clockTicks,
      pollMs: POLL_MS,
      transfer,
      startup,
    },
  };
}

export const manyBenchmark: Benchmark = {
  name: 'many',
  description:
    'many swarms in one peer: 200 torrents of 4 MiB from one seeder to one leecher, then the start-up of a seeder of 10,000 torrents, checked and from fast resume, with its announces and /status (--quick: 20 of 1 MiB, 100)',
  run: measureMany,
};
