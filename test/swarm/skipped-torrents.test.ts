/**
 * A bad .torrent in torrents/ at start-up (corrupt, unsafe file names, a second copy) is reported
 * with its file name and reason, one log line each, listed in /status under `skipped`, and
 * skipped: the other torrents go on (docs/architecture.md, Command line). A skipped file that is
 * fixed joins and leaves the list; one removed leaves it; a second copy takes over once the
 * first is removed. A peer with only bad torrents still starts.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeBencode } from '../../src/io/bencode.js';
import { createTorrent, setAnnounce } from '../../src/io/torrent-maker.js';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { AGE_TORRENT, AGE_TXT, copyInto, freePort } from '../helpers/peer-process.js';

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

/** A well-formed .torrent whose one file would land outside the download folder. */
function unsafeTorrent(): Buffer {
  return encodeBencode({
    announce: 'http://127.0.0.1:1/announce',
    info: { name: 'evil', 'piece length': 16384, pieces: Buffer.alloc(20), files: [{ length: 1, path: ['..', 'x'] }] },
  });
}

/** The log lines that say `name` was skipped. */
function skipLines(peer: InProcessPeer, name: string): string[] {
  return peer.lines.filter((line) => line.includes(`${name} skipped: `));
}

test('bad torrents at start-up are reported and skipped, the good one seeds, and a fixed one joins', async () => {
  const dirs = await peers.makeFolders();
  const port = await freePort();
  const age = setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`);
  await copyInto(AGE_TXT, dirs.shareable);
  await writeFile(path.join(dirs.torrents, 'age.torrent'), age);
  await writeFile(path.join(dirs.torrents, 'broken.torrent'), 'd8:announce3:abc4:infod4:name');
  await writeFile(path.join(dirs.torrents, 'evil.torrent'), unsafeTorrent());
  await writeFile(path.join(dirs.torrents, 'z-copy.torrent'), age);

  const peer = await peers.start(dirs, { port });
  const started = await peer.waitForStatus((s) => s.swarms.length === 1 && s.swarms[0].role === 'seeder', 20_000, 'the good torrent to seed');
  expect(started.swarms[0].name).toBe('age.txt');
  const ageHash = started.swarms[0].infoHash;
  expect(started.skipped).toEqual([
    { file: 'broken.torrent', reason: expect.stringMatching(/^not a \.torrent file/) },
    { file: 'evil.torrent', reason: expect.stringMatching(/path component "\.\." .*unsafe file name/) },
    { file: 'z-copy.torrent', reason: `a second copy of torrent ${ageHash}, which is joined from age.torrent` },
  ]);
  for (const { file, reason } of started.skipped) {
    // The reason names no folder: the file name says which file it is.
    expect(reason).not.toContain(dirs.torrents);
    expect(skipLines(peer, file)).toEqual([expect.stringContaining(`warn ${path.join(dirs.torrents, file)} skipped: ${reason}\n`)]);
  }
  expect(peer.output).toMatch(/with 1 torrent\(s\), 3 skipped; dashboard at /);

  // Fixed: the file rewritten as a good torrent joins, and leaves the list.
  const data = generatedContent(100 * 1024);
  await writeFile(path.join(dirs.shareable, 'fixed.bin'), data);
  await writeFile(path.join(dirs.root, 'fixed.bin'), data);
  await writeFile(
    path.join(dirs.torrents, 'broken.torrent'),
    await createTorrent(path.join(dirs.root, 'fixed.bin'), { announce: `http://127.0.0.1:${port}/announce`, pieceLength: 16384 }),
  );
  const fixed = await peer.waitForStatus(
    (s) => s.swarms.some((swarm) => swarm.name === 'fixed.bin' && swarm.role === 'seeder'),
    20_000,
    'the fixed torrent to join',
  );
  expect(fixed.skipped.map((s) => s.file)).toEqual(['evil.torrent', 'z-copy.torrent']);
  expect(peer.output).toContain('broken.torrent changed in ');

  // Removed: it leaves the list. The second copy takes over once the first is removed.
  await rm(path.join(dirs.torrents, 'evil.torrent'));
  await rm(path.join(dirs.torrents, 'age.torrent'));
  const after = await peer.waitForStatus(
    (s) => s.skipped.length === 0 && s.swarms.some((swarm) => swarm.infoHash === ageHash && swarm.role === 'seeder'),
    20_000,
    'the removed file to leave the list and the copy to join',
  );
  expect(after.swarms.map((swarm) => swarm.name).sort()).toEqual(['age.txt', 'fixed.bin']);
  // Each bad file was reported once, however many rescans saw it.
  for (const file of ['broken.torrent', 'evil.torrent', 'z-copy.torrent']) expect(skipLines(peer, file)).toHaveLength(1);
});

test('a peer with only bad torrents starts, serves its status and stops cleanly', async () => {
  const dirs = await peers.makeFolders();
  await writeFile(path.join(dirs.torrents, 'broken.torrent'), 'not bencode at all');
  const peer = await peers.start(dirs);
  const status = peer.status();
  expect(status.swarms).toEqual([]);
  expect(status.skipped).toEqual([{ file: 'broken.torrent', reason: expect.stringMatching(/^not a \.torrent file/) }]);
  expect(peer.running).toBe(true);
  await expect(peer.stop()).resolves.toBeUndefined();
});
