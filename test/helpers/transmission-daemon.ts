/**
 * Transmission 3.00's transmission-daemon on a test host (a network namespace of test-lan.ts:
 * Transmission ignores peers in 127.0.0.0/8), driven by transmission-remote over its RPC port
 * inside that host. DHT, LPD, port mapping and uTP are off, so it talks to the torrent's tracker
 * over TCP only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { AGE_TORRENT, AGE_TXT, folderArgs, makePeerFolders, removeFolders, runCommand, TORRENT_COMMAND, type PeerFolders, type PeerProcess } from './peer-process.js';
import { missingTools } from './require-tool.js';
import { canBuildLan, TestLan, type LanHost } from './test-lan.js';

/** What a Transmission test needs here and may lack: the daemon and its remote, ip(8), and root for the namespaces. */
export const TRANSMISSION_MISSING = [...missingTools(['transmission-daemon', 'transmission-remote', 'ip']), ...(canBuildLan() ? [] : ['root (for network namespaces)'])];

const RPC_PORT = '9091';

/** Polls `read` every 250 ms until it gives a value; fails after `timeoutMs`. */
export async function waitFor<T>(read: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export class TransmissionDaemon {
  private constructor(
    private readonly host: LanHost,
    private readonly child: ChildProcess,
  ) {}

  /**
   * Starts the daemon in `host` with its configuration in `configDir` (`settings` written to its
   * settings.json first, when given) and its data in `downloads`; resolves once its RPC answers.
   */
  static async start(host: LanHost, configDir: string, downloads: string, settings?: Record<string, unknown>): Promise<TransmissionDaemon> {
    await mkdir(configDir, { recursive: true });
    if (settings) await writeFile(path.join(configDir, 'settings.json'), JSON.stringify(settings));
    const child = spawn(
      'ip',
      ['netns', 'exec', host.namespace, 'transmission-daemon', '-f', '-g', configDir, '-w', downloads, '-p', RPC_PORT, '-T', '-O', '-Y', '-M', '--no-utp'],
      { stdio: 'ignore' },
    );
    const daemon = new TransmissionDaemon(host, child);
    await waitFor(() => {
      try {
        return daemon.remote('-l');
      } catch {
        return undefined;
      }
    }, 20_000, 'transmission-daemon to answer');
    return daemon;
  }

  /** transmission-remote with `args`, inside the daemon's host; its output. */
  remote(...args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.host.namespace, 'transmission-remote', RPC_PORT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Waits until torrent number `id` (1 for the first added) is 100% done. */
  async complete(id: number, timeoutMs: number, what: string): Promise<void> {
    await waitFor(() => (/Percent Done: 100%/.test(this.remote('-t', String(id), '-i')) ? true : undefined), timeoutMs, what);
  }

  /**
   * Makes the daemon the only seed of a new torrent of `data` (file `name` in its `downloads`,
   * pieces of 64 KiB, announcing to `announce`): added as torrent number `id` and verified, so
   * that it seeds. Returns the .torrent.
   */
  async seedNewTorrent(downloads: string, name: string, data: Buffer, announce: string, id: number): Promise<Buffer> {
    await writeFile(path.join(downloads, name), data);
    const torrent = await createTorrent(path.join(downloads, name), { announce, pieceLength: 64 * 1024 });
    const torrentFile = path.join(path.dirname(downloads), `${name}.torrent`);
    await writeFile(torrentFile, torrent);
    this.remote('-a', torrentFile);
    this.remote('-t', String(id), '-v');
    await this.complete(id, 30_000, 'Transmission to find its data complete');
    return torrent;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** What a Transmission test runs on its two test hosts (ours, then Transmission's), for useTransmissionLan's clean-up. */
export interface TransmissionLan {
  lan: TestLan;
  /** A temporary folder for the daemon's configuration, downloads and torrents. */
  work: string;
  ours?: PeerProcess;
  oursDirs?: PeerFolders;
  daemon?: TransmissionDaemon;
}

/**
 * Builds the two test hosts before the describe block's tests and removes them, with whatever the
 * tests started on them, after: the tests fill in `ours`, `oursDirs` and `daemon` as they go.
 */
export function useTransmissionLan(workPrefix: string): TransmissionLan {
  const setup = {} as TransmissionLan;
  beforeAll(async () => {
    setup.lan = new TestLan(['shoal', 'transmission']);
    setup.lan.build();
    setup.work = await mkdtemp(path.join(os.tmpdir(), workPrefix));
  });
  afterAll(async () => {
    await setup.ours?.stop();
    setup.daemon?.kill();
    setup.lan?.destroy();
    if (setup.oursDirs) await removeFolders(setup.oursDirs);
    if (setup.work) await rm(setup.work, { recursive: true, force: true });
  });
  return setup;
}

/**
 * Starts our peer on the first test host as the seeder of age.txt and its tracker (the torrent
 * re-pointed at that host), with `args` added, and waits until it seeds; returns it and its .torrent.
 */
export async function startOurAgeSeeder(setup: TransmissionLan, args: string[]): Promise<{ ours: PeerProcess; torrent: string }> {
  const [ourHost] = setup.lan.hosts;
  const dirs = (setup.oursDirs = await makePeerFolders());
  const torrent = path.join(dirs.torrents, 'age.torrent');
  await copyFile(AGE_TORRENT, torrent);
  const announce = await runCommand(TORRENT_COMMAND, ['set-announce', torrent, `http://${ourHost.address}:6881/announce`]);
  if (announce.code !== 0) throw new Error(`set-announce failed: ${announce.stderr}`);
  await copyFile(AGE_TXT, path.join(dirs.shareable, 'age.txt'));
  const ours = (setup.ours = setup.lan.startPeer(ourHost, [...folderArgs(dirs), '--workers', '1', ...args]));
  await ours.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'our seeder');
  return { ours, torrent };
}
