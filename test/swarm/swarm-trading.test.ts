/**
 * A real swarm through the command line: one seeder whose upload is limited so that it alone
 * would need several times longer, and six leechers of one 64 MiB file. They finish
 * byte-identical because they trade among themselves (routing): the leechers' uploads add up to
 * more than the file.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileDigest } from '../helpers/peer-process.js';
import { generatedContent, SwarmFixture } from '../helpers/swarm-fixture.js';

const MiB = 1024 * 1024;

test('six leechers of a rate-limited seeder trade pieces and all finish identical', async () => {
  const fixture = new SwarmFixture('shared.bin');
  try {
    const data = generatedContent(64 * MiB);
    // 8 MiB/s: 6 x 64 MiB from the seeder alone would take 48 s; one copy of the file takes 8 s.
    const seeder = await fixture.startSeeder(data, ['--upload-limit', '8M']);
    await seeder.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the seeder');
    const leechers = [];
    for (let i = 0; i < 6; i++) leechers.push(await fixture.startPeer());
    await Promise.all(leechers.map(({ peer }) => peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 120_000, 'a leecher to complete')));
    const finished = await Promise.all(leechers.map(({ peer }) => peer.status()));
    const expected = createHash('sha1').update(data).digest('hex');
    for (const { dirs } of leechers) expect(await fileDigest(path.join(dirs.shareable, 'shared.bin'))).toBe(expected);

    // Each leecher downloaded the file once; what the seeder did not send, leechers sent each other.
    const leecherUploads = finished.reduce((sum, s) => sum + s.swarms[0].uploaded, 0);
    const seederUpload = (await seeder.peer.status()).swarms[0].uploaded;
    expect(leecherUploads).toBeGreaterThan(data.length);
    expect(seederUpload).toBeLessThan(6 * data.length);
  } finally {
    await fixture.cleanup();
  }
});
