/**
 * The foundation slice end to end, through the real command line: the shipped seeder of
 * age.txt on 6881 (the port in age.torrent's announce URL), a leecher on 6882 with empty
 * folders, then a third peer started afterwards.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  AGE_TORRENT,
  AGE_TXT,
  copyInto,
  digest,
  fileDigest,
  folderArgs,
  makePeerFolders,
  removeFolders,
  startPeer,
  type PeerFolders,
  type PeerProcess,
} from '../helpers/peer-process.js';


describe('age.txt shared between processes on loopback', () => {
  const folders: PeerFolders[] = [];
  const peers: PeerProcess[] = [];

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    await Promise.all(folders.map(removeFolders));
  });

  async function peerWith(port: number, seed: boolean): Promise<{ peer: PeerProcess; dirs: PeerFolders }> {
    const dirs = await makePeerFolders();
    folders.push(dirs);
    await copyInto(AGE_TORRENT, dirs.torrents);
    if (seed) await copyInto(AGE_TXT, dirs.shareable);
    const peer = startPeer([...folderArgs(dirs), '--workers', '1'], port);
    peers.push(peer);
    return { peer, dirs };
  }

  test('a leecher and a later third peer download a byte-identical age.txt and become seeders', async () => {
    const original = await readFile(AGE_TXT);
    const seeder = await peerWith(6881, true);
    const seeded = await seeder.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check age.txt');
    expect(seeded.port).toBe(6881);
    expect(seeded.swarms[0]).toMatchObject({ name: 'age.txt', announcer: true, have: seeded.swarms[0].pieces, downloaded: 0 });

    const leecher = await peerWith(6882, false);
    const done = await leecher.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the leecher to complete');
    const swarm = done.swarms[0];
    expect(swarm).toMatchObject({ announcer: false, have: swarm.pieces, size: original.length, downloaded: original.length });
    expect(await fileDigest(path.join(leecher.dirs.shareable, 'age.txt'))).toBe(digest(original));
    // No partial data is left behind in the cache once the file is in shareable/.
    await expect(stat(path.join(leecher.dirs.cache, swarm.infoHash, 'data'))).rejects.toThrow();

    const seederView = await seeder.peer.waitForStatus((s) => s.swarms[0].uploaded >= original.length, 10_000, 'the seeder to count its upload');
    expect(seederView.swarms[0].known).toContain('127.0.0.1:6882');

    const third = await peerWith(6883, false);
    const thirdDone = await third.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the third peer to complete');
    expect(thirdDone.swarms[0].downloaded).toBe(original.length);
    expect(await fileDigest(path.join(third.dirs.shareable, 'age.txt'))).toBe(digest(original));

    for (const peer of peers) expect(await peer.stop()).toBe(0);
  });
});
