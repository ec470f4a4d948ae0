/**
 * Encrypted connections (MSE/PE, issue 19) with Transmission 3.00 set to require them
 * (`"encryption": 2` in its settings.json) and our peer under --encryption require: neither side
 * takes a plain handshake or a plaintext payload, so a transfer at all means RC4, and our /status
 * must say so. As in interop-transmission.test.ts, each runs on a test host of its own (network
 * namespaces: Transmission ignores loopback peers). Our upload and download limits keep each
 * transfer going for a few seconds, long enough for /status to be read while the peer is
 * connected (a finished peer is dropped: both sides seed).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { AGE_TORRENT, AGE_TXT } from '../helpers/interop.js';
import { digest, fileDigest, folderArgs, makePeerFolders, removeFolders, runCommand, TORRENT_COMMAND, type PeerFolders, type PeerProcess, type StatusDocument } from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools } from '../helpers/require-tool.js';
import { canBuildLan, TestLan, type LanHost } from '../helpers/test-lan.js';
import { TransmissionDaemon } from '../helpers/transmission-daemon.js';

const missing = [...missingTools(['transmission-daemon', 'transmission-remote', 'ip']), ...(canBuildLan() ? [] : ['root (for network namespaces)'])];
/** Transmission's `encryption` setting: 0 tolerated, 1 preferred, 2 required. */
const TRANSMISSION_REQUIRED = 2;

/** Whether our /status shows, in the swarm named `name`, a connection to `host` with its payload in RC4. */
function encryptedPeerShown(status: StatusDocument, name: string, host: LanHost): boolean {
  const peers = status.swarms.find((swarm) => swarm.name === name)?.peers ?? [];
  return peers.some((peer) => peer.address.startsWith(`${host.address}:`) && peer.encryption === 'rc4');
}

describeUnlessMissing(missing, ['transmission-daemon', 'root'], 'encrypted connections with Transmission (encryption required)', () => {
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
    work = await mkdtemp(path.join(os.tmpdir(), 'shoal-transmission-mse-'));
  });

  afterAll(async () => {
    await ours?.stop();
    daemon?.kill();
    lan?.destroy();
    if (oursDirs) await removeFolders(oursDirs);
    await rm(work, { recursive: true, force: true });
  });

  test('transmission-daemon downloads age.txt from our seeder over RC4, and our /status shows it encrypted', async () => {
    const [ourHost, theirHost] = lan.hosts;
    oursDirs = await makePeerFolders();
    const torrent = path.join(oursDirs.torrents, 'age.torrent');
    await copyFile(AGE_TORRENT, torrent);
    expect((await runCommand(TORRENT_COMMAND, ['set-announce', torrent, `http://${ourHost.address}:6881/announce`])).code).toBe(0);
    await copyFile(AGE_TXT, path.join(oursDirs.shareable, 'age.txt'));
    ours = lan.startPeer(ourHost, [...folderArgs(oursDirs), '--workers', '1', '--encryption', 'require', '--upload-limit', '512k', '--download-limit', '512k', '--verbose']);
    await ours.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'our seeder');

    const downloads = path.join(work, 'downloads');
    await mkdir(downloads);
    daemon = await TransmissionDaemon.start(theirHost, path.join(work, 'config'), downloads, { encryption: TRANSMISSION_REQUIRED });
    expect(daemon.remote('-si')).toMatch(/Encryption: required/);
    daemon.remote('-a', torrent);
    await ours.waitForStatus((s) => encryptedPeerShown(s, 'age.txt', theirHost), 60_000, 'Transmission connected over RC4');
    await daemon.complete(1, 60_000, 'Transmission to complete');

    expect(await fileDigest(path.join(downloads, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    const [swarm] = (await ours.status()).swarms;
    expect(swarm.uploaded).toBeGreaterThanOrEqual(swarm.size);
    expect(ours.output.join('')).toMatch(new RegExp(`encrypted handshake (from|with) ${theirHost.address.replaceAll('.', '\\.')}:\\d+: payload in rc4`));
  }, 150_000);

  test('our leecher downloads a torrent that only transmission-daemon seeds, over RC4', async () => {
    // Builds on the test above: our peer (under require) and the daemon (required) are running.
    if (!ours || !oursDirs || !daemon) throw new Error('the first test did not leave our peer and Transmission running');
    const [ourHost, theirHost] = lan.hosts;
    const data = randomBytes(1024 * 1024 + 1234);
    const downloads = path.join(work, 'downloads');
    await writeFile(path.join(downloads, 'theirs.bin'), data);
    const torrent = await createTorrent(path.join(downloads, 'theirs.bin'), { announce: `http://${ourHost.address}:6881/announce`, pieceLength: 64 * 1024 });
    const torrentFile = path.join(work, 'theirs.torrent');
    await writeFile(torrentFile, torrent);
    daemon.remote('-a', torrentFile);
    daemon.remote('-t', '2', '-v');
    await daemon.complete(2, 30_000, 'Transmission to find its data complete');

    await writeFile(path.join(oursDirs.torrents, 'theirs.torrent'), torrent);
    await ours.waitForStatus((s) => encryptedPeerShown(s, 'theirs.bin', theirHost), 60_000, 'a connection to Transmission over RC4 for theirs.bin');
    const done = await ours.waitForStatus((s) => s.swarms.some((swarm) => swarm.name === 'theirs.bin' && swarm.role === 'seeder'), 60_000, 'our peer to download it from Transmission');
    expect(done.swarms.find((swarm) => swarm.name === 'theirs.bin')!.downloaded).toBe(data.length);
    expect(await fileDigest(path.join(oursDirs.shareable, 'theirs.bin'))).toBe(digest(data));
  }, 120_000);
});
