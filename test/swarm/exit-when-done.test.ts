/**
 * --exit-when-done means every torrent: a leecher of many small torrents, joined one after
 * another, must not exit when the ones joined so far are complete but others are still being
 * joined (found by the 200-torrent benchmark).
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/metainfo.js';
import { folderArgs, freePort, makePeerFolders, removeFolders, startPeer, type PeerProcess } from '../helpers/peer-process.js';
import { generatedContent } from '../helpers/swarm-fixture.js';

test('a leecher of 40 small torrents exits only once all 40 are complete', async () => {
  const [seedDirs, leechDirs] = await Promise.all([makePeerFolders(), makePeerFolders()]);
  const seedPort = await freePort();
  const running: PeerProcess[] = [];
  try {
    const names = Array.from({ length: 40 }, (_, i) => `small-${String(i).padStart(2, '0')}.bin`);
    for (const name of names) {
      const file = path.join(seedDirs.shareable, name);
      await writeFile(file, generatedContent(16 * 1024 + names.indexOf(name)));
      const torrent = await createTorrent(file, { announce: `http://127.0.0.1:${seedPort}/announce`, pieceLength: 16 * 1024 });
      await writeFile(path.join(seedDirs.torrents, `${name}.torrent`), torrent);
      await writeFile(path.join(leechDirs.torrents, `${name}.torrent`), torrent);
    }
    const seeder = startPeer([...folderArgs(seedDirs), '--workers', '1'], seedPort);
    running.push(seeder);
    await seeder.waitForStatus((s) => s.swarms.length === 40, 60_000, 'the seeder to join all 40');
    const leecher = startPeer([...folderArgs(leechDirs), '--workers', '1', '--exit-when-done'], await freePort());
    running.push(leecher);
    const { code } = await leecher.exited;
    expect(code).toBe(0);
    expect((await readdir(leechDirs.shareable)).sort()).toEqual(names);
  } finally {
    await Promise.all(running.map((peer) => peer.stop()));
    await Promise.all([seedDirs, leechDirs].map(removeFolders));
  }
}, 120_000);
