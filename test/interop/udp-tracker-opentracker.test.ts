/**
 * Our peers around a tracker that is not one of ours: opentracker (Debian's build), on
 * 127.0.0.1, tracking the torrent of age.txt (its whitelist). A seeder and a leecher of ours,
 * neither of them the torrent's announcer, find each other only through opentracker's reply.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { InProcessSwarm } from '../helpers/in-process-peer.js';
import { Opentracker } from '../helpers/opentracker.js';
import { AGE_TORRENT, AGE_TXT, fileDigest } from '../helpers/peer-process.js';
import { describeWithTool } from '../helpers/require-tool.js';
import { waitUntil, withTrackers } from '../helpers/trackers.js';

/** `promise`, or its error with `explain()` (logs read when it fails) added. */
async function explained<T>(promise: Promise<T>, explain: () => string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${explain()}`);
  }
}

describeWithTool(['opentracker'], 'our peers with opentracker as their tracker', () => {
  const swarm = new InProcessSwarm('age.txt');
  let tracker: Opentracker | undefined;
  afterEach(async () => {
    await swarm.cleanup();
    await tracker?.stop();
    tracker = undefined;
  });

  test.each(['http', 'udp'] as const)('our leecher downloads age.txt from our seeder, both announcing to opentracker over %s', async (scheme) => {
    const infoHash = parseMetainfo(await readFile(AGE_TORRENT)).infoHashHex;
    const opentracker = await Opentracker.start([infoHash]);
    tracker = opentracker;
    swarm.torrent = withTrackers(await readFile(AGE_TORRENT), scheme === 'http' ? opentracker.httpAnnounceUrl : opentracker.udpAnnounceUrl);
    const size = swarm.meta.totalLength;

    const seeder = await swarm.startPeer([], await readFile(AGE_TXT));
    const explain = (): string => `opentracker's log:\n${opentracker.output}\nour seeder's log:\n${seeder.output}`;
    expect(seeder.status().swarms[0]).toMatchObject({ role: 'seeder', announcer: false });
    // The leecher's first announce must find the seeder listed.
    await waitUntil(() => opentracker.scrape(infoHash), (counts) => counts?.complete === 1, 10_000, 'opentracker to list our seeder', explain);

    const leecher = await swarm.startPeer();
    expect(leecher.status().swarms[0]).toMatchObject({ role: 'leecher', announcer: false });
    const done = await explained(leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 30_000, 'our leecher to complete'), explain);
    expect(done.swarms[0].downloaded).toBe(size);
    expect(done.swarms[0].known).toContain(`127.0.0.1:${seeder.port}`);
    expect(await fileDigest(path.join(leecher.dirs.shareable, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    expect(seeder.status().swarms[0].uploaded).toBeGreaterThanOrEqual(size);
    // opentracker heard the leecher's event=completed: two seeders, one download.
    const counted = (counts: { complete: number; downloaded: number } | undefined): boolean => counts?.complete === 2 && counts.downloaded === 1;
    await waitUntil(() => opentracker.scrape(infoHash), counted, 10_000, 'opentracker to count the completed download', explain);
  });
});
