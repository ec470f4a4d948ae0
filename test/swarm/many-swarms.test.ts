/**
 * Many swarms at once: peer P has 20 torrents, seeds 10 (set A) and leeches 10 (set B) from two
 * other peers, Q and R, which seed set B; Q also leeches set A from P. One port per peer carries
 * every swarm; everything completes byte-identical, P's ten downloads sharing a slab of four pieces.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import type { StatusDocument } from '../../src/main/session.js';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { fileDigest, freePort, type PeerFolders } from '../helpers/peer-process.js';

const KiB = 1024;

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

test('a peer seeding 10 swarms and leeching 10 others at once', async () => {
  const [p, q, r] = await Promise.all([peers.makeFolders(), peers.makeFolders(), peers.makeFolders()]);
  const [portP, portQ, portR] = [await freePort(), await freePort(), await freePort()];
  const digests = new Map<string, string>();
  /** Makes torrent `name` announcing at `announcePort`, with its data in each of `holders`' shareable/. */
  const make = async (name: string, announcePort: number, holders: PeerFolders[], everyone: PeerFolders[]): Promise<void> => {
    const data = generatedContent(1536 * KiB + name.length * 1000);
    digests.set(name, createHash('sha1').update(data).digest('hex'));
    const source = path.join(holders[0].shareable, name);
    for (const holder of holders) await writeFile(path.join(holder.shareable, name), data);
    const torrent = await createTorrent(source, { announce: `http://127.0.0.1:${announcePort}/announce`, pieceLength: 64 * KiB });
    for (const peer of everyone) await writeFile(path.join(peer.torrents, `${name}.torrent`), torrent);
  };
  const setA = Array.from({ length: 10 }, (_, i) => `a-${i}.bin`);
  const setB = Array.from({ length: 10 }, (_, i) => `b-${i}.bin`);
  for (const name of setA) await make(name, portP, [p], [p, q]);
  for (const name of setB) await make(name, portQ, [q, r], [p, q, r]);

  // P's block buffers hold 4 of its 64 KiB pieces for 10 downloads at once: each swarm gets a
  // share of one piece at a time (slab-shares.ts) and is woken when memory comes back.
  const [peerP, peerQ] = await Promise.all([
    peers.start(p, { port: portP, args: ['--workers', '2', '--buffer-memory', '256k'] }),
    peers.start(q, { port: portQ }),
    peers.start(r, { port: portR }),
  ]);

  const allSeeding = (s: StatusDocument): boolean => s.swarms.length > 0 && s.swarms.every((w) => w.role === 'seeder');
  await peerP.waitForStatus((s) => s.swarms.length === 20 && allSeeding(s), 120_000, 'P to complete set B');
  const doneQ = await peerQ.waitForStatus((s) => s.swarms.length === 20 && allSeeding(s), 120_000, 'Q to complete set A');
  const doneP = peerP.status();
  for (const name of setB) expect(await fileDigest(path.join(p.shareable, name))).toBe(digests.get(name));
  for (const name of setA) expect(await fileDigest(path.join(q.shareable, name))).toBe(digests.get(name));
  // P uploaded in the swarms it seeded and downloaded in the others, all through one port.
  const byName = new Map(doneP.swarms.map((swarm) => [swarm.name, swarm]));
  for (const name of setA) expect(byName.get(name)!.uploaded).toBeGreaterThan(0);
  for (const name of setB) expect(byName.get(name)!.downloaded).toBe(byName.get(name)!.size);
  expect(doneQ.port).toBe(portQ);
}, 240_000);
