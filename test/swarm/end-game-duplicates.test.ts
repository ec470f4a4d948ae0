/**
 * Issue 21: the end game must not download a small torrent twice. A leecher of a ~1.3 MiB file
 * from two seeders once received 2.18 MB for 1.36 MB of data, because every block still in
 * flight was asked of the other seeder too. Now a peer is asked for a block already requested
 * elsewhere only when it has nothing else to do, one at a time: what arrives (`received`, every
 * PIECE payload, duplicates included) stays within 5 % of the size.
 */
import path from 'node:path';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { digest, fileDigest } from '../helpers/peer-process.js';

const KiB = 1024;
/** Bytes received over the size, at most: a few 16 KiB blocks on 1.3 MiB. */
const MAX_RECEIVED_RATIO = 1.05;

const swarm = new InProcessSwarm('small.bin');
afterEach(() => swarm.cleanup());

test.each([256, 64])('a leecher of two seeders receives at most 5 %% more than a 1.3 MiB file, in %i KiB pieces, and the file is identical', async (pieceKiB) => {
  const data = generatedContent(1_331 * KiB);
  const first = await swarm.startSeeder(data, [], pieceKiB * KiB);
  await first.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the first seeder');
  const second = await swarm.startPeer([], data);
  await second.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the second seeder');
  // The second seeder announced: the tracker's answer to the leecher names both.
  await first.waitForStatus((s) => s.swarms[0]?.known.length === 1, 20_000, 'the tracker to list the second seeder');

  const leecher = await swarm.startPeer();
  const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the leecher to complete');
  const { received, downloaded, size } = done.swarms[0];
  expect(downloaded).toBe(size);
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'small.bin'))).toBe(digest(data));
  expect(received / size).toBeGreaterThanOrEqual(1);
  expect(received / size).toBeLessThanOrEqual(MAX_RECEIVED_RATIO);
});
