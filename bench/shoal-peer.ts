/**
 * One of our peers as a benchmark runs it: the command line this benchmark was compiled with
 * (dist-bench/src/main/cli/shoal.js), in folders of its own, sampled through /proc and its
 * /status document.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StatusDocument } from '../src/main/session.js';
import type { SwarmStatus } from '../src/main/swarm/swarm-status.js';
import { SampledProcess, type Progress } from './sampled-process.js';

/** The peer as built beside this module, not dist/: the benchmark measures the code it was compiled with. */
const SHOAL = fileURLToPath(new URL('../src/main/cli/shoal.js', import.meta.url));
/** Worker threads of every peer a benchmark starts. */
export const WORKERS = 2;
/** Period of the sampling of peers that are not timed to the byte (start-up, many swarms). */
export const POLL_MS = 100;
/** A /status that takes longer than this is skipped: the next poll asks again. */
const STATUS_TIMEOUT_MS = 2_000;

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface PeerFolders {
  torrents: string;
  shareable: string;
  cache: string;
}

export async function makeFolders(root: string, shareable?: string): Promise<PeerFolders> {
  const folders = { torrents: path.join(root, 'torrents'), shareable: shareable ?? path.join(root, 'shareable'), cache: path.join(root, 'cache') };
  await Promise.all(Object.values(folders).map((folder) => mkdir(folder, { recursive: true })));
  return folders;
}

/**
 * One GET of /status (with `query`, "?limit=0" say) on a fresh connection, so that a peer that
 * exits leaves no pooled socket behind: its body and how long it took.
 */
function readStatus(port: number, timeoutMs: number, query: string): Promise<{ body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: `/status${query}`, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.once('end', () => (res.statusCode === 200 ? resolve({ body, ms: performance.now() - start }) : reject(new Error(`/status answered ${res.statusCode}`))));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`/status timed out after ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

export async function getStatus(port: number, query = ''): Promise<StatusDocument> {
  return JSON.parse((await readStatus(port, STATUS_TIMEOUT_MS, query)).body) as StatusDocument;
}

/** One GET of /status, timed from the request until the last byte of its body, which is not parsed. */
export async function timeStatus(port: number, timeoutMs: number, query = ''): Promise<{ ms: number; bytes: number }> {
  const { body, ms } = await readStatus(port, timeoutMs, query);
  return { ms, bytes: Buffer.byteLength(body) };
}

export async function clockTicksPerSecond(): Promise<number> {
  const { stdout } = await execFileAsync('getconf', ['CLK_TCK']);
  const ticks = Number(stdout.trim());
  if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK printed "${stdout.trim()}"`);
  return ticks;
}

/** One shoal process; its progress is its first swarm's, from /status. */
export class PeerRun extends SampledProcess {
  last: StatusDocument | undefined;
  /** What sample() asks /status with ("?limit=0" say); nothing by default. */
  statusQuery = '';

  constructor(
    label: string,
    readonly port: number,
    folders: PeerFolders,
    peerArgs: readonly string[],
    nodeArgs: readonly string[] = [],
  ) {
    super(label, process.execPath, [
      ...nodeArgs,
      SHOAL,
      ...['--port', String(port), '--torrents', folders.torrents, '--shareable', folders.shareable, '--cache', folders.cache],
      // A benchmark measures the swarm it builds on loopback: no DHT, no multicast on the LAN.
      ...['--workers', String(WORKERS), '--quiet', '--no-dht', '--no-lsd', ...peerArgs],
    ]);
  }

  get swarm(): SwarmStatus | undefined {
    return this.last?.swarms[0];
  }

  protected override async readProgress(): Promise<Progress | undefined> {
    this.last = await getStatus(this.port, this.statusQuery);
    const swarm = this.swarm;
    if (swarm === undefined) return undefined;
    // Blocks count as they arrive, per connection; verified pieces only once checked.
    const blocks = swarm.peers.reduce((sum, peer) => sum + peer.downloaded, 0);
    return { receivedBytes: Math.max(blocks, swarm.downloaded), complete: swarm.have === swarm.pieces };
  }

  /** With the last status: counts and the first swarm (with hundreds of swarms the whole status would bury the output). */
  override describe(): string {
    const swarms = this.last?.swarms ?? [];
    const seeding = swarms.filter((swarm) => swarm.role === 'seeder').length;
    return super.describe(`port ${this.port}; last status: ${swarms.length} swarm(s), ${seeding} seeding; first: ${JSON.stringify(this.swarm ?? null)}`);
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
