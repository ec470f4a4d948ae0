/**
 * Persistence through the command line (docs/architecture.md, Disk): a leecher killed with SIGKILL
 * at several points resumes each time, downloading at most what was missing plus a few pieces; a
 * SIGTERM stop and restart downloads nothing it had; the restarted peer keeps its peer id, its port
 * and its known peers; the file ends byte-identical and never appears partial in shareable/.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileDigest, folderArgs, startPeer, type PeerProcess, type StatusDocument } from '../helpers/peer-process.js';
import { generatedContent, SwarmFixture, type SwarmPeer } from '../helpers/swarm-fixture.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
/** Pieces that may be downloaded twice around a kill: those verified after the last resume save. */
const SLACK_PIECES = 24;

test('a leecher killed (SIGKILL) three times and stopped once resumes each time where it was', async () => {
  const fixture = new SwarmFixture('resume.bin');
  let leecher: PeerProcess | undefined;
  try {
    const data = generatedContent(128 * MiB);
    // 16 MiB/s: the 128 MiB take about 8 s, time enough to stop the leecher at chosen points.
    const seeder = await fixture.startSeeder(data, ['--upload-limit', '16M']);
    await seeder.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the seeder');
    const first: SwarmPeer = await fixture.startPeer();
    const dirs = first.dirs;
    const port = first.peer.port;
    leecher = first.peer;
    const firstStatus = await leecher.waitForStatus((s) => s.swarms.length === 1, 20_000, 'the leecher to start');
    const peerId = firstStatus.peerId;
    const pieces = firstStatus.swarms[0].pieces;

    /** Restarts the leecher on the same folders, without --port: it must take the saved one. */
    const restart = async (): Promise<StatusDocument> => {
      leecher = startPeer([...folderArgs(dirs), '--workers', '1'], port, false);
      return leecher.waitForStatus((s) => s.swarms.length === 1, 30_000, 'the restarted leecher on its saved port');
    };

    let had = 0;
    for (const fraction of [0.2, 0.5, 0.8]) {
      const before = await leecher.waitForStatus((s) => s.swarms[0].have >= pieces * fraction, 120_000, `${fraction * 100}% done`);
      await leecher.stop('SIGKILL');
      // shareable/ never holds a partial file.
      expect(await readdir(dirs.shareable)).toEqual([]);
      const after = await restart();
      expect(after.peerId).toBe(peerId);
      expect(after.swarms[0].startedFrom).toBe('after-crash');
      // Everything saved before the kill is kept; at most the last few pieces are lost.
      expect(after.swarms[0].have).toBeGreaterThanOrEqual(Math.max(had, before.swarms[0].have - SLACK_PIECES));
      had = after.swarms[0].have;
    }

    // A clean stop: nothing it had is downloaded again.
    const beforeStop = await leecher.waitForStatus((s) => s.swarms[0].have >= had + 4, 60_000, 'a few more pieces');
    expect(await leecher.stop('SIGTERM')).toBe(0);
    const stoppedWith = beforeStop.swarms[0].have;
    const resumed = await restart();
    expect(resumed.swarms[0].have).toBeGreaterThanOrEqual(stoppedWith);
    expect(resumed.swarms[0].startedFrom).toBe('fast');
    expect(resumed.swarms[0].known).toContain(`127.0.0.1:${fixture.announcePort}`);
    const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 120_000, 'the download to complete');
    // Pieces may have arrived between the restart and that first status: count from there.
    expect(done.swarms[0].downloaded - resumed.swarms[0].downloaded).toBe(data.length - resumed.swarms[0].have * PIECE);
    expect(await fileDigest(path.join(dirs.shareable, 'resume.bin'))).toBe(createHash('sha1').update(data).digest('hex'));
  } finally {
    await leecher?.stop();
    await fixture.cleanup();
  }
}, 300_000);
