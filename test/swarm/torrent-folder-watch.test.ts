/**
 * torrents/ is watched while the peer runs: a .torrent added is joined, one removed is left
 * cleanly, and a bad one is reported and skipped without stopping the peer.
 */
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { InProcessSwarm } from '../helpers/in-process-peer.js';
import { copyInto, freePort, PROJECT_ROOT } from '../helpers/peer-process.js';

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

test('a .torrent dropped in is joined, a bad one skipped, a removed one left', async () => {
  const dirs = await peers.makeFolders();
  const port = await freePort();
  const peer = await peers.start(dirs, { port });
  await peer.waitForStatus((s) => s.swarms.length === 0, 20_000, 'the peer to start with no torrent');

  await writeFile(path.join(dirs.torrents, 'broken.torrent'), 'd8:announce5:nope!e');
  await peer.waitForStatus(() => peer.output.includes('broken.torrent skipped'), 20_000, 'the bad torrent to be reported');

  await copyInto(path.join(PROJECT_ROOT, 'shareable', 'age.txt'), dirs.shareable);
  const torrent = setAnnounce(await readFile(path.join(PROJECT_ROOT, 'torrents', 'age.torrent')), `http://127.0.0.1:${port}/announce`);
  // Written elsewhere and moved in whole, as a user's file manager would.
  await writeFile(path.join(dirs.root, 'age.torrent'), torrent);
  await copyFile(path.join(dirs.root, 'age.torrent'), path.join(dirs.torrents, 'age.torrent'));
  const joined = await peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the new torrent to be joined');
  expect(joined.swarms).toHaveLength(1);
  expect(joined.swarms[0]).toMatchObject({ name: 'age.txt', announcer: true });

  await rm(path.join(dirs.torrents, 'age.torrent'));
  await peer.waitForStatus((s) => s.swarms.length === 0, 20_000, 'the removed torrent to be left');
  // The peer still runs, and stops cleanly (the process test's exit code 0).
  expect(peer.running).toBe(true);
  await expect(peer.stop()).resolves.toBeUndefined();
});
