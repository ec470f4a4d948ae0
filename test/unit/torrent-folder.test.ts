/** torrents/ read at start-up (torrent-folder.ts): bad files are skipped with their reasons, never thrown. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/main/logger.js';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { TorrentFolder, type TorrentFolderHost } from '../../src/main/torrent-folder.js';
import { AGE_TORRENT } from '../helpers/peer-process.js';

let folder: string;
let lines: string[];
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'shoal-torrents-'));
  lines = [];
});
afterEach(() => rm(folder, { recursive: true, force: true }));

function torrentFolder(host: Partial<TorrentFolderHost> = {}): TorrentFolder {
  return new TorrentFolder(folder, createLogger('verbose', (line) => lines.push(line)), {
    join: async () => undefined,
    cachedMetadata: async () => null,
    leave: async () => undefined,
    pieceFits: () => true,
    isStopping: () => false,
    ...host,
  });
}

test('read() returns the good torrents and lists the bad ones with their reasons, one warning each', async () => {
  await writeFile(path.join(folder, 'a.torrent'), await readFile(AGE_TORRENT));
  await writeFile(path.join(folder, 'b.torrent'), await readFile(AGE_TORRENT));
  await writeFile(path.join(folder, 'c.torrent'), 'le');
  await writeFile(path.join(folder, 'notes.txt'), 'not a torrent, not looked at');
  const torrents = torrentFolder();
  const found = await torrents.read();
  expect(found.map((t) => t.name)).toEqual(['a.torrent']);
  expect(torrents.skipped()).toEqual([
    { file: 'b.torrent', reason: `a second copy of torrent ${found[0].infoHashHex}, which is joined from a.torrent` },
    { file: 'c.torrent', reason: 'not a .torrent file (the top level is not a dictionary)' },
  ]);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(new RegExp(` warn ${path.join(folder, 'c.torrent')} skipped: not a \\.torrent file \\(the top level is not a dictionary\\)\\n$`));
});

test('a torrent whose swarm cannot be joined is skipped with the reason, unless the peer is stopping', async () => {
  await writeFile(path.join(folder, 'a.torrent'), await readFile(AGE_TORRENT));
  let stopping = false;
  const torrents = torrentFolder({ join: () => Promise.reject(new Error('EACCES: permission denied')), isStopping: () => stopping });
  const [found] = await torrents.read();
  await torrents.join(found);
  expect(torrents.skipped()).toEqual([{ file: 'a.torrent', reason: 'cannot join its swarm: EACCES: permission denied' }]);

  const quiet = torrentFolder({ join: () => Promise.reject(new Error('pool destroyed')), isStopping: () => stopping });
  stopping = true;
  await quiet.join((await quiet.read())[0]);
  expect(quiet.skipped()).toEqual([]);
});

describe('.magnet files', () => {
  const AGE_HASH = () => parseMetainfo(ageTorrent).infoHashHex;
  let ageTorrent: Buffer;
  beforeEach(async () => {
    ageTorrent = await readFile(AGE_TORRENT);
  });

  test('are found beside .torrent files; a magnet for a torrent joined already is a second copy; a bad one is skipped with its reason', async () => {
    await writeFile(path.join(folder, 'a.magnet'), `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=clip\n`);
    await writeFile(path.join(folder, 'b.torrent'), ageTorrent);
    await writeFile(path.join(folder, 'c.magnet'), `magnet:?xt=urn:btih:${AGE_HASH()}\n`);
    await writeFile(path.join(folder, 'd.magnet'), 'magnet:?xt=urn:btih:1234\n');
    const torrents = torrentFolder();
    const found = await torrents.read();
    expect(found.map((t) => [t.name, t.infoHashHex, t.meta === null, t.magnet?.name])).toEqual([
      ['a.magnet', 'ab'.repeat(20), true, 'clip'],
      ['b.torrent', AGE_HASH(), false, undefined],
    ]);
    const skipped = torrents.skipped();
    expect(skipped.map((s) => s.file)).toEqual(['c.magnet', 'd.magnet']);
    expect(skipped[0].reason).toBe(`a second copy of torrent ${AGE_HASH()}, which is joined from b.torrent`);
    expect(skipped[1].reason).toMatch(/info hash/);
  });

  test('a magnet whose metadata an earlier run fetched comes with it', async () => {
    await writeFile(path.join(folder, 'age.magnet'), `magnet:?xt=urn:btih:${AGE_HASH()}\n`);
    const meta = parseMetainfo(ageTorrent);
    const asked: string[] = [];
    const torrents = torrentFolder({
      cachedMetadata: async (link) => {
        asked.push(link.infoHashHex);
        return meta;
      },
    });
    const [found] = await torrents.read();
    expect(asked).toEqual([meta.infoHashHex]);
    expect(found.meta).toBe(meta);
  });

  test('a swarm that fails later (metadata unusable here) is listed as skipped with the reason', async () => {
    await writeFile(path.join(folder, 'a.magnet'), `magnet:?xt=urn:btih:${'ab'.repeat(20)}\n`);
    const torrents = torrentFolder();
    const [found] = await torrents.read();
    await torrents.join(found);
    expect(torrents.skipped()).toEqual([]);
    torrents.failed('ab'.repeat(20), null, 'its pieces do not fit');
    expect(torrents.skipped()).toEqual([{ file: 'a.magnet', reason: 'cannot join its swarm: its pieces do not fit' }]);
  });
});
