/**
 * Issue 20: a peer of many swarms answers `GET /status?limit=0` with the counts alone (what a
 * script polls to learn how many swarms seed) and `?offset=&limit=` with a page of the swarms,
 * while plain /status lists every swarm as before. A bad offset or limit gets 400 and the form.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent, setAnnounce } from '../../src/io/torrent-maker.js';
import type { StatusDocument } from '../../src/main/session.js';
import { ControlClient } from '../helpers/control-client.js';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { AGE_TORRENT, AGE_TXT, copyInto, freePort, httpGet } from '../helpers/peer-process.js';

const UNKNOWN = '0123456789abcdef0123456789abcdef01234567';

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

test('?limit=0 gives the summary alone, ?offset=&limit= a page of the swarms, plain /status every swarm', async () => {
  const dirs = await peers.makeFolders();
  const port = await freePort();
  const announce = `http://127.0.0.1:${port}/announce`;
  await copyInto(AGE_TXT, dirs.shareable);
  await writeFile(path.join(dirs.torrents, 'age.torrent'), setAnnounce(await readFile(AGE_TORRENT), announce));
  for (const name of ['missing-1.bin', 'missing-2.bin']) {
    // Data nobody has: its swarm is a leecher.
    await writeFile(path.join(dirs.root, name), generatedContent(64 * 1024));
    await writeFile(path.join(dirs.torrents, `${name}.torrent`), await createTorrent(path.join(dirs.root, name), { announce }));
  }
  await writeFile(path.join(dirs.torrents, 'other.magnet'), `magnet:?xt=urn:btih:${UNKNOWN}&dn=other\n`);
  const peer = await peers.start(dirs, { port });
  const all = await peer.waitForStatus((s) => s.swarms.length === 4 && s.swarms.some((swarm) => swarm.role === 'seeder'), 20_000, 'four swarms, age.txt seeding');
  const paused = all.swarms.find((swarm) => swarm.name === 'missing-1.bin')!.infoHash;
  expect((await (await ControlClient.of(peer)).pause(paused)).status).toBe(200);

  const get = async (query: string): Promise<StatusDocument> => {
    const { status, body } = await httpGet(`http://127.0.0.1:${port}/status${query}`);
    expect([query, status]).toEqual([query, 200]);
    return JSON.parse(body) as StatusDocument;
  };
  const summary = await get('?limit=0');
  expect(summary.swarms).toEqual([]);
  expect(summary.summary).toEqual({ swarms: 4, seeders: 1, leechers: 3, fetchingMetadata: 1, paused: 1 });
  expect(summary).toMatchObject({ port, workers: 1, skipped: [], dht: { enabled: false, nodes: 0 } });

  const plain = await get('');
  expect(plain.summary).toEqual(summary.summary);
  expect(plain.swarms.map((swarm) => swarm.name).sort()).toEqual(['age.txt', 'missing-1.bin', 'missing-2.bin', 'other']);
  expect(plain.swarms.find((swarm) => swarm.infoHash === paused)).toMatchObject({ paused: true, role: 'leecher', files: [{ path: 'missing-1.bin', done: 0 }] });
  const page = await get('?offset=1&limit=2');
  expect(page.swarms.map((swarm) => swarm.infoHash)).toEqual(plain.swarms.slice(1, 3).map((swarm) => swarm.infoHash));
  expect(page.swarms[0]).toEqual(expect.objectContaining({ infoHash: plain.swarms[1].infoHash, name: plain.swarms[1].name, trackers: plain.swarms[1].trackers }));
  expect((await get('?offset=3')).swarms.map((swarm) => swarm.infoHash)).toEqual([plain.swarms[3].infoHash]);

  const refused = await httpGet(`http://127.0.0.1:${port}/status?limit=all`);
  expect(refused.status).toBe(400);
  expect(refused.body).toMatch(/^limit of \/status must be a whole number .*\?limit=0 for the summary alone.*, not "all"\n$/);
});
