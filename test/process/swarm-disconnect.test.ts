/**
 * A peer that vanishes mid-transfer (SIGKILL, no goodbye): the requests it held go to the other
 * peer and the download completes byte-identical.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileDigest } from '../helpers/peer-process.js';
import { generatedContent, SwarmFixture } from '../helpers/swarm-fixture.js';

const MiB = 1024 * 1024;

test('a seeder killed mid-transfer: the leecher finishes from the other seeder', async () => {
  const fixture = new SwarmFixture('moving.bin');
  try {
    const data = generatedContent(32 * MiB);
    const first = await fixture.startSeeder(data);
    const second = await fixture.startPeer([], data);
    await first.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the first seeder');
    await second.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the second seeder');
    // Slow enough that the kill lands mid-transfer.
    const leecher = await fixture.startPeer(['--download-limit', '4M']);
    const midway = await leecher.peer.waitForStatus(
      (s) => s.swarms[0]?.peers.length === 2 && s.swarms[0].have > s.swarms[0].pieces * 0.2,
      60_000,
      'the leecher to be connected to both seeders and a fifth done',
    );
    expect(midway.swarms[0].role).toBe('leecher');
    await first.peer.stop('SIGKILL');

    const done = await leecher.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the leecher to complete');
    expect(done.swarms[0].downloaded).toBe(data.length);
    expect(await fileDigest(path.join(leecher.dirs.shareable, 'moving.bin'))).toBe(createHash('sha1').update(data).digest('hex'));
    // The second seeder supplied what the first could not.
    const fromSecond = (await second.peer.status()).swarms[0].uploaded;
    expect(fromSecond).toBeGreaterThan(data.length * 0.2);
  } finally {
    await fixture.cleanup();
  }
});
