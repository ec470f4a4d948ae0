/** torrents/ read at start-up (torrent-folder.ts): bad files are skipped with their reasons, never thrown. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/main/logger.js';
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
    { file: 'b.torrent', reason: `a second copy of torrent ${found[0].meta.infoHashHex}, which is joined from a.torrent` },
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
