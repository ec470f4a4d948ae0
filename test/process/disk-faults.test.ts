/**
 * Issue 22, disk faults: a leecher whose cache/ is a full tmpfs (in a mount namespace of its own,
 * so root only; CI runs as root) goes into a storage error. /status shows it, downloading stops
 * (the seeder's upload stops growing), the log says so in a line or two, not once per piece;
 * once space is freed the leecher resumes by itself and ends with the data byte-identical.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { toolAvailable } from '../helpers/require-tool.js';
import {
  digest,
  fileDigest,
  folderArgs,
  freePort,
  makePeerFolders,
  PeerProcess,
  PROJECT_ROOT,
  removeFolders,
  SHOAL,
  startPeer,
  type PeerFolders,
} from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
/** The file (20 MiB) cannot fit in the tmpfs (24 MiB) beside the filler (8 MiB) until the filler goes. */
const FILE_BYTES = 20 * MiB;
const TMPFS = '24m';
const FILLER_MIB = 8;

const available = process.getuid?.() === 0 && toolAvailable('unshare') && toolAvailable('mount');
if (!available && process.env.CI !== 'true') {
  console.warn('skipping the disk-fault suite: it needs root and unshare to give a peer a small tmpfs (in CI it fails instead)');
}
const describeRoot = available || process.env.CI === 'true' ? describe : describe.skip;

describeRoot('a leecher whose cache/ runs out of space', () => {
  const folders: PeerFolders[] = [];
  const peers: PeerProcess[] = [];

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    await Promise.all(folders.map(removeFolders));
  });

  test('shows a disk-full error, stops downloading, logs it once, and finishes by itself once space is freed', async () => {
    if (!available) throw new Error('the disk-fault suite needs root and unshare (CI runs as root)');
    const data = randomBytes(FILE_BYTES);
    const seedDirs = await makePeerFolders();
    const leechDirs = await makePeerFolders();
    folders.push(seedDirs, leechDirs);
    const seedPort = await freePort();
    await writeFile(path.join(seedDirs.shareable, 'big.bin'), data);
    const torrent = await createTorrent(path.join(seedDirs.shareable, 'big.bin'), { announce: `http://127.0.0.1:${seedPort}/announce`, pieceLength: PIECE });
    await writeFile(path.join(seedDirs.torrents, 'big.torrent'), torrent);
    await writeFile(path.join(leechDirs.torrents, 'big.torrent'), torrent);
    // Slow enough that the disk fills long before the whole file has been sent.
    const seeder = startPeer([...folderArgs(seedDirs), '--upload-limit', '2M'], seedPort);
    peers.push(seeder);
    await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the seeder to check its data');

    // The leecher's cache/ is a small tmpfs in a mount namespace of its own, with a filler in it.
    const leechPort = await freePort();
    const script = `mount -t tmpfs -o size=${TMPFS} tmpfs "$1" && head -c ${FILLER_MIB}M /dev/zero > "$1/filler" && shift && exec "$@"`;
    const child = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', leechDirs.cache, process.execPath, SHOAL, '--port', String(leechPort), ...folderArgs(leechDirs)], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const leecher = new PeerProcess(child, leechPort);
    peers.push(leecher);

    const failed = await leecher.waitForStatus((s) => s.swarms[0]?.error != null, 60_000, 'the storage error');
    const error = failed.swarms[0].error!;
    expect(error).toEqual({ kind: 'disk-full', message: expect.stringMatching(/ENOSPC/), since: expect.any(String) });
    expect(Date.now() - Date.parse(error.since)).toBeLessThan(60_000);
    const uploadedAtError = (await seeder.status()).swarms[0].uploaded;
    expect(uploadedAtError).toBeLessThan(FILE_BYTES - 2 * MiB);

    // Requests were cancelled: what was already on its way arrives, then the seeder sends nothing more.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const uploadedSoonAfter = (await seeder.status()).swarms[0].uploaded;
    expect(uploadedSoonAfter - uploadedAtError).toBeLessThanOrEqual(4 * PIECE);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const held = await leecher.status();
    expect(held.swarms[0].error?.kind).toBe('disk-full');
    expect((await seeder.status()).swarms[0].uploaded - uploadedSoonAfter).toBeLessThanOrEqual(PIECE);
    expect(held.swarms[0].role).toBe('leecher');

    const storageLines = (): string[] => leecher.output.join('').split('\n').filter((line) => /storage error|cannot write|cannot save|ENOSPC/.test(line));
    expect(storageLines().length).toBeGreaterThanOrEqual(1);
    expect(storageLines().length).toBeLessThanOrEqual(2);
    expect(storageLines()[0]).toMatch(/storage error \(disk-full\)/);

    // Space comes back (the filler is removed through the leecher's own view of the mounts): it resumes by itself.
    await rm(path.join('/proc', String(child.pid), 'root', leechDirs.cache, 'filler'));
    const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 90_000, 'the download to finish after space was freed');
    expect(done.swarms[0].error).toBeNull();
    expect(storageLines().some((line) => /storage error \(disk-full\) is gone after \d+ s, \d+ further failure\(s\) meanwhile/.test(line))).toBe(true);
    expect(storageLines().length).toBeLessThanOrEqual(4);
    expect(await fileDigest(path.join(leechDirs.shareable, 'big.bin'))).toBe(digest(data));
  }, 240_000);
});
