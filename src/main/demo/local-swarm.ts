/**
 * A whole swarm on this machine for `npm run demo`: real `shoal` processes on loopback, each in
 * folders of its own under one temporary root, its output in a log file there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { StatusDocument } from '../session.js';

/** The peer program, compiled beside this one. */
const SHOAL = fileURLToPath(new URL('../cli/shoal.js', import.meta.url));
/** Time allowed for one /status answer. */
const STATUS_TIMEOUT_MS = 2_000;
/** Time a peer has to stop after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 20_000;
/** Generated data is written in chunks of this size, each a different random block. */
const CHUNK_BYTES = 1024 * 1024;

export interface PeerFolders {
  root: string;
  torrents: string;
  shareable: string;
  cache: string;
  log: string;
}

export async function makePeerFolders(root: string): Promise<PeerFolders> {
  const folders = { root, torrents: path.join(root, 'torrents'), shareable: path.join(root, 'shareable'), cache: path.join(root, 'cache'), log: path.join(root, 'shoal.log') };
  await Promise.all([folders.torrents, folders.shareable, folders.cache].map((folder) => mkdir(folder, { recursive: true })));
  return folders;
}

/** Writes `size` random bytes to `file`, a chunk at a time (memory stays small whatever the size). */
export async function writeRandomFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (let at = 0; at < size; at += CHUNK_BYTES) await handle.write(randomBytes(Math.min(CHUNK_BYTES, size - at)));
  } finally {
    await handle.close();
  }
}


export type ExitState = { code: number | null; signal: NodeJS.Signals | null };

/** One running `shoal` process. */
export class LocalPeer {
  readonly exited: Promise<ExitState>;
  private exit: ExitState | null = null;

  private constructor(
    readonly label: string,
    readonly port: number,
    readonly folders: PeerFolders,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  static start(label: string, port: number, folders: PeerFolders, extraArgs: string[]): LocalPeer {
    const log = createWriteStream(folders.log);
    // A swarm on loopback has no use for the public DHT or multicast on the LAN.
    const discovery = ['--no-dht', '--no-lsd'];
    const args = [SHOAL, '--port', String(port), '--host', '127.0.0.1', '--torrents', folders.torrents, '--shareable', folders.shareable, '--cache', folders.cache, ...discovery, ...extraArgs];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => log.end());
    return new LocalPeer(label, port, folders, child);
  }

  /** How it ended, or null while it runs. */
  get exitState(): ExitState | null {
    return this.exit;
  }

  async status(): Promise<StatusDocument> {
    const response = await fetch(`http://127.0.0.1:${this.port}/status`, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`${this.label}: /status answered ${response.status}`);
    return (await response.json()) as StatusDocument;
  }

  /** SIGTERM, then the wait for a clean exit; killed if it takes too long. */
  async stop(): Promise<ExitState & { killed: boolean }> {
    if (this.exit) return { ...this.exit, killed: false };
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS)));
    const state = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (state) return { ...state, killed: false };
    this.child.kill('SIGKILL');
    return { ...(await this.exited), killed: true };
  }
}

/** What pollPeers needs of a peer. */
export interface PolledPeer {
  readonly label: string;
  readonly exitState: ExitState | null;
  readonly folders: { log: string };
  status(): Promise<StatusDocument>;
}

export interface PollOptions<P> {
  /** When to give up (ms since the epoch). */
  deadline: number;
  pollMs: number;
  interrupted: () => boolean;
  done: (statuses: Map<P, StatusDocument>) => boolean;
}

/**
 * Reads every peer's /status (into `statuses`) every `pollMs` until `done` holds. Returns null
 * then, or why it stopped waiting: the deadline, an interruption, or a peer that exited.
 */
export async function pollPeers<P extends PolledPeer>(peers: readonly P[], statuses: Map<P, StatusDocument>, options: PollOptions<P>): Promise<string | null> {
  for (;;) {
    await Promise.all(
      peers.map(async (peer) => {
        // Not answering yet (still starting) is no failure: the deadline bounds the wait.
        const status = await peer.status().catch(() => null);
        if (status) statuses.set(peer, status);
      }),
    );
    if (options.done(statuses)) return null;
    const dead = peers.find((peer) => peer.exitState);
    if (dead) return `${dead.label} exited unexpectedly (exit code ${dead.exitState!.code}); see ${dead.folders.log}`;
    if (options.interrupted()) return 'interrupted';
    if (Date.now() >= options.deadline) {
      const where = peers.map((peer) => {
        const swarm = statuses.get(peer)?.swarms[0];
        return `${peer.label} ${swarm ? `at ${swarm.have}/${swarm.pieces} pieces` : 'not answering'}`;
      });
      return `gave up after the time allowed (--timeout): ${where.join(', ')}`;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}
