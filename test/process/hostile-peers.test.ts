/**
 * Peers that send bad data. Every block is attributed to the peer that sent it; a piece that
 * fails its hash check bans its sender when it had one, and is otherwise downloaded from one
 * peer at a time until the culprit shows. Banned peers are closed, refused when they come
 * back, never dialled, and listed in /status; the download completes from honest peers.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { AGE_TXT, oursWithAge } from '../helpers/interop.js';
import { digest, fileDigest, freePort } from '../helpers/peer-process.js';
import { allPieces, ScriptedPeer } from '../helpers/scripted-peer.js';
import { generatedContent, SwarmFixture } from '../helpers/swarm-fixture.js';

const MiB = 1024 * 1024;

test('a malicious seeder beside an honest one: our leecher completes byte-identical and the malicious one is banned', async () => {
  const fixture = new SwarmFixture('hostile.bin');
  // The malicious seeder's listening port, as it tells the leecher: a dial to it would show here.
  const trap = net.createServer((socket) => {
    dialsToTrap++;
    socket.destroy();
  });
  let dialsToTrap = 0;
  trap.listen(await freePort(), '127.0.0.1');
  await once(trap, 'listening');
  const trapPort = (trap.address() as net.AddressInfo).port;
  try {
    const data = generatedContent(8 * MiB);
    // The honest seeder is slowed down so that the leecher asks the malicious one for much.
    const honest = await fixture.startSeeder(data, ['--upload-limit', '1M']);
    await honest.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the honest seeder');
    const leecher = await fixture.startPeer();
    await leecher.peer.waitForStatus((s) => s.swarms[0]?.peers.length === 1, 30_000, 'the leecher to reach the honest seeder');
    const meta = (await leecher.peer.status()).swarms[0];
    const infoHash = Buffer.from(meta.infoHash, 'hex');

    const malicious = await ScriptedPeer.connect(leecher.peer.port, infoHash, meta.pieces);
    await malicious.waitFor((e) => e.kind === 'handshake', 10_000, 'the handshake');
    malicious.sendListenPort(trapPort);
    malicious.send({ kind: 'bitfield', bits: allPieces(meta.pieces) });
    malicious.send({ kind: 'unchoke' });
    const served = malicious.serve(data, 256 * 1024, (_index, _begin, block) => Buffer.alloc(block.length, 0xee));

    const done = await leecher.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 120_000, 'the leecher to complete');
    expect(served.length).toBeGreaterThan(0);
    expect(done.swarms[0].banned).toEqual([`127.0.0.1:${trapPort}`]);
    expect(done.swarms[0].known).not.toContain(`127.0.0.1:${trapPort}`);
    // Failed pieces are not counted; the file is the honest seeder's, byte for byte.
    expect(done.swarms[0].downloaded).toBe(data.length);
    expect(await fileDigest(path.join(leecher.dirs.shareable, 'hostile.bin'))).toBe(digest(data));
    expect(malicious.isClosed).toBe(true);
    expect(leecher.peer.output.join('')).toMatch(new RegExp(`\\[hostile\\.bin\\] banned peer 127\\.0\\.0\\.1:${trapPort}: `));

    // Back with the same peer id: refused before the handshake is answered.
    const again = await ScriptedPeer.connect(leecher.peer.port, infoHash, meta.pieces, { peerId: malicious.peerId });
    expect(await again.closedWithin(10_000)).toBe(true);
    expect(again.events.some((e) => e.kind === 'handshake')).toBe(false);
    expect(dialsToTrap).toBe(0);
  } finally {
    trap.close();
    await fixture.cleanup();
  }
});

test('a peer that corrupts some blocks of pieces it shares with an honest peer is found and banned', async () => {
  const original = await readFile(AGE_TXT);
  const setup = await oursWithAge(false);
  const { ours: leecher, meta } = setup;
  try {
    // The corrupting peer answers the first two requests (blocks of one piece: the second is
    // garbage), then chokes: an honest peer finishes that piece, which then fails with blocks from both.
    const corrupting = await ScriptedPeer.connectAsSeeder(leecher.port, meta.infoHash, meta.pieceCount);
    const corruptingAddress = `127.0.0.1:${corrupting.socket.localPort}`;
    let answered = 0;
    corrupting.onEvent((event) => {
      if (event.kind !== 'request' || answered >= 2) return;
      const start = event.index * meta.pieceLength + event.begin;
      const block = original.subarray(start, start + event.length);
      corrupting.send({ kind: 'piece', index: event.index, begin: event.begin, block: ++answered === 2 ? Buffer.alloc(block.length, 0x13) : block });
      if (answered === 2) corrupting.send({ kind: 'choke' });
    });
    await corrupting.waitFor(() => answered === 2, 10_000, 'two requests answered');

    const honest = await ScriptedPeer.connectAsSeeder(leecher.port, meta.infoHash, meta.pieceCount);
    honest.serve(original, meta.pieceLength);

    const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder' && s.swarms[0].banned.length > 0, 30_000, 'the leecher to complete and ban');
    expect(done.swarms[0].banned).toEqual([corruptingAddress]);
    expect(done.swarms[0].downloaded).toBe(original.length);
    expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(digest(original));
    expect(await corrupting.closedWithin(5_000)).toBe(true);
    const log = leecher.output.join('');
    expect(log).toMatch(/failed its hash check with blocks from 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+; downloading it again from one peer at a time/);
    expect(log).toMatch(/banned peer 127\.0\.0\.1:\d+: blocks it sent of piece \d+ differ from the data that verified/);
    honest.destroy();
  } finally {
    await setup.cleanup();
  }
});
