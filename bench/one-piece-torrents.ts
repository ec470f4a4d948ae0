/**
 * Many small torrents for a start-up benchmark: each one file of random bytes that is exactly
 * one piece, its .torrent made in memory from the same bytes. Ten thousand take seconds, where
 * createTorrent (which reads each file back) and a sync per file would take minutes.
 */
import { execFile } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeBencode } from '../src/io/bencode.js';
import type { PeerFolders } from './shoal-peer.js';

/** Files written at once: enough to keep the disk busy, few enough for any descriptor limit. */
const PARALLEL_WRITES = 32;

const execFileAsync = promisify(execFile);

/**
 * Writes `count` files of `size` random bytes into `folders.shareable` and their .torrent files
 * (one piece of `size`, announcing to `announce`) into `folders.torrents`, then syncs, so that
 * write-back does not compete with the peer; returns the info hashes (hex).
 */
export async function writeOnePieceTorrents(folders: PeerFolders, count: number, size: number, announce: string): Promise<string[]> {
  const width = String(count - 1).length;
  const infoHashes: string[] = new Array<string>(count);
  let next = 0;
  const writer = async (): Promise<void> => {
    const data = Buffer.allocUnsafe(size);
    while (next < count) {
      const i = next++;
      const name = `file-${String(i).padStart(width, '0')}.bin`;
      randomFillSync(data);
      const info = { length: size, name, 'piece length': size, pieces: createHash('sha1').update(data).digest() };
      infoHashes[i] = createHash('sha1').update(encodeBencode(info)).digest('hex');
      await writeFile(path.join(folders.shareable, name), data, { flag: 'wx' });
      await writeFile(path.join(folders.torrents, `${name}.torrent`), encodeBencode({ announce, info }), { flag: 'wx' });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, count) }, writer));
  await execFileAsync('sync');
  return infoHashes;
}
