/**
 * The worker pool end to end, through the command line: a 64 MiB file with one corrupted piece
 * is rechecked and only that piece is downloaded again; leechers with --workers 1 and
 * --workers 4 end byte-identical; a multi-file torrent whose pieces straddle files is written
 * across the boundaries correctly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import {
  fileDigest,
  folderArgs,
  freePort,
  makePeerFolders,
  removeFolders,
  startPeer,
  type PeerFolders,
  type PeerProcess,
} from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;

/** Deterministic, varied content: each MiB is a different random block. */
function content(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += MiB) randomBytes(Math.min(MiB, size - at)).copy(out, at);
  return out;
}

describe('worker pool through the command line', () => {
  const cleanup: PeerFolders[] = [];
  const running: PeerProcess[] = [];

  afterAll(async () => {
    await Promise.all(running.map((peer) => peer.stop()));
    await Promise.all(cleanup.map(removeFolders));
  });

  /** A seeder of `files` (relative path -> bytes) that is the torrent's announcer; returns the torrent. */
  async function seeder(name: string, files: Map<string, Buffer>, single: boolean): Promise<{ torrent: Buffer; port: number }> {
    const port = await freePort();
    const dirs = await makePeerFolders();
    cleanup.push(dirs);
    for (const [relative, bytes] of files) {
      const file = path.join(dirs.shareable, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
    }
    const source = path.join(dirs.shareable, single ? [...files.keys()][0] : name);
    const torrent = await createTorrent(source, { announce: `http://127.0.0.1:${port}/announce`, pieceLength: PIECE });
    await writeFile(path.join(dirs.torrents, `${name}.torrent`), torrent);
    const peer = startPeer([...folderArgs(dirs), '--workers', '2'], port);
    running.push(peer);
    await peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the seeder to check its data');
    return { torrent, port };
  }

  async function leecher(name: string, torrent: Buffer, workers: number, prefill?: Map<string, Buffer>): Promise<{ peer: PeerProcess; dirs: PeerFolders }> {
    const dirs = await makePeerFolders();
    cleanup.push(dirs);
    await writeFile(path.join(dirs.torrents, `${name}.torrent`), torrent);
    for (const [relative, bytes] of prefill ?? []) {
      const file = path.join(dirs.shareable, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
    }
    const peer = startPeer([...folderArgs(dirs), '--workers', String(workers)], await freePort());
    running.push(peer);
    return { peer, dirs };
  }

  test('64 MiB: a corrupted piece is the only one downloaded again; --workers 1 and 4 end identical', async () => {
    const data = content(64 * MiB);
    const { torrent } = await seeder('big', new Map([['big.bin', data]]), true);
    const corrupted = Buffer.from(data);
    const badPiece = 97;
    corrupted.fill(0x55, badPiece * PIECE + 1000, badPiece * PIECE + 3000);

    const one = await leecher('big', torrent, 1);
    const four = await leecher('big', torrent, 4, new Map([['big.bin', corrupted]]));
    const doneFour = await four.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 120_000, 'the repaired copy to complete');
    expect(doneFour.workers).toBe(4);
    expect(doneFour.swarms[0].downloaded).toBe(PIECE);
    const doneOne = await one.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 120_000, 'the empty leecher to complete');
    expect(doneOne.workers).toBe(1);
    expect(doneOne.swarms[0].downloaded).toBe(data.length);

    const expected = createHash('sha1').update(data).digest('hex');
    expect(await fileDigest(path.join(one.dirs.shareable, 'big.bin'))).toBe(expected);
    expect(await fileDigest(path.join(four.dirs.shareable, 'big.bin'))).toBe(expected);
  });

  test('a multi-file torrent whose pieces straddle files is written correctly', async () => {
    // Odd sizes so that pieces cross file boundaries; one empty file; one file inside one piece.
    const files = new Map<string, Buffer>([
      ['album/a.bin', content(3 * MiB + 12_345)],
      ['album/empty.txt', Buffer.alloc(0)],
      ['album/inner/b.bin', content(100)],
      ['album/inner/c.bin', content(2 * MiB - 777)],
      ['album/z.bin', content(PIECE * 3 + 1)],
    ]);
    const { torrent } = await seeder('album', files, false);
    expect(parseMetainfo(torrent).files).toHaveLength(5);
    const { peer, dirs } = await leecher('album', torrent, 2);
    await peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the multi-file download to complete');
    for (const [relative, bytes] of files) {
      const got = await readFile(path.join(dirs.shareable, relative));
      expect({ relative, length: got.length, same: got.equals(bytes) }).toEqual({ relative, length: bytes.length, same: true });
    }
  });
});
