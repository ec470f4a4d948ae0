/**
 * BEP 12 tiers in a whole swarm: a torrent whose first tier is a UDP tracker that never answers
 * (a socket that drops everything) and whose second tier is the seeder, a shoal announcer over
 * HTTP or over UDP (BEP 15). The leecher moves on from the silent tracker, completes, and its
 * /status lists the first tracker as failing and the second as working.
 */
import dgram from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import type { SettingOverrides } from '../../src/io/settings.js';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { freePort } from '../helpers/peer-process.js';

/** A tracker that never answers: a UDP socket that reads and drops every datagram. */
async function deadUdpTracker(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    url: `udp://127.0.0.1:${socket.address().port}/announce`,
    received: () => received,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Short enough for a test: the silent tracker fails the round after 1 s, BEP 15 retries every 100 ms * 2^n behind it. */
const SETTINGS: SettingOverrides = { trackerSilentMs: 1_000, udpTrackerRetryBaseMs: 100, announceRetryBaseMs: 500 };

const swarm = new InProcessSwarm('tiers.bin');
let dead: Awaited<ReturnType<typeof deadUdpTracker>> | undefined;
afterEach(async () => {
  await swarm.cleanup();
  await dead?.close();
  dead = undefined;
});

test.each(['http', 'udp'])('a dead UDP tracker in the first tier, the seeder over %s in the second: the leecher completes and /status shows both', async (scheme) => {
  dead = await deadUdpTracker();
  const data = generatedContent(600_000);
  const seederPort = await freePort();
  const seederUrl = scheme === 'http' ? `http://127.0.0.1:${seederPort}/announce` : `udp://127.0.0.1:${seederPort}/announce`;
  const dirs = await swarm.makeFolders();
  const file = path.join(dirs.shareable, swarm.name);
  await writeFile(file, data);
  swarm.torrent = await createTorrent(file, { announce: dead.url, announceList: [[dead.url], [seederUrl]], pieceLength: 64 * 1024 });
  await writeFile(path.join(dirs.torrents, `${swarm.name}.torrent`), swarm.torrent);

  const seeder = await swarm.start(dirs, { port: seederPort, settings: SETTINGS });
  const seeded = await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');
  // The seeder's own URL makes it the announcer: listed as "self", never announced to.
  expect(seeded.swarms[0]).toMatchObject({ announcer: true });
  expect(seeded.swarms[0].trackers[1]).toEqual({ url: seederUrl, tier: 1, status: 'self' });

  const started = Date.now();
  const leecher = await swarm.startPeer([], undefined, SETTINGS);
  const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the leecher to complete');
  // Not before the silent tracker had its second.
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  expect(done.swarms[0].downloaded).toBe(data.length);

  const status = await leecher.waitForStatus(
    // The event=completed round tries the silent tracker first again (BEP 12), then the seeder.
    (s) => s.swarms[0].trackers[0]?.status === 'error' && s.swarms[0].trackers[1]?.status === 'working' && s.swarms[0].tracker?.state === 'ok',
    10_000,
    'the trackers to show as failing and working',
  );
  const [first, second] = status.swarms[0].trackers;
  expect(first).toMatchObject({ url: dead.url, tier: 0, status: 'error', error: expect.stringMatching(/no answer within 1000 ms|did not answer/) });
  expect(second).toMatchObject({ url: seederUrl, tier: 1, status: 'working' });
  // The seeder's counts, from the announce reply or the scrape.
  expect(second.seeders).toBeGreaterThanOrEqual(1);
  // The tracker in use is the one that answered.
  expect(status.swarms[0].tracker).toMatchObject({ url: seederUrl, state: 'ok' });
  // The dead tracker did hear from us: BEP 15 connects, retransmitted.
  expect(dead.received()).toBeGreaterThanOrEqual(2);
}, 60_000);
