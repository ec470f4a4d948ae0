/**
 * Disk-fault tests give one peer a folder of its own kind (a small tmpfs, a read-only bind mount)
 * in a mount namespace of its own, which needs root: CI runs as root; elsewhere the suite is
 * skipped with a message. Here: that guard, a seeder of one generated file, and the peer started
 * under `unshare -m` after a setup script.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { describeUnlessMissing, missingTools } from './require-tool.js';
import { folderArgs, freePort, makePeerFolders, PeerProcess, PROJECT_ROOT, removeFolders, SHOAL, startPeer, type PeerFolders } from './peer-process.js';

/** `describe(name, fn)` as root with `tools` installed; otherwise skipped, or failed in CI. */
export function describeAsRoot(tools: string[], name: string, fn: () => void): void {
  const missing = missingTools(tools);
  if (process.getuid?.() !== 0) missing.unshift('root');
  describeUnlessMissing(missing, ['root', ...tools], name, fn);
}

/** Every peer and folder a suite made, stopped and removed by cleanup(). */
export class NamespacedSwarm {
  private readonly folders: PeerFolders[] = [];
  private readonly peers: PeerProcess[] = [];

  /**
   * A seeder (started with `seederArgs`) of `bytes` random bytes in `name`, and the folders of a
   * leecher that has the torrent; resolves once the seeder has checked its data (within `checkMs`).
   */
  async seed(name: string, bytes: number, pieceLength: number, seederArgs: string[] = [], checkMs = 60_000): Promise<{ data: Buffer; seeder: PeerProcess; leechDirs: PeerFolders }> {
    const data = randomBytes(bytes);
    const seedDirs = await makePeerFolders();
    const leechDirs = await makePeerFolders();
    this.folders.push(seedDirs, leechDirs);
    const seedPort = await freePort();
    await writeFile(path.join(seedDirs.shareable, name), data);
    const torrent = await createTorrent(path.join(seedDirs.shareable, name), { announce: `http://127.0.0.1:${seedPort}/announce`, pieceLength });
    const torrentName = `${path.parse(name).name}.torrent`;
    await writeFile(path.join(seedDirs.torrents, torrentName), torrent);
    await writeFile(path.join(leechDirs.torrents, torrentName), torrent);
    const seeder = startPeer([...folderArgs(seedDirs), ...seederArgs], seedPort);
    this.peers.push(seeder);
    await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', checkMs, 'the seeder to check its data');
    return { data, seeder, leechDirs };
  }

  /**
   * A peer in `dirs`, in a mount namespace of its own, after `script` (sh, with `$1` = `folder`)
   * set the folder up. `exec` makes the spawned child's pid the node process's, so the test can
   * reach its mounts through /proc/<pid>/root or nsenter.
   */
  async startInNamespace(script: string, folder: string, dirs: PeerFolders, env: NodeJS.ProcessEnv = process.env): Promise<{ peer: PeerProcess; child: ChildProcess }> {
    const port = await freePort();
    const child = spawn('unshare', ['-m', 'sh', '-c', `${script} && shift && exec "$@"`, 'sh', folder, process.execPath, SHOAL, '--port', String(port), ...folderArgs(dirs)], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    const peer = new PeerProcess(child, port);
    this.peers.push(peer);
    return { peer, child };
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.peers.map((peer) => peer.stop()));
    await Promise.all(this.folders.map(removeFolders));
  }
}
