/**
 * A whole swarm in one process: one seeder whose upload is limited so that it alone would need
 * several times longer, and six leechers of one 16 MiB file. They finish byte-identical because
 * they trade among themselves (routing): the leechers' uploads add up to more than the file.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { fileDigest } from '../helpers/peer-process.js';

const MiB = 1024 * 1024;

const swarm = new InProcessSwarm('shared.bin');
afterEach(() => swarm.cleanup());

test('six leechers of a rate-limited seeder trade pieces and all finish identical', async () => {
  const data = generatedContent(16 * MiB);
  // 8 MiB/s: 6 x 16 MiB from the seeder alone would take 12 s; one copy of the file takes 2 s.
  const seeder = await swarm.startSeeder(data, ['--upload-limit', '8M']);
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the seeder');
  const leechers = [];
  for (let i = 0; i < 6; i++) leechers.push(await swarm.startPeer());
  await Promise.all(leechers.map((peer) => peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 120_000, 'a leecher to complete')));
  const finished = leechers.map((peer) => peer.status());
  const expected = createHash('sha1').update(data).digest('hex');
  for (const { dirs } of leechers) expect(await fileDigest(path.join(dirs.shareable, 'shared.bin'))).toBe(expected);

  // Each leecher downloaded the file once; what the seeder did not send, leechers sent each other.
  const leecherUploads = finished.reduce((sum, s) => sum + s.swarms[0].uploaded, 0);
  const seederUpload = seeder.status().swarms[0].uploaded;
  expect(leecherUploads).toBeGreaterThan(data.length);
  expect(seederUpload).toBeLessThan(6 * data.length);
});
