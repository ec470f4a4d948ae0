/**
 * A piece whose data fails its SHA-1 is never marked as had (no HAVE, not counted) and is
 * requested again; the download then completes byte-identical. The seeder here is a scripted
 * raw-socket peer that corrupts the first answer for one block.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo, setAnnounce } from '../src/io/metainfo.js';
import type { ParserEvent } from '../src/main/wire/wire-parser.js';
import {
  digest,
  fileDigest,
  folderArgs,
  freePort,
  makePeerFolders,
  PROJECT_ROOT,
  removeFolders,
  startPeer,
} from './helpers/peer-process.js';
import { ScriptedPeer } from './helpers/scripted-peer.js';

const AGE_TXT = path.join(PROJECT_ROOT, 'shareable', 'age.txt');
const AGE_TORRENT = path.join(PROJECT_ROOT, 'torrents', 'age.torrent');
const BAD_PIECE = 3;

test('a corrupt piece is refused, requested again, and only counted once it verifies', async () => {
  const original = await readFile(AGE_TXT);
  const port = await freePort();
  const dirs = await makePeerFolders();
  // The leecher is its own announcer, so the scripted peer is the only peer it meets.
  const torrent = setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`);
  const meta = parseMetainfo(torrent);
  await writeFile(path.join(dirs.torrents, 'age.torrent'), torrent);
  const leecher = startPeer([...folderArgs(dirs), '--workers', '2'], port);
  try {
    await leecher.waitForStatus((s) => s.swarms.length === 1, 20_000, 'the swarm to start');
    const seeder = await ScriptedPeer.connect(port, meta.infoHash, meta.pieceCount);
    await seeder.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
    seeder.send({ kind: 'bitfield', bits: allPieces(meta.pieceCount) });
    seeder.send({ kind: 'unchoke' });

    // Answer every request; the first answer for the bad piece's first block is garbage.
    const timeline: string[] = [];
    let corrupted = false;
    seeder.onEvent((event: ParserEvent): void => {
      if (event.kind === 'have') timeline.push(`have ${event.index}`);
      if (event.kind !== 'request') return;
      timeline.push(`request ${event.index}:${event.begin}`);
      const start = event.index * meta.pieceLength + event.begin;
      let block = original.subarray(start, start + event.length);
      if (event.index === BAD_PIECE && event.begin === 0 && !corrupted) {
        corrupted = true;
        block = Buffer.alloc(event.length, 0x2a);
      }
      seeder.send({ kind: 'piece', index: event.index, begin: event.begin, block });
    });
    const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 30_000, 'the leecher to complete');
    expect(done.swarms[0].downloaded).toBe(original.length);
    expect(corrupted).toBe(true);
    const requestsOfBadBlock = timeline.flatMap((line, at) => (line === `request ${BAD_PIECE}:0` ? [at] : []));
    expect(requestsOfBadBlock.length).toBeGreaterThanOrEqual(2);
    // HAVE for the bad piece comes only after it was requested again and verified.
    const haveAt = timeline.indexOf(`have ${BAD_PIECE}`);
    expect(haveAt).toBeGreaterThan(requestsOfBadBlock[1]);
    expect(await fileDigest(path.join(dirs.shareable, 'age.txt'))).toBe(digest(original));
    seeder.destroy();
  } finally {
    await leecher.stop();
    await removeFolders(dirs);
  }
});

function allPieces(count: number): Buffer {
  const bits = Buffer.alloc(Math.ceil(count / 8), 0xff);
  if (count % 8) bits[bits.length - 1] = (0xff << (8 - (count % 8))) & 0xff;
  return bits;
}
