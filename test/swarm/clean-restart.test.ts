/**
 * Persistence across a clean stop, in one process (the process test persistence.test.ts keeps
 * the SIGKILL cases, which only a real process can show): a leecher stopped halfway and started
 * again on the same folders, without --port, resumes fast from its saved state with its peer id,
 * its port and its known peers, downloads nothing it had, and ends byte-identical; shareable/
 * never holds the partial file.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { fileDigest } from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;

const swarm = new InProcessSwarm('resume.bin');
afterEach(() => swarm.cleanup());

test('a leecher stopped halfway and restarted downloads only what it did not have', async () => {
  const data = generatedContent(16 * MiB);
  // 8 MiB/s: the 16 MiB take about 2 s, time enough to stop the leecher halfway.
  const seeder = await swarm.startSeeder(data, ['--upload-limit', '8M'], PIECE);
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the seeder');
  const leecher = await swarm.startPeer();
  const first = await leecher.waitForStatus((s) => s.swarms.length === 1, 20_000, 'the leecher to start');
  const pieces = first.swarms[0].pieces;

  const before = await leecher.waitForStatus((s) => s.swarms[0].have >= pieces * 0.4, 60_000, '40% done');
  expect(before.swarms[0].role).toBe('leecher');
  await leecher.stop();
  expect(await readdir(leecher.dirs.shareable)).toEqual([]);

  const resumed = await leecher.restart(false);
  expect(resumed.peerId).toBe(first.peerId);
  expect(resumed.port).toBe(leecher.port);
  expect(resumed.swarms[0].startedFrom).toBe('fast');
  expect(resumed.swarms[0].have).toBeGreaterThanOrEqual(before.swarms[0].have);
  expect(resumed.swarms[0].known).toContain(`127.0.0.1:${swarm.announcePort}`);

  const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'the download to complete');
  // Pieces may have arrived between the restart and that first status: count from there.
  expect(done.swarms[0].downloaded - resumed.swarms[0].downloaded).toBe(data.length - resumed.swarms[0].have * PIECE);
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'resume.bin'))).toBe(createHash('sha1').update(data).digest('hex'));
});
