/**
 * The course's steps on a real LAN, with four test hosts (network namespaces on a bridge, each
 * with its own address) running the real command line:
 * A's address goes into age.torrent's announce (set-announce); A has age.txt: announcer and first
 * seeder. B has age.txt too: not the announce address, it checks the file and seeds, announcing to
 * A. C and D have no file: leechers that get the list from A and connect to every peer; when D
 * joins, C learns of D from A's broadcast and they trade pieces.
 */
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AGE_TORRENT, AGE_TXT, digest, fileDigest, folderArgs, makePeerFolders, removeFolders, runCommand, TORRENT_COMMAND, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { canBuildLan, TestLan } from '../helpers/test-lan.js';


const lanAvailable = canBuildLan();
if (!lanAvailable && process.env.CI !== 'true') {
  console.warn('skipping the LAN suite: it needs root and `ip netns` to make its test hosts (in CI it fails instead)');
}
const describeLan = lanAvailable || process.env.CI === 'true' ? describe : describe.skip;

describeLan('four hosts of a LAN', () => {
  let lan: TestLan;
  const folders: PeerFolders[] = [];
  const peers: PeerProcess[] = [];

  beforeAll(() => {
    if (!lanAvailable) throw new Error('the LAN suite needs root and `ip netns` (CI runs as root)');
    lan = new TestLan(['a', 'b', 'c', 'd']);
    lan.build();
  });

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    lan?.destroy();
    await Promise.all(folders.map(removeFolders));
  });

  test('A announces and seeds, B seeds its own copy, C and D download and trade', async () => {
    const [a, b, c, d] = lan.hosts;
    const original = await readFile(AGE_TXT);

    // Step 2 of the course: put A's address in the torrent's announce.
    const shared = await makePeerFolders();
    folders.push(shared);
    const torrent = path.join(shared.torrents, 'age.torrent');
    await copyFile(AGE_TORRENT, torrent);
    const edit = await runCommand(TORRENT_COMMAND, ['set-announce', torrent, `http://${a.address}:6881/announce`]);
    expect(edit.code).toBe(0);

    const hostFolders = async (withFile: boolean): Promise<PeerFolders> => {
      const dirs = await makePeerFolders();
      folders.push(dirs);
      await copyFile(torrent, path.join(dirs.torrents, 'age.torrent'));
      if (withFile) await copyFile(AGE_TXT, path.join(dirs.shareable, 'age.txt'));
      return dirs;
    };
    const start = (host: (typeof lan.hosts)[number], dirs: PeerFolders, extra: string[] = []): PeerProcess => {
      const peer = lan.startPeer(host, [...folderArgs(dirs), '--workers', '1', ...extra]);
      peers.push(peer);
      return peer;
    };

    // Slow seeders and fast leechers: C, which starts first, soon has pieces D lacks, and D
    // pieces C lacks, and each gets them faster from the other than from A or B.
    const seederLimit = ['--upload-limit', '64k'];
    const peerA = start(a, await hostFolders(true), seederLimit);
    const statusA = await peerA.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'A to seed');
    expect(statusA.swarms[0].announcer).toBe(true);

    const peerB = start(b, await hostFolders(true), seederLimit);
    const statusB = await peerB.waitForStatus((s) => s.swarms[0]?.role === 'seeder' && s.swarms[0].tracker?.state === 'ok', 30_000, 'B to seed and announce');
    expect(statusB.swarms[0]).toMatchObject({ announcer: false, downloaded: 0 });
    await peerA.waitForStatus((s) => s.swarms[0].known.includes(`${b.address}:6881`), 10_000, 'A to list B');

    const dirsC = await hostFolders(false);
    const peerC = start(c, dirsC);
    await peerC.waitForStatus((s) => s.swarms[0]?.peers.length === 2, 30_000, 'C to connect to A and B');
    const dirsD = await hostFolders(false);
    const peerD = start(d, dirsD);

    const cAddress = `${c.address}:6881`;
    const dAddress = `${d.address}:6881`;
    await peerC.waitForStatus((s) => s.swarms[0].known.includes(dAddress), 15_000, 'C to learn of D');
    await peerC.waitForStatus((s) => s.swarms[0].peers.some((p) => p.address === dAddress), 15_000, 'C to be connected to D');
    await peerD.waitForStatus((s) => s.swarms[0].peers.some((p) => p.address === cAddress), 15_000, 'D to be connected to C');

    const doneC = await peerC.waitForStatus((s) => s.swarms[0].role === 'seeder', 90_000, 'C to complete');
    const doneD = await peerD.waitForStatus((s) => s.swarms[0].role === 'seeder', 90_000, 'D to complete');
    // They traded, both ways: A and B only seed, so whatever C or D uploaded went to the other.
    expect(doneC.swarms[0].uploaded).toBeGreaterThan(0);
    expect(doneD.swarms[0].uploaded).toBeGreaterThan(0);

    for (const dirs of [dirsC, dirsD]) expect(await fileDigest(path.join(dirs.shareable, 'age.txt'))).toBe(digest(original));
    for (const [peer, host] of [peerA, peerB, peerC, peerD].map((p, i) => [p, lan.hosts[i]] as const)) {
      // Each host's address, found from the route to the announcer (no --host given).
      expect(await peer.status()).toMatchObject({ host: host.address, swarms: [{ role: 'seeder' }] });
    }
  });
});
