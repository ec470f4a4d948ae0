/**
 * Transmission 3.00 (Debian's transmission-daemon) downloading from our seeder and its embedded
 * tracker. Transmission ignores peers in 127.0.0.0/8 and keeps one peer per address, so the two
 * run on test hosts of their own (network namespaces on a bridge); transmission-remote drives
 * the daemon over its RPC port inside its host.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { AGE_TORRENT, AGE_TXT } from '../helpers/interop.js';
import { digest, fileDigest, folderArgs, makePeerFolders, removeFolders, runCommand, TORRENT_COMMAND, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools } from '../helpers/require-tool.js';
import { canBuildLan, TestLan } from '../helpers/test-lan.js';
import { TransmissionDaemon } from '../helpers/transmission-daemon.js';

const missing = [...missingTools(['transmission-daemon', 'transmission-remote', 'ip']), ...(canBuildLan() ? [] : ['root (for network namespaces)'])];

describeUnlessMissing(missing, ['transmission-daemon', 'root'], 'interoperability with Transmission', () => {
  let lan: TestLan;
  let ours: PeerProcess | undefined;
  let daemon: TransmissionDaemon | undefined;
  let oursDirs: PeerFolders | undefined;
  let work = '';

  beforeAll(async () => {
    lan = new TestLan(['shoal', 'transmission']);
    try {
      lan.build();
    } catch (error) {
      lan.destroy();
      throw error;
    }
    work = await mkdtemp(path.join(os.tmpdir(), 'shoal-transmission-'));
  });

  afterAll(async () => {
    await ours?.stop();
    daemon?.kill();
    lan?.destroy();
    if (oursDirs) await removeFolders(oursDirs);
    await rm(work, { recursive: true, force: true });
  });

  test('transmission-daemon downloads age.txt from our seeder, announcing to our tracker', async () => {
    const [ourHost, theirHost] = lan.hosts;
    oursDirs = await makePeerFolders();
    const torrent = path.join(oursDirs.torrents, 'age.torrent');
    await copyFile(AGE_TORRENT, torrent);
    expect((await runCommand(TORRENT_COMMAND, ['set-announce', torrent, `http://${ourHost.address}:6881/announce`])).code).toBe(0);
    await copyFile(AGE_TXT, path.join(oursDirs.shareable, 'age.txt'));
    ours = lan.startPeer(ourHost, [...folderArgs(oursDirs), '--workers', '1']);
    await ours.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'our seeder');

    const downloads = path.join(work, 'downloads');
    await mkdir(downloads);
    daemon = await TransmissionDaemon.start(theirHost, path.join(work, 'config'), downloads);
    daemon.remote('-a', torrent);
    await daemon.complete(1, 90_000, 'Transmission to complete');

    expect(await fileDigest(path.join(downloads, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    const status = await ours.status();
    expect(status.swarms[0].uploaded).toBeGreaterThanOrEqual(status.swarms[0].size);
    expect(status.swarms[0].known.some((address) => address.startsWith(`${theirHost.address}:`))).toBe(true);
  }, 180_000); // its own waits add up to 140 s: under load the default 60 s cut them short

  test('our peer downloads a new torrent that only transmission-daemon seeds, from the torrent dropped into torrents/', async () => {
    // Builds on the test above: our peer and the daemon are running. A new torrent, so that the
    // daemon has no memory of our address as a seed (it kept such an address choked when we tried).
    if (!ours || !oursDirs || !daemon) throw new Error('the first test did not leave our peer and Transmission running');
    const [ourHost] = lan.hosts;
    const data = randomBytes(3 * 1024 * 1024 + 1234);
    const downloads = path.join(work, 'downloads');
    await writeFile(path.join(downloads, 'theirs.bin'), data);
    const torrent = await createTorrent(path.join(downloads, 'theirs.bin'), { announce: `http://${ourHost.address}:6881/announce`, pieceLength: 64 * 1024 });
    const torrentFile = path.join(work, 'theirs.torrent');
    await writeFile(torrentFile, torrent);
    daemon.remote('-a', torrentFile);
    daemon.remote('-t', '2', '-v');
    await daemon.complete(2, 30_000, 'Transmission to find its data complete');

    await writeFile(path.join(oursDirs.torrents, 'theirs.torrent'), torrent);
    const done = await ours.waitForStatus((s) => s.swarms.some((swarm) => swarm.name === 'theirs.bin' && swarm.role === 'seeder'), 90_000, 'our peer to download it from Transmission');
    const swarm = done.swarms.find((entry) => entry.name === 'theirs.bin')!;
    expect(swarm.downloaded).toBe(data.length);
    expect(await fileDigest(path.join(oursDirs.shareable, 'theirs.bin'))).toBe(digest(data));
  }, 150_000);
});
