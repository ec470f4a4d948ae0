/**
 * Issue 18, the control API on the peer's port: every change needs the token, a Host naming the
 * peer and no foreign Origin; bad bodies change nothing; add writes into torrents/ and joins,
 * remove keeps the data; pause moves no payload either way, survives a restart, and resume
 * completes the download.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import type { StatusDocument } from '../../src/main/session.js';
import { ControlClient, controlRequest, type ControlAnswer, type ControlRequest } from '../helpers/control-client.js';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { digest, fileDigest } from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const UNKNOWN = '0123456789abcdef0123456789abcdef01234567';

const swarm = new InProcessSwarm('age.txt');
afterEach(() => swarm.cleanup());

/** What a change could have touched: the torrents/ folder and what /status says of each swarm. */
async function observable(peer: InProcessPeer): Promise<unknown> {
  const status = peer.status();
  return { torrents: (await readdir(peer.dirs.torrents)).sort(), swarms: status.swarms.map(({ infoHash, paused, role, metadata }) => ({ infoHash, paused, role, metadata })) };
}

function noCorsHeader(answer: ControlAnswer): void {
  expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
}

test('no change without the token, from a foreign Origin or with a Host that is not the peer; no CORS grant, no preflight', async () => {
  const seeder = await swarm.startAgeAnnouncer(true);
  const { infoHash } = (await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check age.txt')).swarms[0];
  const client = await ControlClient.of(seeder);
  const before = await observable(seeder);
  const magnet = `magnet:?xt=urn:btih:${UNKNOWN}&dn=other`;
  const changes: Omit<ControlRequest, 'token'>[] = [
    { method: 'POST', path: '/torrents', contentType: 'text/plain', body: magnet },
    { method: 'POST', path: '/torrents', contentType: 'application/x-bittorrent', body: swarm.torrent },
    { method: 'DELETE', path: `/torrents/${infoHash}` },
    { method: 'POST', path: `/torrents/${infoHash}/pause` },
    { method: 'POST', path: `/torrents/${infoHash}/resume` },
    { method: 'PUT', path: `/torrents/${infoHash}/files`, contentType: 'application/json', body: '{"sequential":true}' },
    // The token is asked for before the path is judged: a bad hash or method still gets 401.
    { method: 'POST', path: '/torrents/not-a-hash/pause' },
    { method: 'PUT', path: `/torrents/${infoHash}/pause` },
  ];
  const port = seeder.port;
  for (const change of changes) {
    const what = `${change.method} ${change.path}`;
    const without = await controlRequest(port, change);
    expect([what, without.status, without.body.error]).toEqual([what, 401, expect.stringContaining('X-Shoal-Token')]);
    const wrong = await controlRequest(port, { ...change, token: 'f'.repeat(64) });
    expect([what, wrong.status]).toEqual([what, 401]);
    const foreign = await client.send({ ...change, headers: { origin: 'http://evil.example' } });
    expect([what, foreign.status, foreign.body.error]).toEqual([what, 403, expect.stringContaining('other origins')]);
    // DNS rebinding: a page of evil.example, its name resolved to this peer, sends its own Host.
    const rebound = await client.send({ ...change, headers: { host: `evil.example:${port}` } });
    expect([what, rebound.status, rebound.body.error]).toEqual([what, 403, expect.stringContaining('Host')]);
    const preflight = await controlRequest(port, { method: 'OPTIONS', path: change.path, headers: { origin: 'http://evil.example', 'access-control-request-method': change.method, 'access-control-request-headers': 'x-shoal-token' } });
    expect([what, preflight.status]).toEqual([what, 403]);
    for (const answer of [without, wrong, foreign, rebound, preflight]) noCorsHeader(answer);
  }
  expect(await observable(seeder)).toEqual(before);
  // The token itself: to this process (the peer's user, on its machine), never to another site's page.
  expect(await controlRequest(port, { method: 'GET', path: '/api-token' })).toMatchObject({ status: 200, body: { token: client.token } });
  for (const headers of [{ host: `evil.example:${port}` }, { origin: 'http://evil.example' }] as Record<string, string>[]) {
    const refused = await controlRequest(port, { method: 'GET', path: '/api-token', headers });
    expect([refused.status, refused.body.token]).toEqual([403, undefined]);
    noCorsHeader(refused);
  }
  // The same request with the token, from the peer's own page, goes ahead.
  const own = await client.send({ method: 'POST', path: `/torrents/${infoHash}/pause`, headers: { origin: `http://localhost:${port}`, host: `localhost:${port}` } });
  expect(own.status).toBe(200);
  noCorsHeader(own);
  expect(seeder.status().swarms[0].paused).toBe(true);
});

test('add writes a magnet or a .torrent into torrents/ and joins it; bad bodies are 400 and change nothing; remove keeps the data', async () => {
  const seeder = await swarm.startAgeAnnouncer(true, [], { maxMagnetFileBytes: 4096 });
  const ageHash = (await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check age.txt')).swarms[0].infoHash;
  const client = await ControlClient.of(seeder);

  const before = await observable(seeder);
  const bad: [Omit<ControlRequest, 'token'>, number, RegExp][] = [
    [{ method: 'POST', path: '/torrents', contentType: 'text/plain', body: 'not a magnet link' }, 400, /not a usable magnet link/],
    [{ method: 'POST', path: '/torrents', contentType: 'text/plain', body: 'magnet:?xt=urn:btih:1234' }, 400, /not an info hash/],
    [{ method: 'POST', path: '/torrents', contentType: 'application/x-bittorrent', body: 'd8:announce5:nope!e' }, 400, /not a usable \.torrent/],
    [{ method: 'POST', path: '/torrents', contentType: 'application/json', body: '{}' }, 415, /application\/x-bittorrent/],
    [{ method: 'POST', path: '/torrents', contentType: 'text/plain', body: `magnet:?xt=urn:btih:${UNKNOWN}&dn=${'x'.repeat(5000)}` }, 413, /4096 bytes allowed/],
    [{ method: 'DELETE', path: `/torrents/${UNKNOWN}` }, 404, /no torrent/],
    [{ method: 'POST', path: `/torrents/${UNKNOWN}/pause` }, 404, /no torrent/],
    [{ method: 'POST', path: '/torrents/not-a-hash/pause' }, 400, /not an info hash/],
  ];
  for (const [request, status, reason] of bad) {
    const answer = await client.send(request);
    expect([request.path, answer.status, answer.body.error]).toEqual([request.path, status, expect.stringMatching(reason)]);
  }
  expect(await observable(seeder)).toEqual(before);

  // A magnet link: written as NAME.magnet, joined, and a second add of it is a conflict.
  const magnet = `magnet:?xt=urn:btih:${UNKNOWN}&dn=other%20thing`;
  const added = await client.addMagnet(magnet);
  expect([added.status, added.body]).toEqual([201, { infoHash: UNKNOWN, file: 'other thing.magnet' }]);
  expect((await readFile(path.join(seeder.dirs.torrents, 'other thing.magnet'), 'utf8')).trim()).toMatch(new RegExp(`^magnet:\\?xt=urn:btih:${UNKNOWN}`));
  expect(seeder.status().swarms.find((s) => s.infoHash === UNKNOWN)).toMatchObject({ metadata: false, paused: false });
  expect(await client.addMagnet(magnet)).toMatchObject({ status: 409, body: { infoHash: UNKNOWN } });
  expect(await client.addTorrent(swarm.torrent)).toMatchObject({ status: 409, body: { infoHash: ageHash } });

  // A .torrent of data the peer has: joined from torrents/<name>.torrent, and seeded.
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'shoal-control-'));
  try {
    const file = path.join(scratch, 'new.bin');
    await writeFile(file, generatedContent(100_000));
    await writeFile(path.join(seeder.dirs.shareable, 'new.bin'), await readFile(file));
    const torrent = await createTorrent(file, { announce: `http://127.0.0.1:${seeder.port}/announce`, pieceLength: 16384 });
    const joined = await client.addTorrent(torrent);
    expect(joined).toMatchObject({ status: 201, body: { file: 'new.bin.torrent' } });
    await seeder.waitForStatus((s) => s.swarms.some((w) => w.infoHash === joined.body.infoHash && w.role === 'seeder'), 20_000, 'the added torrent to be seeded');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  // Remove: the swarm is left and its file leaves torrents/; the data stays where it is.
  const removed = await client.remove(ageHash);
  expect([removed.status, removed.body]).toEqual([200, { infoHash: ageHash, removed: 'age.txt.torrent' }]);
  expect(seeder.status().swarms.map((s) => s.infoHash)).not.toContain(ageHash);
  expect((await readdir(seeder.dirs.torrents)).sort()).toEqual(['new.bin.torrent', 'other thing.magnet']);
  expect((await stat(path.join(seeder.dirs.shareable, 'age.txt'))).isFile()).toBe(true);
  expect((await client.remove(ageHash)).status).toBe(404);
});

/** The payload counters of the one swarm of a status: both directions, and what arrived. */
function counters(status: StatusDocument): { uploaded: number; downloaded: number; received: number } {
  const { uploaded, downloaded, received } = status.swarms[0];
  return { uploaded, downloaded, received };
}

test('pause moves no payload either way, survives a restart, and resume completes the download', async () => {
  const data = generatedContent(4 * MiB);
  const seeder = await swarm.startSeeder(data, ['--upload-limit', '512k'], 256 * 1024);
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');
  const leecher = await swarm.startPeer();
  const infoHash = swarm.meta.infoHashHex;
  await leecher.waitForStatus((s) => s.swarms[0]?.have >= 2, 30_000, 'the leecher to have some pieces');
  let client = await ControlClient.of(leecher);

  expect(await client.pause(infoHash)).toMatchObject({ status: 200, body: { infoHash, paused: true } });
  const paused = leecher.status().swarms[0];
  expect(paused).toMatchObject({ paused: true, peers: [] });
  expect(paused.have).toBeLessThan(paused.pieces);
  // The seeder sees the connection go; from then on neither side may count a byte.
  await seeder.waitForStatus((s) => s.swarms[0].peers.length === 0, 10_000, 'the seeder to see the leecher go');
  const seederBefore = counters(seeder.status());
  const leecherBefore = counters(leecher.status());

  // Watched for 10 s, across a restart of the leecher, which comes back paused.
  const until = Date.now() + 10_000;
  let restarted = false;
  while (Date.now() < until) {
    expect(counters(seeder.status())).toEqual(seederBefore);
    expect(seeder.status().swarms[0].peers).toEqual([]);
    if (!restarted) {
      expect(counters(leecher.status())).toEqual(leecherBefore);
      if (Date.now() > until - 6_000) {
        const after = (await leecher.restart()).swarms[0];
        expect(after).toMatchObject({ paused: true, have: paused.have, peers: [], downloaded: 0, uploaded: 0, received: 0 });
        restarted = true;
      }
    } else {
      expect(counters(leecher.status())).toEqual({ uploaded: 0, downloaded: 0, received: 0 });
      expect(leecher.status().swarms[0].peers).toEqual([]);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(restarted).toBe(true);

  client = await ControlClient.of(leecher);
  expect(await client.resume(infoHash)).toMatchObject({ status: 200, body: { infoHash, paused: false } });
  const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the resumed leecher to complete');
  expect(done.swarms[0]).toMatchObject({ paused: false, downloaded: data.length - paused.have * 256 * 1024 });
  expect(await fileDigest(path.join(leecher.dirs.shareable, swarm.name))).toBe(digest(data));
});
