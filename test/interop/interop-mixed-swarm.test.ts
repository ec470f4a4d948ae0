/**
 * A mixed swarm: our seeder S, a libtorrent leecher L and our leechers O and O2. Pieces flow
 * both ways between L and O (O starts with the first half of the file, S uploads slowly); O
 * learns S's address from L's ut_pex, and L learns O2's from S's. O and L have the torrent with
 * a dead tracker, so ut_pex is the only way they can hear of anyone they are not told of directly.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { AGE_TXT, LT_PEER, oursWithAge, type InteropSetup } from '../helpers/interop.js';
import { fileDigest, folderArgs, freePort, makePeerFolders, removeFolders, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools, pythonModuleAvailable } from '../helpers/require-tool.js';

const missing = [...missingTools(['python3']), ...(pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent'])];

describeUnlessMissing(missing, ['python3-libtorrent'], 'a mixed swarm with libtorrent', () => {
  let setup: InteropSetup;
  const ours: { peer: PeerProcess; dirs: PeerFolders }[] = [];

  afterAll(async () => {
    await Promise.all(ours.map(({ peer }) => peer.stop()));
    await Promise.all(ours.map(({ dirs }) => removeFolders(dirs)));
    await setup?.cleanup();
  });

  /** One of our leechers, starting with `prefix` of age.txt when given (its pieces verify; the rest is missing). */
  async function ourLeecher(torrent: Buffer, prefix?: Buffer): Promise<{ peer: PeerProcess; dirs: PeerFolders }> {
    const dirs = await makePeerFolders();
    await writeFile(path.join(dirs.torrents, 'age.torrent'), torrent);
    if (prefix) await writeFile(path.join(dirs.shareable, 'age.txt'), prefix);
    // Slow, so that every leecher is still downloading while the others join.
    const entry = { peer: startPeer([...folderArgs(dirs), '--workers', '1', '--download-limit', '96k'], await freePort()), dirs };
    ours.push(entry);
    await entry.peer.waitForStatus((s) => s.swarms[0]?.role === 'leecher', 20_000, 'our leecher to start');
    return entry;
  }

  test('pieces flow both ways between libtorrent and our leecher, and ut_pex works both ways', async () => {
    // The seeder is slow, so that L gets much of the file from O, and O from L.
    setup = await oursWithAge(true, ['--upload-limit', '128k']);
    const s = setup.ours;
    const tracked = await readFile(setup.torrentFile);
    // O2 announces to S: S knows it, and will tell L.
    const o2 = await ourLeecher(tracked);
    await s.waitForStatus((st) => st.swarms[0].known.includes(`127.0.0.1:${o2.peer.port}`), 20_000, 'S to know O2');
    // O and L only know what they are told.
    const isolated = setAnnounce(tracked, 'http://127.0.0.1:1/announce');
    const o = await ourLeecher(isolated, (await readFile(AGE_TXT)).subarray(0, 10 * 65536));
    const ltTorrent = path.join(setup.theirDir, 'isolated.torrent');
    await writeFile(ltTorrent, isolated);
    const ltPort = await freePort();
    const lt = spawn(
      '/usr/bin/python3',
      [LT_PEER, ltTorrent, setup.theirDir, String(ltPort), '--connect', `127.0.0.1:${s.port}`, '--connect', `127.0.0.1:${o.peer.port}`, '--download-limit', '98304', '--linger', '5', '--timeout', '120'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let ltOut = '';
    lt.stdout.setEncoding('utf8').on('data', (text: string) => (ltOut += text));
    const ltExit = new Promise<number | null>((resolve) => lt.once('exit', resolve));
    try {
      // O hears of S only through L's ut_pex (S, a seeder, never connects out; O's tracker is dead).
      const sAddress = `127.0.0.1:${s.port}`;
      await o.peer.waitForStatus((st) => st.swarms[0].known.includes(sAddress), 30_000, "O to learn of S from L's ut_pex");
      await o.peer.waitForStatus((st) => st.swarms[0].peers.some((p) => p.address === sAddress), 30_000, 'O to connect to S');

      expect(await ltExit).toBe(0);
      // Pieces went both ways between L and O, as L counted them.
      const withO = new RegExp(`traffic 127\\.0\\.0\\.1:${o.peer.port} down (\\d+) up (\\d+)`).exec(ltOut);
      expect(withO).not.toBeNull();
      expect({ fromO: Number(withO![1]) > 0, toO: Number(withO![2]) > 0 }).toEqual({ fromO: true, toO: true });
      // L learned O2 from S's ut_pex and connected to it.
      expect(ltOut).toContain(`peer 127.0.0.1:${o2.peer.port} pex`);
      expect(await fileDigest(path.join(setup.theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    } finally {
      lt.kill('SIGKILL');
    }
  }, 150_000);
});
