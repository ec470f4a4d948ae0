/**
 * A piece whose data fails its SHA-1 is never marked as had (no HAVE, not counted): every block
 * of it came from one scripted peer, which is banned at once; an honest peer that comes later
 * supplies it, and the download completes byte-identical.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InProcessSwarm } from '../helpers/in-process-peer.js';
import { AGE_TXT, digest, fileDigest } from '../helpers/peer-process.js';
import { allPieces, ScriptedPeer } from '../helpers/scripted-peer.js';

const BAD_PIECE = 3;

const swarm = new InProcessSwarm('age.txt');
const scripted: ScriptedPeer[] = [];
afterEach(async () => {
  for (const peer of scripted.splice(0)) peer.destroy();
  await swarm.cleanup();
});

test('a corrupt piece is refused, its sender banned, and the piece counted only once it verifies', async () => {
  const original = await readFile(AGE_TXT);
  // The leecher is its own announcer, so the scripted peers are the only peers it meets.
  const leecher = await swarm.startAgeAnnouncer(false, ['--workers', '2']);
  await leecher.waitForStatus((s) => s.swarms[0]?.role === 'leecher', 20_000, 'our peer to start');
  const meta = swarm.meta;

  const corrupting = await ScriptedPeer.connectAsSeeder(leecher.port, meta.infoHash, meta.pieceCount);
  scripted.push(corrupting);
  const corruptingAddress = `127.0.0.1:${corrupting.socket.localPort}`;
  // Every request is answered; the first answer for the bad piece's first block is garbage.
  let corrupted = false;
  corrupting.serve(original, meta.pieceLength, (index, begin, block) => {
    if (index !== BAD_PIECE || begin !== 0 || corrupted) return undefined;
    corrupted = true;
    return Buffer.alloc(block.length, 0x2a);
  });
  const banned = await leecher.waitForStatus((s) => s.swarms[0].banned.length > 0, 30_000, 'the corrupting peer to be banned');
  expect(banned.swarms[0].banned).toEqual([corruptingAddress]);
  expect(await corrupting.closedWithin(5_000)).toBe(true);
  expect(corrupting.events.some((e) => e.kind === 'have' && e.index === BAD_PIECE)).toBe(false);

  const honest = await ScriptedPeer.connect(leecher.port, meta.infoHash, meta.pieceCount);
  scripted.push(honest);
  await honest.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
  const timeline: string[] = [];
  honest.onEvent((event) => {
    if (event.kind === 'have') timeline.push(`have ${event.index}`);
    if (event.kind === 'request') timeline.push(`request ${event.index}:${event.begin}`);
  });
  honest.send({ kind: 'bitfield', bits: allPieces(meta.pieceCount) });
  honest.send({ kind: 'unchoke' });
  honest.serve(original, meta.pieceLength);
  const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 30_000, 'the leecher to complete');
  expect(done.swarms[0].downloaded).toBe(original.length);
  // HAVE for the bad piece comes only after it was requested again, of the honest peer, and verified.
  const requestAt = timeline.indexOf(`request ${BAD_PIECE}:0`);
  expect(requestAt).toBeGreaterThanOrEqual(0);
  expect(timeline.indexOf(`have ${BAD_PIECE}`)).toBeGreaterThan(requestAt);
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'age.txt'))).toBe(digest(original));
});
