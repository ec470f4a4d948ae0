/**
 * Our peer as the announcer (tracker) of age.txt's torrent, seeding it or not, with a folder for
 * whatever is on the other side: a real client, or a scripted peer. Also libtorrent (lt-peer.py)
 * run in the background, seeding a generated file from a torrent of ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMetainfo, type Metainfo } from '../../src/io/metainfo.js';
import { createTorrent, setAnnounce } from '../../src/io/torrent-maker.js';
import {
  AGE_TORRENT,
  AGE_TXT,
  copyInto,
  folderArgs,
  freePort,
  makePeerFolders,
  PROJECT_ROOT,
  removeFolders,
  startPeer,
  type PeerFolders,
  type PeerProcess,
  type TestSettings,
} from './peer-process.js';

export { AGE_TORRENT, AGE_TXT };

export const LT_PEER = path.join(PROJECT_ROOT, 'test', 'helpers', 'lt-peer.py');
/** Debian's python3, the one python3-libtorrent installs for (a python3 elsewhere on PATH may lack it). */
export const LT_PYTHON = '/usr/bin/python3';

export interface InteropSetup {
  ours: PeerProcess;
  oursDirs: PeerFolders;
  /** A folder for the other client's data, and its copy of the torrent. */
  theirDir: string;
  torrentFile: string;
  meta: Metainfo;
  cleanup(): Promise<void>;
}

/** Starts our peer (seeding age.txt or not) as the announcer of the torrent. */
export async function oursWithAge(seed: boolean, extraArgs: string[] = [], testSettings?: TestSettings): Promise<InteropSetup> {
  const port = await freePort();
  const oursDirs = await makePeerFolders();
  const torrent = setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`);
  await writeFile(path.join(oursDirs.torrents, 'age.torrent'), torrent);
  if (seed) await copyInto(AGE_TXT, oursDirs.shareable);
  const theirDir = await mkdtemp(path.join(os.tmpdir(), 'shoal-other-'));
  const torrentFile = path.join(theirDir, 'age.torrent');
  await writeFile(torrentFile, torrent);
  if (!seed) await copyFile(AGE_TXT, path.join(theirDir, 'age.txt'));
  const ours = startPeer([...folderArgs(oursDirs), '--workers', '2', ...extraArgs], port, true, testSettings);
  await ours.waitForStatus((s) => s.swarms[0]?.role === (seed ? 'seeder' : 'leecher'), 20_000, 'our peer to start');
  return {
    ours,
    oursDirs,
    theirDir,
    torrentFile,
    meta: parseMetainfo(torrent),
    async cleanup() {
      await ours.stop();
      await removeFolders(oursDirs);
      await rm(theirDir, { recursive: true, force: true });
    },
  };
}

/**
 * Our peer's arguments for the encryption interop suites: --encryption require, and upload and
 * download limits that keep age.txt's transfer going for about 3 s, so that /status can be read
 * while the other client is connected (a finished peer is dropped: both sides seed).
 */
export const OURS_ENCRYPTED = ['--encryption', 'require', '--upload-limit', '512k', '--download-limit', '512k', '--verbose'];

/** Waits until our peer's /status shows a connection whose payload runs in RC4. */
export async function showsRc4Peer(ours: PeerProcess, timeoutMs: number): Promise<void> {
  await ours.waitForStatus((s) => s.swarms[0]?.peers.some((peer) => peer.encryption === 'rc4') ?? false, timeoutMs, 'a peer connected over RC4 in /status');
}

/** A small multi-file folder (nested, with a space in a name) to make torrents of; returns its path. */
export async function writeSampleAlbum(parent: string): Promise<string> {
  const album = path.join(parent, 'album');
  await mkdir(path.join(album, 'disc 2'), { recursive: true });
  await writeFile(path.join(album, 'a.txt'), 'first file\n'.repeat(5000));
  await writeFile(path.join(album, 'disc 2', 'b.bin'), Buffer.alloc(70_000, 7));
  return album;
}

/** lt-peer.py running in the background; its output is kept, to wait for its lines and to explain failures. */
export class LibtorrentPeer {
  private readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (text: string) => this.lines.push(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => this.lines.push(text));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Runs `lt-peer.py ...args` (see its usage). */
  static start(args: string[]): LibtorrentPeer {
    return new LibtorrentPeer(spawn(LT_PYTHON, [LT_PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get output(): string {
    return this.lines.join('');
  }

  /** Waits until its output matches `pattern`; fails after `timeoutMs`, or when it exits first, with its output. */
  async waitForOutput(pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null || Date.now() >= deadline) {
        const why = this.child.exitCode !== null ? `it exited (${this.child.exitCode})` : `timed out after ${timeoutMs} ms`;
        throw new Error(`libtorrent: ${why} waiting for ${what}\noutput:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface LibtorrentSeed {
  seeder: LibtorrentPeer;
  /** The port libtorrent listens on, on 127.0.0.1. */
  port: number;
  data: Buffer;
  torrent: Buffer;
  meta: Metainfo;
  /** Stops libtorrent and removes its folder. */
  cleanup(): Promise<void>;
}

/**
 * libtorrent seeding `data` as `name`, from a torrent made by our createTorrent (announcing to
 * `announce`), once it has checked the data: it announces to that tracker and accepts connections.
 */
export async function libtorrentSeeds(name: string, data: Buffer, announce: string, pieceLength?: number): Promise<LibtorrentSeed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-lt-seed-'));
  let seeder: LibtorrentPeer | undefined;
  const cleanup = async (): Promise<void> => {
    await seeder?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(path.join(dir, name), data);
    const torrent = await createTorrent(path.join(dir, name), { announce, ...(pieceLength !== undefined && { pieceLength }) });
    const torrentFile = path.join(dir, `${name}.torrent`);
    await writeFile(torrentFile, torrent);
    const port = await freePort();
    seeder = LibtorrentPeer.start([torrentFile, dir, String(port), '--seed', '--timeout', '120']);
    await seeder.waitForOutput(/^state seeding/m, 20_000, 'libtorrent to check the data and seed');
    return { seeder, port, data, torrent, meta: parseMetainfo(torrent), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
