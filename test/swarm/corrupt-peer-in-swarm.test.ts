/**
 * A whole swarm with a bad peer in it: a seeder, three leechers trading among themselves, and a
 * scripted peer that offers every piece to one leecher and answers each request with garbage.
 * That leecher bans it and still completes; nobody else bans anyone; all three end byte-identical.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { fileDigest } from '../helpers/peer-process.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';

const MiB = 1024 * 1024;

const swarm = new InProcessSwarm('contested.bin');
const scripted: ScriptedPeer[] = [];
afterEach(async () => {
  for (const peer of scripted.splice(0)) peer.destroy();
  await swarm.cleanup();
});

test('three leechers complete byte-identical although one of them is fed corrupt blocks, and only that sender is banned', async () => {
  const data = generatedContent(4 * MiB);
  // Slowed down so that the leecher fed garbage asks the bad peer for much of the file.
  const seeder = await swarm.startSeeder(data, ['--upload-limit', '2M']);
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the seeder');
  const target = await swarm.startPeer();
  const { infoHash, pieceCount, pieceLength } = swarm.meta;

  // Unchokes at once and has every piece: the target's first requests go to it.
  const corrupting = await ScriptedPeer.connectAsSeeder(target.port, infoHash, pieceCount);
  scripted.push(corrupting);
  const corruptingAddress = `127.0.0.1:${corrupting.socket.localPort}`;
  const garbage = corrupting.serve(data, pieceLength, (_index, _begin, block) => Buffer.alloc(block.length, 0x2a));
  const others = [await swarm.startPeer(), await swarm.startPeer()];

  const banned = await target.waitForStatus((s) => s.swarms[0].banned.length > 0, 60_000, 'the corrupting peer to be banned');
  expect(banned.swarms[0].banned).toEqual([corruptingAddress]);
  expect(garbage.length).toBeGreaterThan(0);
  expect(await corrupting.closedWithin(5_000)).toBe(true);

  const leechers = [target, ...others];
  const done = await Promise.all(leechers.map((peer) => peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'a leecher to complete')));
  const expected = createHash('sha1').update(data).digest('hex');
  for (const { dirs } of leechers) expect(await fileDigest(path.join(dirs.shareable, 'contested.bin'))).toBe(expected);
  // Only verified data counts as downloaded: the garbage is in no one's counter.
  for (const status of done) expect(status.swarms[0].downloaded).toBe(data.length);
  expect(target.status().swarms[0].banned).toEqual([corruptingAddress]);
  for (const peer of [seeder, ...others]) expect(peer.status().swarms[0].banned).toEqual([]);
});
