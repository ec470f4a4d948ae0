/**
 * Our peer as the announcer (tracker) of age.txt's torrent, seeding it or not, with a folder for
 * whatever is on the other side: a real client, or a scripted peer.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMetainfo, type Metainfo } from '../../src/io/metainfo.js';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import {
  AGE_TORRENT,
  AGE_TXT,
  copyInto,
  folderArgs,
  freePort,
  makePeerFolders,
  PROJECT_ROOT,
  removeFolders,
  startPeer,
  type PeerFolders,
  type PeerProcess,
  type TestSettings,
} from './peer-process.js';

export { AGE_TORRENT, AGE_TXT };

export const LT_PEER = path.join(PROJECT_ROOT, 'test', 'helpers', 'lt-peer.py');

export interface InteropSetup {
  ours: PeerProcess;
  oursDirs: PeerFolders;
  /** A folder for the other client's data, and its copy of the torrent. */
  theirDir: string;
  torrentFile: string;
  meta: Metainfo;
  cleanup(): Promise<void>;
}

/** Starts our peer (seeding age.txt or not) as the announcer of the torrent. */
export async function oursWithAge(seed: boolean, extraArgs: string[] = [], testSettings?: TestSettings): Promise<InteropSetup> {
  const port = await freePort();
  const oursDirs = await makePeerFolders();
  const torrent = setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`);
  await writeFile(path.join(oursDirs.torrents, 'age.torrent'), torrent);
  if (seed) await copyInto(AGE_TXT, oursDirs.shareable);
  const theirDir = await mkdtemp(path.join(os.tmpdir(), 'shoal-other-'));
  const torrentFile = path.join(theirDir, 'age.torrent');
  await writeFile(torrentFile, torrent);
  if (!seed) await copyFile(AGE_TXT, path.join(theirDir, 'age.txt'));
  const ours = startPeer([...folderArgs(oursDirs), '--workers', '2', ...extraArgs], port, true, testSettings);
  await ours.waitForStatus((s) => s.swarms[0]?.role === (seed ? 'seeder' : 'leecher'), 20_000, 'our peer to start');
  return {
    ours,
    oursDirs,
    theirDir,
    torrentFile,
    meta: parseMetainfo(torrent),
    async cleanup() {
      await ours.stop();
      await removeFolders(oursDirs);
      await rm(theirDir, { recursive: true, force: true });
    },
  };
}

/** A small multi-file folder (nested, with a space in a name) to make torrents of; returns its path. */
export async function writeSampleAlbum(parent: string): Promise<string> {
  const album = path.join(parent, 'album');
  await mkdir(path.join(album, 'disc 2'), { recursive: true });
  await writeFile(path.join(album, 'a.txt'), 'first file\n'.repeat(5000));
  await writeFile(path.join(album, 'disc 2', 'b.bin'), Buffer.alloc(70_000, 7));
  return album;
}
