/**
 * Issue 22, disk faults: a leecher whose shareable/ is read-only (a read-only bind mount in a mount
 * namespace of its own, so root only; CI runs as root) downloads every piece, but the move into
 * shareable/ fails: /status shows a read-only storage error while it is still a leecher with every
 * piece. Once the folder is writable again (remounted from outside through nsenter) the storage
 * watch finds the cause gone, the move is done again, and it becomes a seeder, byte-identical.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { toolAvailable } from '../helpers/require-tool.js';
import {
  digest,
  expectSuccess,
  fileDigest,
  folderArgs,
  freePort,
  makePeerFolders,
  PeerProcess,
  PROJECT_ROOT,
  removeFolders,
  runProgram,
  SHOAL,
  startPeer,
  type PeerFolders,
} from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
const FILE_BYTES = 2 * MiB;
const RETRY_MS = 200;

const available = process.getuid?.() === 0 && toolAvailable('unshare') && toolAvailable('mount') && toolAvailable('nsenter');
if (!available && process.env.CI !== 'true') {
  console.warn('skipping the read-only shareable/ suite: it needs root, unshare and nsenter to give a peer a read-only folder (in CI it fails instead)');
}
const describeRoot = available || process.env.CI === 'true' ? describe : describe.skip;

describeRoot('a leecher whose shareable/ is read-only', () => {
  const folders: PeerFolders[] = [];
  const peers: PeerProcess[] = [];

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    await Promise.all(folders.map(removeFolders));
  });

  test('holds every piece in a read-only error as a leecher, and becomes a byte-identical seeder once the folder is writable again', async () => {
    if (!available) throw new Error('the read-only shareable/ suite needs root, unshare and nsenter (CI runs as root)');
    const data = randomBytes(FILE_BYTES);
    const seedDirs = await makePeerFolders();
    const leechDirs = await makePeerFolders();
    folders.push(seedDirs, leechDirs);
    const seedPort = await freePort();
    await writeFile(path.join(seedDirs.shareable, 'small.bin'), data);
    const torrent = await createTorrent(path.join(seedDirs.shareable, 'small.bin'), { announce: `http://127.0.0.1:${seedPort}/announce`, pieceLength: PIECE });
    await writeFile(path.join(seedDirs.torrents, 'small.torrent'), torrent);
    await writeFile(path.join(leechDirs.torrents, 'small.torrent'), torrent);
    const seeder = startPeer(folderArgs(seedDirs), seedPort);
    peers.push(seeder);
    await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');

    // The leecher's shareable/ is a read-only bind mount of itself in a mount namespace of its own;
    // `exec` makes the spawned child's pid the node process's.
    const leechPort = await freePort();
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
    const child = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', leechDirs.shareable, process.execPath, SHOAL, '--port', String(leechPort), ...folderArgs(leechDirs)], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SHOAL_TEST_SETTINGS: JSON.stringify({ storageRetryMs: RETRY_MS }) },
    });
    const leecher = new PeerProcess(child, leechPort);
    peers.push(leecher);

    const failed = await leecher.waitForStatus((s) => s.swarms[0]?.error != null, 20_000, 'the read-only error');
    const swarm = failed.swarms[0];
    expect(swarm.error).toEqual({ kind: 'read-only', message: expect.stringMatching(/moving it into shareable\/ failed.*EROFS/), since: expect.any(String) });
    expect(swarm.role).toBe('leecher');
    expect(swarm.have).toBe(swarm.pieces);
    expect(swarm.pieces).toBe(FILE_BYTES / PIECE);

    // It stays so while the folder is read-only, though it checks every RETRY_MS.
    await new Promise((resolve) => setTimeout(resolve, 5 * RETRY_MS + 1_000));
    const held = (await leecher.status()).swarms[0];
    expect(held.error?.kind).toBe('read-only');
    expect(held.role).toBe('leecher');
    expect(held.have).toBe(held.pieces);

    // Writable again, from outside, in the leecher's own mount namespace.
    const remount = await runProgram('nsenter', ['-t', String(child.pid), '-m', 'mount', '-o', 'remount,bind,rw', leechDirs.shareable], 10_000);
    expectSuccess(remount, 'the remount read-write through nsenter');
    const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the move into shareable/ once it is writable');
    expect(done.swarms[0].error).toBeNull();
    expect(done.swarms[0].have).toBe(done.swarms[0].pieces);
    expect(await fileDigest(path.join('/proc', String(child.pid), 'root', leechDirs.shareable, 'small.bin'))).toBe(digest(data));
    await leecher.stop();
    // The bind mount was the same directory: the real path holds the same bytes.
    expect(await fileDigest(path.join(leechDirs.shareable, 'small.bin'))).toBe(digest(data));
  }, 60_000);
});
