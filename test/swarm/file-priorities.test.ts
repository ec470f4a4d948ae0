/**
 * Issue 18, choosing files: of a torrent of three files, only the pieces touching the wanted one
 * are downloaded (counted at the seeder), the wanted file lands byte-identical in shareable/ and
 * the skipped ones do not; a magnet's `so` chooses at start, PUT /files while running; the choice
 * survives a restart, and wanting the rest later completes the torrent.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import type { StatusDocument } from '../../src/main/session.js';
import { ControlClient } from '../helpers/control-client.js';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { digest, fileDigest, freePort, type PeerFolders } from '../helpers/peer-process.js';

const PIECE = 256 * 1024;
/** a.bin covers pieces 0-4, b.bin 4-6, c.bin 6-11: b.bin shares a piece with each neighbour. */
const FILES: [string, number][] = [
  ['a.bin', 1_100_000],
  ['b.bin', 700_000],
  ['c.bin', 1_300_000],
];
const WANTED_PIECES = [4, 5, 6];

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

interface Fixture {
  contents: Map<string, Buffer>;
  torrent: Buffer;
  infoHash: string;
  port: number;
  seederDirs: PeerFolders;
}

/** The three files in a seeder's shareable/set/, and their torrent announcing to `port` (not started yet). */
async function threeFiles(): Promise<Fixture> {
  const seederDirs = await peers.makeFolders();
  const folder = path.join(seederDirs.shareable, 'set');
  await mkdir(folder);
  const contents = new Map<string, Buffer>();
  for (const [name, size] of FILES) {
    contents.set(name, generatedContent(size));
    await writeFile(path.join(folder, name), contents.get(name)!);
  }
  const port = await freePort();
  const torrent = await createTorrent(folder, { announce: `http://127.0.0.1:${port}/announce`, pieceLength: PIECE });
  await writeFile(path.join(seederDirs.torrents, 'set.torrent'), torrent);
  return { contents, torrent, infoHash: parseMetainfo(torrent).infoHashHex, port, seederDirs };
}

const swarmOf = (status: StatusDocument) => status.swarms[0];

async function expectOnlyWanted(leecher: InProcessPeer, seeder: InProcessPeer, fixture: Fixture): Promise<void> {
  const wantedBytes = WANTED_PIECES.length * PIECE;
  const status = swarmOf(leecher.status());
  expect(status).toMatchObject({ role: 'leecher', left: 0, have: WANTED_PIECES.length, received: wantedBytes, downloaded: wantedBytes });
  expect(status.files?.map(({ path: file, priority, done }) => [file, priority, done])).toEqual([
    ['set/a.bin', 'skip', 1_100_000 - 4 * PIECE],
    ['set/b.bin', expect.stringMatching(/normal|high/), 700_000],
    ['set/c.bin', 'skip', 7 * PIECE - 1_800_000],
  ]);
  // Counted at the seeder: the payload it sent is exactly the three pieces touching b.bin.
  expect(swarmOf(seeder.status()).uploaded).toBe(wantedBytes);
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'set', 'b.bin'))).toBe(digest(fixture.contents.get('b.bin')!));
  for (const skipped of ['a.bin', 'c.bin']) await expect(stat(path.join(leecher.dirs.shareable, 'set', skipped))).rejects.toThrow();
  // The skipped files' bytes of the border pieces stay in cache/.
  expect((await stat(path.join(leecher.dirs.cache, fixture.infoHash, 'data', 'set', 'a.bin'))).isFile()).toBe(true);
}

test('a magnet link with so=1 downloads only the pieces of the second file, which lands in shareable/; --exit-when-done counts it done', async () => {
  const fixture = await threeFiles();
  const seeder = await peers.start(fixture.seederDirs, { port: fixture.port });
  await seeder.waitForStatus((s) => swarmOf(s)?.role === 'seeder', 20_000, 'the seeder to check the three files');

  const dirs = await peers.makeFolders();
  await writeFile(path.join(dirs.torrents, 'set.magnet'), `magnet:?xt=urn:btih:${fixture.infoHash}&dn=set&x.pe=127.0.0.1:${fixture.port}&so=1\n`);
  let done = false;
  const leecher = await peers.start(dirs, { args: ['--exit-when-done'], onAllComplete: () => (done = true) });
  await leecher.waitForStatus(() => done, 30_000, 'the leecher to say every torrent is done');
  await expectOnlyWanted(leecher, seeder, fixture);
});

test('PUT /files skips files before the download and survives a restart; wanting them later completes the torrent', async () => {
  const fixture = await threeFiles();
  const dirs = await peers.makeFolders();
  await writeFile(path.join(dirs.torrents, 'set.torrent'), fixture.torrent);
  // The seeder starts later: the leecher must ask its tracker again soon.
  const leecher = await peers.start(dirs, { settings: { announceRetryBaseMs: 200 } });
  await leecher.waitForStatus((s) => swarmOf(s)?.files?.length === 3, 20_000, 'the leecher to join');
  const client = await ControlClient.of(leecher);

  const bad: unknown[] = [{ priorities: ['skip', 'high'] }, { priorities: ['skip', 'high', 'later'] }, { sequential: 1 }, {}, 'skip'];
  for (const body of bad) expect((await client.setFiles(fixture.infoHash, body)).status).toBe(400);
  expect((await client.send({ method: 'PUT', path: `/torrents/${fixture.infoHash}/files`, body: '{not json' })).status).toBe(400);
  expect(swarmOf(leecher.status())).toMatchObject({ sequential: false, files: FILES.map(() => expect.objectContaining({ priority: 'normal' })) });

  const changed = await client.setFiles(fixture.infoHash, { priorities: ['skip', 'high', 'skip'], sequential: true });
  expect(changed).toMatchObject({ status: 200, body: { sequential: true } });
  expect(swarmOf(leecher.status())).toMatchObject({ sequential: true, left: WANTED_PIECES.length * PIECE });

  const seeder = await peers.start(fixture.seederDirs, { port: fixture.port });
  await leecher.waitForStatus((s) => swarmOf(s).files?.[1].done === 700_000 && swarmOf(s).left === 0, 30_000, 'b.bin to complete');
  // Verified first, then moved: the file is in shareable/ once the swarm says so.
  await leecher.waitForLine(/every file wanted is complete and in shareable/, 10_000, 'b.bin to move into shareable/');
  await expectOnlyWanted(leecher, seeder, fixture);

  const restarted = swarmOf(await leecher.restart());
  expect(restarted).toMatchObject({ sequential: true, role: 'leecher', left: 0, startedFrom: 'fast' });
  expect(restarted.files?.map((f) => f.priority)).toEqual(['skip', 'high', 'skip']);
  expect(await fileDigest(path.join(dirs.shareable, 'set', 'b.bin'))).toBe(digest(fixture.contents.get('b.bin')!));

  const all = await (await ControlClient.of(leecher)).setFiles(fixture.infoHash, { priorities: ['normal', 'normal', 'normal'] });
  expect(all.status).toBe(200);
  await leecher.waitForStatus((s) => swarmOf(s).role === 'seeder', 30_000, 'the leecher to complete every file');
  for (const [name] of FILES) expect(await fileDigest(path.join(dirs.shareable, 'set', name))).toBe(digest(fixture.contents.get(name)!));
  await expect(stat(path.join(dirs.cache, fixture.infoHash, 'data'))).rejects.toThrow();
  expect(await readFile(path.join(dirs.torrents, 'set.torrent'))).toEqual(fixture.torrent);
});
