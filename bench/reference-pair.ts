/**
 * A reference pair: scenario (a), one seeder to one leecher, run through another BitTorrent
 * client on the same data as ours, so that the two compare as a ratio. Each client's module says
 * how to start its seeder and leecher and how to read their state; the run itself (the tracker,
 * the wait for the seeder, the transfer, the check of the file, the figures) is the same for all.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { parseMetainfo } from '../src/io/metainfo.js';
import { setAnnounce } from '../src/io/torrent-maker.js';
import { BenchTracker } from './bench-tracker.js';
import type { SampledProcess } from './sampled-process.js';
import {
  processFigures,
  requireSameFile,
  runFigures,
  SEEDER_START_MS,
  SLOWEST_REFERENCE_RATE,
  TRANSFER_POLL_MS,
  transferDeadlineMs,
  untilLeechersDone,
  type RunFigures,
} from './transfer.js';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** How often the seeder is asked whether it is ready. */
const READY_POLL_MS = 100;
/** Bound on a version query. */
const PROBE_MS = 10_000;

/** Scenario (a)'s data, as our own run used it. */
export interface PairData {
  /** A folder of the pair's own, removed afterwards. */
  root: string;
  /** The folder that holds the complete file. */
  dataDir: string;
  fileName: string;
  size: number;
  sha1: string;
  /** The .torrent our run used; the pair gets it announcing to its own tracker (same info hash). */
  torrent: Buffer;
  clockTicks: number;
}

/** What a client's module gives for one run: its seeder, how to tell that it seeds, and its leecher. */
export interface PairProcesses {
  seeder: SampledProcess;
  /** True once the seeder has checked its data and serves it. */
  seederReady(): Promise<boolean>;
  startLeecher(): SampledProcess;
  /** Where the leecher's copy of the file ends up. */
  leecherFile: string;
}

/** Where a pair runs: the host its tracker listens on, reachable by both sides, and how to remove what was made for it. */
export interface PairNetwork {
  trackerHost: string;
  close(): Promise<void>;
}

/** Both sides on loopback, with nothing to build or remove. */
export async function loopback(): Promise<PairNetwork> {
  return { trackerHost: '127.0.0.1', close: async () => undefined };
}

export interface PairContext {
  data: PairData;
  /** The .torrent announcing to the pair's tracker, written in the pair's folder. */
  torrentFile: string;
  /** A fresh folder for one side's files. */
  folder(name: string): Promise<string>;
}

/** `N`: what the client's module needs to know of its network (the addresses of its sides). */
export interface ReferencePair<N extends PairNetwork = PairNetwork> {
  /** The client as printed: "libtorrent". */
  name: string;
  /** Its version, or why it cannot run here (not installed, no root for network namespaces). */
  probe(): Promise<{ version: string } | { missing: string }>;
  /** Why --quick leaves it out, when it does: a smoke run has no time for a client that is slow whatever the size. */
  notInQuick?: string;
  network(): Promise<N>;
  start(context: PairContext, network: N): Promise<PairProcesses>;
}

/** The first line a command prints, or undefined when it cannot be run. */
export async function firstLine(command: string, args: readonly string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: PROBE_MS });
    return (stdout.trim() || stderr.trim()).split('\n')[0];
  } catch {
    return undefined;
  }
}

/** Runs scenario (a) through `pair`, whose version is `version`, and checks the leecher's file. */
export async function runPair<N extends PairNetwork>(pair: ReferencePair<N>, version: string, data: PairData): Promise<RunFigures> {
  const client = `${pair.name} ${version}`;
  await mkdir(data.root, { recursive: true });
  const infoHash = parseMetainfo(data.torrent).infoHashHex;
  const network = await pair.network();
  let tracker: BenchTracker | undefined;
  let processes: PairProcesses | undefined;
  let leecher: SampledProcess | undefined;
  try {
    tracker = await BenchTracker.start(network.trackerHost, infoHash);
    const torrentFile = path.join(data.root, `${data.fileName}.torrent`);
    await writeFile(torrentFile, setAnnounce(data.torrent, tracker.announceUrl));
    const folder = async (name: string): Promise<string> => {
      const dir = path.join(data.root, name);
      await mkdir(dir, { recursive: true });
      return dir;
    };
    processes = await pair.start({ data, torrentFile, folder }, network);
    const { seeder } = processes;

    // The leecher starts once the seeder seeds and the tracker lists it, so that its first announce finds it.
    const readyBy = performance.now() + SEEDER_START_MS;
    for (;;) {
      await seeder.sample();
      const ready = await processes.seederReady().catch(() => false);
      if (ready && tracker.peers().length > 0) break;
      if (!seeder.running || performance.now() > readyBy) {
        throw new Error(`the ${client} seeder did not ${ready ? 'announce to the tracker' : 'come up seeding'} within ${SEEDER_START_MS / 1000} s: ${seeder.describe()}`);
      }
      await sleep(READY_POLL_MS);
    }

    const seederTicksBefore = seeder.ticks;
    const start = performance.now();
    leecher = processes.startLeecher();
    await untilLeechersDone(seeder, [leecher], { start, deadlineMs: transferDeadlineMs(data.size, SLOWEST_REFERENCE_RATE), untilExit: false, pollMs: TRANSFER_POLL_MS });
    // Stopped before the check, so that whatever it still held in memory is on disk.
    await leecher.stop();
    await seeder.stop();
    await requireSameFile(`the ${client} leecher`, processes.leecherFile, data.size, data.sha1);

    // Neither side reports its traffic the same way: each is counted as moving the file once.
    const moved = { seeder: { downloadedBytes: 0, uploadedBytes: data.size }, leecher: { downloadedBytes: data.size, uploadedBytes: 0 } };
    return runFigures('(a) 1x1', client, data.size, [leecher], start, [
      processFigures(seeder, seeder.ticks - seederTicksBefore, data.clockTicks, moved.seeder, start, false),
      processFigures(leecher, leecher.ticks, data.clockTicks, moved.leecher, start, true),
    ]);
  } finally {
    await Promise.all([processes?.seeder.stop(), leecher?.stop()]);
    await tracker?.close();
    await network.close();
    await rm(data.root, { recursive: true, force: true });
  }
}
