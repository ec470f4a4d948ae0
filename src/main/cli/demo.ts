#!/usr/bin/env node
/**
 * `npm run demo`: a whole swarm on this machine. One seeder (the announcer of a torrent made for
 * the occasion) and three leechers, real `shoal` processes on loopback in temporary folders,
 * share a generated file; their progress is drawn with the terminal view of `npm start` until
 * every leecher has the file, which is then checked against the original. Everything is stopped
 * cleanly and the folders are left for a look.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTorrent } from '../../io/torrent-maker.js';
import { LocalPeer, makePeerFolders, pollPeers, writeRandomFile } from '../demo/local-swarm.js';
import { freePort } from '../net/free-port.js';
import type { StatusDocument } from '../session.js';
import { LiveDisplay } from '../ui/live-display.js';
import { renderSwarmLines } from '../ui/swarm-lines.js';
import { formatBytes, formatRate } from '../ui/units.js';
import { parseSize, UsageError } from './options.js';

const LEECHERS = 3;
const DEFAULT_SIZE = '64M';
/** Generous: a 64 MiB swarm takes seconds on loopback; this is for a machine in real trouble. */
const DEFAULT_TIMEOUT_S = 600;
/** How often each peer's /status is read and the lines drawn. */
const POLL_MS = 500;
/** Away from a terminal, a progress snapshot is printed this often. */
const SNAPSHOT_MS = 5_000;

const USAGE = `usage: npm run demo -- [--size SIZE] [--timeout S]

  --size SIZE   size of the generated file, k/M/G suffixes (default: ${DEFAULT_SIZE})
  --timeout S   give up after this many seconds (default: ${DEFAULT_TIMEOUT_S})
  --help        show this help and exit`;

interface DemoOptions {
  size: number;
  timeoutS: number;
}

function parseDemoOptions(argv: string[]): DemoOptions | null {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { size: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('. ')[0].replace(/\.$/, ''));
  }
  if (values.help) return null;
  const timeoutS = Number(values.timeout ?? DEFAULT_TIMEOUT_S);
  if (!Number.isInteger(timeoutS) || timeoutS < 1) throw new UsageError(`--timeout expects a whole number of seconds, got "${values.timeout}"`);
  return { size: parseSize(values.size ?? DEFAULT_SIZE, '--size'), timeoutS };
}

async function fileSha1(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where the demo's lines go: a live block on a terminal, plain lines elsewhere. */
class DemoOutput {
  private readonly display: LiveDisplay | null;

  constructor(render: (columns: number, rows: number) => string[]) {
    this.display = process.stdout.isTTY ? new LiveDisplay(process.stdout, render) : null;
  }

  get live(): boolean {
    return this.display !== null;
  }

  start(): void {
    this.display?.start(POLL_MS);
  }

  say(line: string): void {
    if (this.display) this.display.printAbove(line);
    else process.stdout.write(`${line}\n`);
  }

  stop(): void {
    this.display?.stop();
  }
}

async function runDemo(options: DemoOptions): Promise<number> {
  const started = Date.now();
  const root = await mkdtemp(path.join(os.tmpdir(), 'shoal-demo-'));
  const name = `demo-${formatBytes(options.size).replace(' ', '')}.bin`;
  const peers: LocalPeer[] = [];
  const statuses = new Map<LocalPeer, StatusDocument>();
  const completedAt = new Map<LocalPeer, number>();

  // Each line is a peer: the swarm is the same for all, so the peer's label takes the name's place.
  const lines = (columns: number, rows: number): string[] => {
    const swarms = peers.flatMap((peer) => {
      const swarm = statuses.get(peer)?.swarms[0];
      return swarm ? [{ ...swarm, name: `${peer.label} :${peer.port}` }] : [];
    });
    return swarms.length === 0 ? ['starting…'] : renderSwarmLines({ swarms }, columns, Math.max(1, rows - 1));
  };
  const out = new DemoOutput(lines);
  const leechers = (): LocalPeer[] => peers.slice(1);

  let interrupted = false;
  const onInterrupt = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);

  let code = 1;
  try {
    out.say(`shoal demo: 1 seeder and ${LEECHERS} leechers on loopback sharing ${name} (${formatBytes(options.size)}), in ${root}`);
    const seedFolders = await makePeerFolders(path.join(root, 'seeder'));
    const original = path.join(seedFolders.shareable, name);
    await writeRandomFile(original, options.size);
    const seedPort = await freePort();
    const torrent = await createTorrent(original, { announce: `http://127.0.0.1:${seedPort}/announce` });
    const torrentFile = `${name}.torrent`;
    await writeFile(path.join(seedFolders.torrents, torrentFile), torrent);

    peers.push(LocalPeer.start('seeder', seedPort, seedFolders, ['--workers', '1']));
    out.start();
    const deadline = started + options.timeoutS * 1000;
    const failure = await pollPeers(peers, statuses, { deadline, pollMs: POLL_MS, interrupted: () => interrupted, done: (s) => s.get(peers[0])?.swarms[0]?.role === 'seeder' });
    if (failure) throw new DemoFailure(`the seeder did not start: ${failure}`);
    out.say(`seeder on port ${seedPort} is ready (it is the torrent's announcer); starting ${LEECHERS} leechers`);

    for (let i = 1; i <= LEECHERS; i++) {
      const folders = await makePeerFolders(path.join(root, `leecher-${i}`));
      await writeFile(path.join(folders.torrents, torrentFile), torrent);
      peers.push(LocalPeer.start(`leecher ${i}`, await freePort(), folders, ['--workers', '1']));
    }
    const leechStart = Date.now();
    let lastSnapshot = Date.now();
    const allDone = (): boolean => {
      for (const leecher of leechers()) {
        if (completedAt.has(leecher) || statuses.get(leecher)?.swarms[0]?.role !== 'seeder') continue;
        completedAt.set(leecher, Date.now());
        out.say(`${leecher.label} (port ${leecher.port}) has the whole file after ${((Date.now() - leechStart) / 1000).toFixed(1)} s`);
      }
      if (!out.live && Date.now() - lastSnapshot >= SNAPSHOT_MS) {
        lastSnapshot = Date.now();
        for (const line of lines(100, Infinity)) out.say(line);
      }
      return completedAt.size === LEECHERS;
    };
    const stuck = await pollPeers(peers, statuses, { deadline, pollMs: POLL_MS, interrupted: () => interrupted, done: allDone });
    if (stuck) throw new DemoFailure(stuck);
    const seconds = (Date.now() - leechStart) / 1000;
    out.say(`all ${LEECHERS} leechers complete in ${seconds.toFixed(1)} s (${formatRate((LEECHERS * options.size) / seconds)} in all)`);

    const expected = await fileSha1(original);
    let identical = true;
    for (const leecher of leechers()) {
      const copy = await fileSha1(path.join(leecher.folders.shareable, name));
      identical &&= copy === expected;
      out.say(`${leecher.label}: SHA-1 ${copy} ${copy === expected ? 'matches the original' : `DIFFERS from the original ${expected}`}`);
    }
    code = identical ? 0 : 1;
  } catch (error) {
    if (!(error instanceof DemoFailure)) throw error;
    out.say(`demo failed: ${error.message}`);
    code = interrupted ? 130 : 1;
  } finally {
    out.stop();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    const stops = await Promise.all(peers.map((peer) => peer.stop()));
    const unclean = peers.filter((_, i) => stops[i].killed || stops[i].code !== 0);
    if (unclean.length === 0) {
      process.stdout.write(`stopped ${peers.length} peers cleanly (SIGTERM, exit code 0 each)\n`);
    } else {
      for (const peer of unclean) {
        const { code: exitCode, signal, killed } = stops[peers.indexOf(peer)];
        process.stdout.write(`${peer.label} did not stop cleanly (${killed ? 'killed after the time allowed' : `exit code ${exitCode}, signal ${signal}`}); see ${peer.folders.log}\n`);
      }
      if (code === 0) code = 1;
    }
    process.stdout.write(`the folders are in ${root} (seeder/ and leecher-1/ to leecher-${LEECHERS}/, each with its shoal.log); remove them with: rm -r ${root}\n`);
  }
  return code;
}

/** A reason the demo stops before the end, for the person watching. */
class DemoFailure extends Error {}

async function main(): Promise<number> {
  let options;
  try {
    options = parseDemoOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`demo: ${error.message} (see --help)\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return runDemo(options);
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`demo: unexpected error: ${error.message}\n`);
    process.exit(1);
  },
);
