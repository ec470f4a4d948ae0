/**
 * swarm: whole swarms of real peer processes over loopback, through the command line, on
 * generated data in a temporary folder.
 *
 * (a) One seeder, the torrent's announcer, serves one leecher; then the same pair again with both
 *     peers on --encryption require (RC4 over every payload byte), printed as the ratio
 *     encrypted / plain; then the same data and .torrent go through each reference pair that is
 *     installed (libtorrent, aria2c, WebTorrent rarest-first and sequential, Transmission), and each
 *     is printed as the ratio ours / theirs.
 * (b) A fresh seeder serves four leechers started together, on a smaller file.
 *
 * Every leecher's file is checked (size and SHA-1) before its figures count, so that a broken run
 * never passes for a fast one. A transfer is timed from the first payload byte a leecher reports
 * to its completion, sampled the same way for every client; the wall time from spawning the
 * leechers is shown beside it. For our leechers, the bytes they received (every PIECE payload,
 * end game duplicates included) over the size show what requesting wasted.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTorrent, setAnnounce } from '../src/io/torrent-maker.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { KiB } from '../src/io/settings.js';
import type { SwarmStatus } from '../src/main/swarm/swarm-status.js';
import { aria2Pair } from './aria2-pair.js';
import { CHART_PANELS, mib, target, withTempFolder, type BenchOptions, type BenchResult, type Benchmark, type TargetCheck } from './benchmark.js';
import { mainThreadProfile, profileNotes, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { libtorrentPair } from './libtorrent-pair.js';
import { runPair, type PairData, type ReferencePair } from './reference-pair.js';
import { killProcesses } from './sampled-process.js';
import { allSeeding, clockTicksPerSecond, getStatus, makeFolders, PeerRun, untilStatus, WORKERS } from './shoal-peer.js';
import {
  freePort,
  generateFile,
  GiB,
  processFigures,
  requireSameFile,
  runFigures,
  SEEDER_START_MS,
  TRANSFER_POLL_MS,
  transferDeadlineMs,
  untilLeechersDone,
  type RunFigures,
} from './transfer.js';
import { destroyNamespaces, transmissionPair } from './transmission-pair.js';
import { webTorrentRarestPair, webTorrentSequentialPair } from './webtorrent-pair.js';

export const PIECE_LENGTH = 256 * KiB;
const FILE_NAME = 'swarm.bin';
/** In the order they run, after our own (a). */
const REFERENCES: readonly ReferencePair[] = [libtorrentPair, aria2Pair, webTorrentRarestPair, webTorrentSequentialPair, transmissionPair];
/** The goals for (a): ours / theirs at least this, by client name. */
const RATIO_GOALS: Record<string, number> = { libtorrent: 2.0, aria2c: 3.0, 'WebTorrent rarest-first': 10.0, 'WebTorrent sequential': 2.0 };
/** The goals for the CPU (all threads, user and system) each side of (a) spends per GiB it moves. */
const CPU_PER_GIB_GOALS = { leecher: 3.5, seeder: 2.0 };
/** The goal for the leecher's event-loop delay during (a), 99th percentile. */
const LOOP_P99_GOAL_MS = 20;
/** The issue's goal for (a)'s bytes received over the size: one seeder to one leecher leaves no end game duplicates. */
const RECEIVED_RATIO_GOAL = 1.01;

interface Scenario {
  name: string;
  leechers: number;
  /** How its rows name our client. */
  client: string;
  /** Arguments of every peer of the run. */
  peerArgs: readonly string[];
}
const SCENARIO_A: Scenario = { name: '(a) 1x1', leechers: 1, client: 'shoal', peerArgs: [] };
const SCENARIO_A_ENCRYPTED: Scenario = { name: '(a) 1x1', leechers: 1, client: 'shoal --encryption require', peerArgs: ['--encryption', 'require'] };
const SCENARIO_B: Scenario = { name: '(b) 1x4', leechers: 4, client: 'shoal', peerArgs: [] };

interface SwarmData {
  root: string;
  /** The seeder's shareable/, holding the generated file. */
  shareable: string;
  /** The .torrent as made, announcing to some other port: setAnnounce points it at each seeder without hashing again. */
  torrent: Buffer;
  size: number;
  sha1: string;
  clockTicksPerSecond: number;
}

interface OursFigures {
  run: RunFigures;
  profile: ProfileSummary | null;
  received: ReceivedFigures;
}

/**
 * What the leechers took off the wire (SwarmStatus.received: every PIECE payload, end game
 * duplicates and late answers included) over what they needed, from each one's last /status.
 */
interface ReceivedFigures {
  /** Per leecher; null when its last /status came before its completion, and so counted too little. */
  bytes: (number | null)[];
  /** All leechers' bytes over leechers x size; null when a leecher's is unknown. */
  ratio: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Period of a leecher's watch for its last status (watchLastStatus). */
const LAST_STATUS_POLL_MS = 5;
/**
 * The watch asks for /status while the leecher's samples show at most this share of its bytes
 * left, or its pace is not known yet (from its first byte to the next piece verified)...
 */
const LAST_STATUS_FROM_LEFT = 0.1;
/** ...or, at the pace its samples show, that it completes within this time. */
const LAST_STATUS_LEAD_MS = 4 * TRANSFER_POLL_MS;

/**
 * The last /status of a leecher that shows it complete, for its `received`. With --exit-when-done
 * it exits a few ms after completing, which the transfer's samples (every TRANSFER_POLL_MS) often
 * miss; so near its end it is asked every LAST_STATUS_POLL_MS, until it exits. Its transfer's
 * figures still come from the samples alone, taken as for every other client.
 */
async function watchLastStatus(leecher: PeerRun, size: number): Promise<SwarmStatus | undefined> {
  let last: SwarmStatus | undefined;
  let seen: { at: number; left: number } | undefined;
  let bytesPerMs = 0;
  while (leecher.running) {
    await sleep(LAST_STATUS_POLL_MS);
    const left = leecher.swarm?.left;
    if (left === undefined || leecher.firstByteAt === undefined) continue;
    const now = performance.now();
    if (seen !== undefined && left < seen.left) bytesPerMs = (seen.left - left) / (now - seen.at);
    if (seen === undefined || left !== seen.left) seen = { at: now, left };
    const near = bytesPerMs === 0 || left <= size * LAST_STATUS_FROM_LEFT || left / bytesPerMs <= LAST_STATUS_LEAD_MS;
    if (!near) continue;
    const swarm = (await getStatus(leecher.port).catch(() => undefined))?.swarms[0];
    if (swarm !== undefined && swarm.have === swarm.pieces) last = swarm;
  }
  // A sample may have come after the watch's last look.
  const sampled = leecher.swarm;
  return sampled !== undefined && sampled.have === sampled.pieces && sampled.received >= (last?.received ?? 0) ? sampled : last;
}

function receivedFigures(lastStatuses: readonly (SwarmStatus | undefined)[], size: number): ReceivedFigures {
  const bytes = lastStatuses.map((swarm) => swarm?.received ?? null);
  const known = bytes.filter((b): b is number => b !== null);
  return { bytes, ratio: known.length === bytes.length ? known.reduce((sum, b) => sum + b, 0) / (bytes.length * size) : null };
}

const ratioText = (ratio: number | null): string => (ratio === null ? 'not measured (a last /status came before completion)' : ratio.toFixed(3));

/** The line under the table: "(a) received / size: 1.000", with each leecher's when there are several. */
function receivedLine(scenario: string, received: ReceivedFigures, size: number): string {
  const each = received.bytes.length > 1 ? ` (each: ${received.bytes.map((b) => (b === null ? '?' : (b / size).toFixed(3))).join(', ')})` : '';
  return `${scenario.split(' ')[0]} received / size: ${ratioText(received.ratio)}${each}; received: every PIECE payload a leecher took off the wire (duplicates included), from its last /status`;
}

/**
 * The line under the table for (a) under --encryption require: its MB/s over plain's, and the CPU
 * per GiB moved of each side, where RC4's cost shows even when the MB/s do not (both peers under
 * require can only agree on RC4, so every payload byte went through it).
 */
function encryptedLine(plain: RunFigures, encrypted: RunFigures): string {
  const perGiB = (run: RunFigures, label: string): string => run.processes.find((p) => p.label === label)?.cpuSecondsPerGiB.toFixed(2) ?? '?';
  return (
    `(a) encrypted / plain: ${(encrypted.mbPerSecond / plain.mbPerSecond).toFixed(2)} (${encrypted.mbPerSecond.toFixed(1)} over ${plain.mbPerSecond.toFixed(1)} MB/s); ` +
    `CPU s/GiB plain -> RC4: leecher ${perGiB(plain, 'leecher')} -> ${perGiB(encrypted, 'leecher')}, seeder ${perGiB(plain, 'seeder')} -> ${perGiB(encrypted, 'seeder')}`
  );
}

/** A reference client that did not run, and why. */
interface SkippedReference {
  name: string;
  reason: string;
}

/** Writes a file of `size` random bytes into a fresh folder under `root` and makes its .torrent. */
async function generateData(root: string, name: string, size: number, clockTicks: number): Promise<SwarmData> {
  const shareable = path.join(root, name);
  await mkdir(shareable);
  const file = path.join(shareable, FILE_NAME);
  const sha1 = await generateFile(file, size);
  // Port 1 is never a seeder's: each run's seeder gets the torrent re-pointed at its own port.
  const torrent = await createTorrent(file, { announce: 'http://127.0.0.1:1/announce', pieceLength: PIECE_LENGTH });
  return { root, shareable, torrent, size, sha1, clockTicksPerSecond: clockTicks };
}

/** Starts our peers in `scenario`, runs them to completion and stops them. */
async function runOurs(data: SwarmData, scenario: Scenario, profileDir: string | undefined): Promise<OursFigures> {
  const peers: PeerRun[] = [];
  const track = (peer: PeerRun): PeerRun => {
    peers.push(peer);
    return peer;
  };
  const folderName = `${scenario.name} ${scenario.client}`.replace(/\W+/g, '-').replace(/^-|-$/g, '');
  try {
    const seederPort = await freePort();
    const torrent = setAnnounce(data.torrent, `http://127.0.0.1:${seederPort}/announce`);
    const seederFolders = await makeFolders(path.join(data.root, `${folderName}-seeder`), data.shareable);
    await writeFile(path.join(seederFolders.torrents, `${FILE_NAME}.torrent`), torrent);
    const seeder = track(new PeerRun('seeder', seederPort, seederFolders, scenario.peerArgs));
    await untilStatus(seeder, (status) => allSeeding(status, 1), SEEDER_START_MS, 'come up as a seeder');

    const leecherSetups = await Promise.all(
      Array.from({ length: scenario.leechers }, async (_, i) => {
        const folders = await makeFolders(path.join(data.root, `${folderName}-leecher-${i + 1}`));
        await writeFile(path.join(folders.torrents, `${FILE_NAME}.torrent`), torrent);
        return { folders, port: await freePort() };
      }),
    );
    const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
    await seeder.sample();
    const seederTicksBefore = seeder.ticks;
    const start = performance.now();
    const leechers = leecherSetups.map(({ folders, port }, i) =>
      track(new PeerRun(scenario.leechers === 1 ? 'leecher' : `leecher ${i + 1}`, port, folders, ['--exit-when-done', ...scenario.peerArgs], nodeArgs)),
    );
    const lastStatuses = Promise.all(leechers.map((leecher) => watchLastStatus(leecher, data.size)));
    await untilLeechersDone(seeder, leechers, {
      start,
      deadlineMs: transferDeadlineMs(scenario.leechers * data.size),
      untilExit: true,
      pollMs: TRANSFER_POLL_MS,
    });
    await Promise.all(
      leecherSetups.map(({ folders }, i) => requireSameFile(leechers[i].label, path.join(folders.shareable, FILE_NAME), data.size, data.sha1)),
    );

    const clockTicks = data.clockTicksPerSecond;
    const processes = [
      processFigures(seeder, seeder.ticks - seederTicksBefore, clockTicks, { downloadedBytes: seeder.swarm?.downloaded ?? 0, uploadedBytes: seeder.swarm?.uploaded ?? 0 }, start, false, seeder.last?.eventLoopDelayP99Ms ?? null),
      // A fresh leecher's verified downloads are its whole file once that file checked out; a poll may have missed the last pieces.
      ...leechers.map((leecher) =>
        processFigures(leecher, leecher.ticks, clockTicks, { downloadedBytes: data.size, uploadedBytes: leecher.swarm?.uploaded ?? 0 }, start, true, leecher.last?.eventLoopDelayP99Ms ?? null),
      ),
    ];
    const run = runFigures(scenario.name, scenario.client, data.size, leechers, start, processes, (leecher) => leecher.exitAt);
    const received = receivedFigures(await lastStatuses, data.size);
    const profiledPid = leechers[0].child.pid;
    const profile = profileDir !== undefined && profiledPid !== undefined ? await summarizeProfile(await mainThreadProfile(profileDir, profiledPid)) : null;
    return { run, profile, received };
  } finally {
    await Promise.all(peers.map((peer) => peer.stop()));
  }
}

/** Every installed reference pair through scenario (a)'s data; a missing one is skipped with its reason, a failing one reported. */
async function runReferences(data: SwarmData, quick: boolean): Promise<ReferenceResults> {
  const runs: RunFigures[] = [];
  const skipped: SkippedReference[] = [];
  const failed: string[] = [];
  for (const pair of REFERENCES) {
    if (quick && pair.notInQuick !== undefined) {
      console.log(`  ${pair.name}: ${pair.notInQuick}`);
      skipped.push({ name: pair.name, reason: pair.notInQuick });
      continue;
    }
    const probe = await pair.probe();
    if ('missing' in probe) {
      console.log(`  ${pair.name}: ${probe.missing}; skipped`);
      skipped.push({ name: pair.name, reason: probe.missing });
      continue;
    }
    const pairData: PairData = {
      root: path.join(data.root, `reference-${pair.name}`),
      dataDir: data.shareable,
      fileName: FILE_NAME,
      size: data.size,
      sha1: data.sha1,
      torrent: data.torrent,
      clockTicks: data.clockTicksPerSecond,
    };
    try {
      runs.push(await runPair(pair, probe.version, pairData));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.log(`  ${pair.name} ${probe.version}: failed: ${message}`);
      failed.push(`${pair.name} ${probe.version}: ${message}`);
    }
  }
  return { runs, skipped, failed };
}

const seconds = (ms: number | null): string => (ms === null ? '' : (ms / 1000).toFixed(2));

function rows(run: RunFigures, ours: RunFigures | undefined): string[][] {
  const delivered = run.leechers * run.size;
  return [
    [
      `${run.scenario} ${run.client}`,
      seconds(run.transferMs),
      run.mbPerSecond.toFixed(1),
      seconds(run.wallMs),
      mib(delivered),
      run.cpuSeconds.toFixed(2),
      (run.cpuSeconds / (delivered / GiB)).toFixed(2),
      '',
      '',
      ours === undefined ? '' : (ours.mbPerSecond / run.mbPerSecond).toFixed(2),
    ],
    ...run.processes.map((p) => [
      `  ${p.label}`,
      seconds(p.transferMs),
      p.transferMs === null ? '' : ((run.size / 1e6) / (p.transferMs / 1000)).toFixed(1),
      seconds(p.completionMs),
      mib(p.downloadedBytes + p.uploadedBytes),
      p.cpuSeconds.toFixed(2),
      p.cpuSecondsPerGiB.toFixed(2),
      mib(p.peakRssBytes),
      p.eventLoopDelayP99Ms === null ? '' : p.eventLoopDelayP99Ms.toFixed(1),
      '',
    ]),
  ];
}

interface ReferenceResults {
  runs: RunFigures[];
  skipped: SkippedReference[];
  failed: string[];
}

/** The ratio targets of (a), one per client with a goal, measured or not. */
function ratioTargets(ours: RunFigures, references: ReferenceResults): TargetCheck[] {
  return Object.entries(RATIO_GOALS).map(([name, goal]) => {
    const theirs = references.runs.find((run) => run.client.startsWith(`${name} `));
    const why = references.skipped.find((skip) => skip.name === name)?.reason ?? (references.failed.some((f) => f.startsWith(`${name} `)) ? 'failed' : undefined);
    return target(`(a) ours / ${name}`, theirs === undefined ? null : ours.mbPerSecond / theirs.mbPerSecond, goal, (v) => v.toFixed(2), { missing: why });
  });
}

async function measureSwarm(options: BenchOptions): Promise<BenchResult> {
  const cores = os.availableParallelism();
  const clockTicks = await clockTicksPerSecond();
  if (options.swarmProfile !== undefined) await mkdir(options.swarmProfile, { recursive: true });

  const results = await withTempFolder(
    async (root) => {
      const dataA = await generateData(root, 'data-a', options.size, clockTicks);
      const a = await runOurs(dataA, SCENARIO_A, options.swarmProfile);
      const encrypted = await runOurs(dataA, SCENARIO_A_ENCRYPTED, undefined);
      const references = await runReferences(dataA, options.quick);
      const dataB = await generateData(root, 'data-b', options.swarmSize, clockTicks);
      // Only (a)'s leecher is profiled: with four, the profiler's cost would be spread over a crowded machine.
      const b = await runOurs(dataB, SCENARIO_B, undefined);
      return { a, encrypted, references, b };
    },
    // Ctrl-C reaches the peers too (same process group), but a SIGTERM to the runner alone would not.
    () => {
      killProcesses();
      destroyNamespaces();
    },
  );

  const { a, references, b } = results;
  const ours = a.run;
  const encrypted = results.encrypted.run;
  const encryptedRatio = encrypted.mbPerSecond / ours.mbPerSecond;
  const ratios = references.runs.map((run) => ({ client: run.client, theirsMbPerSecond: run.mbPerSecond, ratio: ours.mbPerSecond / run.mbPerSecond }));
  return {
    title:
      `Whole swarms over loopback through the command line, pieces of ${formatSize(PIECE_LENGTH)}, our peers --workers ${WORKERS}: ` +
      `(a) one seeder to one leecher, ${formatSize(options.size)}, ours plain, ours with both peers on --encryption require, then each reference pair on the same data; (b) one seeder to four leechers, ${formatSize(options.swarmSize)}`,
    columns: ['run / process', 'transfer s', 'MB/s', 'wall s', 'moved MiB', 'CPU s', 'CPU s/GiB', 'peak RSS MiB', 'loop p99 ms', 'ours / this'],
    rows: [...rows(ours, undefined), ...rows(encrypted, undefined), ...references.runs.flatMap((run) => rows(run, ours)), ...rows(b.run, undefined)],
    notes: [
      `transfer s: from the first payload byte a leecher reported to the last completion (every piece verified), sampled every ${TRANSFER_POLL_MS} ms for every client ` +
        '(ours: /status; libtorrent: its status, polled by bench/libtorrent-peer.py; WebTorrent: its torrent\'s counters, polled by bench/webtorrent-peer.mjs; ' +
        'aria2c and Transmission: their RPC); MB/s: leechers x size over it',
      'wall s: from spawning the leechers (start-up, announce, for aria2c its ~2 s delay, included) until the last completed (ours: until it exited with --exit-when-done, its file in shareable/)',
      `ours / this: (a)'s MB/s, ours over the reference's; every leecher's file checked (size and SHA-1); references announce to our tracker code in the benchmark's process, which is no peer`,
      `CPU: utime+stime of all threads (/proc/<pid>/stat, ${clockTicks} ticks a second); a leecher's whole life, the seeder's during the transfer; per GiB of payload it moved (a reference side counts the file once); ` +
        'a run\'s row: all its processes per GiB delivered',
      'peak RSS: VmHWM (/proc/<pid>/status); loop p99: our eventLoopDelayP99Ms of the last /status (over the last minute)',
      encryptedLine(ours, encrypted),
      ...[ours, encrypted, ...references.runs, b.run].map((run) => `${run.scenario} ${run.client}: ${(run.cpuSeconds / (run.wallMs / 1000)).toFixed(2)} of ${cores} cores used (CPU s over wall s)`),
      receivedLine(ours.scenario, a.received, ours.size),
      receivedLine(b.run.scenario, b.received, b.run.size),
      ...references.skipped.map((skip) => `${skip.name}: ${skip.reason}; skipped`),
      ...references.failed.map((failure) => `failed: ${failure}`),
      ...(a.profile === null ? [] : profileNotes('(a) leecher', a.profile)),
    ],
    failures: references.failed,
    chart: [
      {
        title: `(a) one seeder to one leecher, ${formatSize(options.size)} over loopback, first byte to completion (MB/s)`,
        unit: 'MB/s',
        bars: [
          { label: 'shoal', value: ours.mbPerSecond, ours: true },
          { label: 'shoal, RC4', value: encrypted.mbPerSecond, text: `${encrypted.mbPerSecond.toFixed(encrypted.mbPerSecond >= 100 ? 0 : 1)} MB/s; encrypted / plain ${encryptedRatio.toFixed(2)}`, ours: true },
          ...references.runs.map((run) => ({
            label: run.client,
            value: run.mbPerSecond,
            text: `${run.mbPerSecond.toFixed(run.mbPerSecond >= 100 ? 0 : 1)} MB/s; ours / this ${(ours.mbPerSecond / run.mbPerSecond).toFixed(2)}`,
            ours: false,
          })),
          ...references.skipped.map((skip) => ({ label: skip.name, value: Number.NaN, text: 'not measured (see the table)', ours: false })),
        ],
      },
      {
        title: CHART_PANELS.swarms,
        unit: 'MB/s',
        bars: [ours, b.run].map((run) => ({ label: `${run.scenario}, ${formatSize(run.size)}`, value: run.mbPerSecond, ours: true })),
      },
    ],
    targets: [
      ...ratioTargets(ours, references),
      target('(a) received / size', a.received.ratio, RECEIVED_RATIO_GOAL, (v) => v.toFixed(3), { atMost: true, inclusive: true, missing: ratioText(null) }),
      ...Object.entries(CPU_PER_GIB_GOALS).map(([side, goal]) =>
        target(`(a) ${side} CPU s per GiB`, ours.processes.find((p) => p.label === side)?.cpuSecondsPerGiB ?? null, goal, (v) => v.toFixed(2), { atMost: true, inclusive: true }),
      ),
      target('(a) leecher event-loop p99', ours.processes.find((p) => p.label === 'leecher')?.eventLoopDelayP99Ms ?? null, LOOP_P99_GOAL_MS, (v) => `${v.toFixed(1)} ms`, { atMost: true }),
    ],
    data: {
      pieceLength: PIECE_LENGTH,
      workersPerPeer: WORKERS,
      clockTicksPerSecond: clockTicks,
      pollMs: TRANSFER_POLL_MS,
      scenarios: [ours, b.run],
      encrypted: { run: encrypted, ratio: encryptedRatio },
      received: { a: a.received, b: b.received },
      references: { runs: references.runs, ratios, skipped: references.skipped, failed: references.failed },
      profile: a.profile,
    },
  };
}

export const swarmBenchmark: Benchmark = {
  name: 'swarm',
  description: 'whole swarms over loopback through the command line: (a) 1 seeder to 1 leecher, ours plain and encrypted (RC4), then each reference client; (b) 1 seeder to 4 leechers',
  run: measureSwarm,
};
