/**
 * BEP 12 tiers in a whole swarm: a torrent whose first tier is a UDP tracker that never answers
 * (a socket that drops everything) and whose second tier is the seeder, a shoal announcer over
 * HTTP or over UDP (BEP 15). The leecher moves on from the silent tracker, completes, and its
 * /status lists the first tracker as failing and the second as working. Its event=completed
 * reaches the second tier at once: the silent tracker, in back-off, is skipped, not waited for
 * again. And the address a peer shows is found on the route to any tracker named by an IP
 * address, not only `announce`.
 */
import dgram from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import type { SettingOverrides } from '../../src/io/settings.js';
import { scrapeOnce } from '../../src/main/tracker/http-tracker-client.js';
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

/**
 * Short enough for a test: the silent tracker fails the round after 5 s, BEP 15 retries every
 * 100 ms * 2^n behind it. Once failed, it is in back-off for 30 s: longer than the download.
 */
const SILENT_MS = 5_000;
const SETTINGS: SettingOverrides = { trackerSilentMs: SILENT_MS, udpTrackerRetryBaseMs: 100, announceRetryBaseMs: 30_000 };

/** The `downloaded` count (event=completed announces heard) of our tracker at `port` for the torrent, over HTTP scrape. */
async function completedCount(port: number, infoHash: Buffer): Promise<number> {
  return (await scrapeOnce(`http://127.0.0.1:${port}/scrape`, infoHash, { timeoutMs: 2_000 })).completed;
}

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

  const { infoHash } = parseMetainfo(swarm.torrent);
  const started = Date.now();
  const leecher = await swarm.startPeer([], undefined, SETTINGS);
  const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the leecher to complete');
  const completedAt = Date.now();
  // Not before the silent tracker had its time: the seeder's address came from the second tier.
  expect(completedAt - started).toBeGreaterThanOrEqual(SILENT_MS - 100);
  expect(done.swarms[0].downloaded).toBe(data.length);

  // The event=completed round skips the silent tracker (in back-off) and reaches the seeder's
  // tracker before another SILENT_MS could pass: trying the silent one first would take that long.
  const deadline = completedAt + SILENT_MS;
  while ((await completedCount(seederPort, infoHash)) < 1) {
    if (Date.now() > deadline) throw new Error(`the seeder's tracker heard no event=completed within ${SILENT_MS} ms of completion\n${leecher.output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const status = await leecher.waitForStatus(
    (s) => s.swarms[0].trackers[0]?.status === 'error' && s.swarms[0].trackers[1]?.status === 'working' && s.swarms[0].tracker?.state === 'ok',
    10_000,
    'the trackers to show as failing and working',
  );
  const [first, second] = status.swarms[0].trackers;
  expect(first).toMatchObject({ url: dead.url, tier: 0, status: 'error', error: expect.stringMatching(new RegExp(`no answer within ${SILENT_MS} ms|did not answer`)) });
  expect(second).toMatchObject({ url: seederUrl, tier: 1, status: 'working' });
  // The seeder's counts, from the announce reply or the scrape.
  expect(second.seeders).toBeGreaterThanOrEqual(1);
  // The tracker in use is the one that answered.
  expect(status.swarms[0].tracker).toMatchObject({ url: seederUrl, state: 'ok' });
  // The dead tracker did hear from us: BEP 15 connects, retransmitted.
  expect(dead.received()).toBeGreaterThanOrEqual(2);
}, 60_000);

test('the address shown is the one on the route to the first tracker named by an IP address, a udp:// one of the announce-list included', async () => {
  dead = await deadUdpTracker();
  const dirs = await swarm.makeFolders();
  const source = path.join(dirs.root, swarm.name);
  await writeFile(source, generatedContent(64 * 1024));
  // `announce` names a host, not an address: the udp:// tracker of the second tier decides (loopback, not the LAN's address).
  const named = 'http://tracker.invalid/announce';
  swarm.torrent = await createTorrent(source, { announce: named, announceList: [[named], [dead.url]], pieceLength: 16 * 1024 });
  await writeFile(path.join(dirs.torrents, `${swarm.name}.torrent`), swarm.torrent);
  const peer = await swarm.start(dirs, { settings: SETTINGS });
  expect(peer.status().host).toBe('127.0.0.1');
}, 30_000);
