/**
 * The foundation slice end to end, in one process over loopback: the seeder of age.txt on the
 * port of its torrent's announce URL, a leecher with empty folders, then a third peer started
 * afterwards.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InProcessSwarm } from '../helpers/in-process-peer.js';
import { AGE_TXT, digest, fileDigest } from '../helpers/peer-process.js';

const swarm = new InProcessSwarm('age.txt');
afterEach(() => swarm.cleanup());

test('a leecher and a later third peer download a byte-identical age.txt and become seeders', async () => {
  const original = await readFile(AGE_TXT);
  const seeder = await swarm.startAgeAnnouncer(true);
  const seeded = await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check age.txt');
  expect(seeded.port).toBe(swarm.announcePort);
  expect(seeded.swarms[0]).toMatchObject({ name: 'age.txt', announcer: true, have: seeded.swarms[0].pieces, downloaded: 0 });

  const leecher = await swarm.startPeer();
  const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the leecher to complete');
  const leeched = done.swarms[0];
  expect(leeched).toMatchObject({ announcer: false, have: leeched.pieces, size: original.length, downloaded: original.length });
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'age.txt'))).toBe(digest(original));
  // No partial data is left behind in the cache once the file is in shareable/.
  await expect(stat(path.join(leecher.dirs.cache, leeched.infoHash, 'data'))).rejects.toThrow();

  const seederView = await seeder.waitForStatus((s) => s.swarms[0].uploaded >= original.length, 10_000, 'the seeder to count its upload');
  expect(seederView.swarms[0].known).toContain(`127.0.0.1:${leecher.port}`);

  const third = await swarm.startPeer();
  const thirdDone = await third.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the third peer to complete');
  expect(thirdDone.swarms[0].downloaded).toBe(original.length);
  expect(await fileDigest(path.join(third.dirs.shareable, 'age.txt'))).toBe(digest(original));

  // Every peer stops cleanly (the process test's exit code 0).
  for (const peer of [seeder, leecher, third]) await expect(peer.stop()).resolves.toBeUndefined();
});
