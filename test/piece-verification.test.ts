/**
 * A piece whose data fails its SHA-1 is never marked as had (no HAVE, not counted) and is
 * requested again; the download then completes byte-identical. The seeder here is a scripted
 * raw-socket peer that corrupts the first answer for one block.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ParserEvent } from '../src/main/wire/wire-parser.js';
import { AGE_TXT, oursWithAge } from './helpers/interop.js';
import { digest, fileDigest } from './helpers/peer-process.js';
import { ScriptedPeer } from './helpers/scripted-peer.js';

const BAD_PIECE = 3;

test('a corrupt piece is refused, requested again, and only counted once it verifies', async () => {
  const original = await readFile(AGE_TXT);
  // The leecher is its own announcer, so the scripted peer is the only peer it meets.
  const setup = await oursWithAge(false);
  const { ours: leecher, meta } = setup;
  const port = leecher.port;
  try {
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
    expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(digest(original));
    seeder.destroy();
  } finally {
    await setup.cleanup();
  }
});

function allPieces(count: number): Buffer {
  const bits = Buffer.alloc(Math.ceil(count / 8), 0xff);
  if (count % 8) bits[bits.length - 1] = (0xff << (8 - (count % 8))) & 0xff;
  return bits;
}
