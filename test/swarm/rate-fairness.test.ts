/**
 * --upload-limit shared fairly across swarms (fair-limiter.ts): a seeder of two torrents under one
 * upload limit, four downloaders in swarm A and one in swarm B, all asking for as much as they
 * can. Served per connection, B would get a fifth of the rate; served round-robin by swarm, it
 * gets about half.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo, type Metainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { freePort } from '../helpers/peer-process.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';

const KiB = 1024;
const BLOCK = 16 * KiB;
const PIECE = 64 * KiB;

/** A downloader that keeps `depth` requests outstanding, cycling over the torrent's blocks; counts bytes. */
class GreedyDownloader {
  received = 0;
  private next = 0;

  private constructor(
    readonly peer: ScriptedPeer,
    private readonly meta: Metainfo,
  ) {}

  static async start(port: number, meta: Metainfo, depth: number): Promise<GreedyDownloader> {
    const peer = await ScriptedPeer.connect(port, meta.infoHash, meta.pieceCount);
    const downloader = new GreedyDownloader(peer, meta);
    peer.onEvent((event) => {
      if (event.kind === 'piece') {
        downloader.received += event.block.length;
        downloader.request();
      }
      if (event.kind === 'unchoke') for (let i = 0; i < depth; i++) downloader.request();
    });
    await peer.waitFor((event) => event.kind === 'handshake', 10_000, 'the handshake');
    peer.send({ kind: 'interested' });
    return downloader;
  }

  private request(): void {
    const blocksPerPiece = PIECE / BLOCK;
    const total = this.meta.pieceCount * blocksPerPiece;
    const block = this.next++ % total;
    this.peer.send({ kind: 'request', index: Math.floor(block / blocksPerPiece), begin: (block % blocksPerPiece) * BLOCK, length: BLOCK });
  }
}

const peers = new InProcessSwarm();
const downloaders: GreedyDownloader[] = [];
afterEach(async () => {
  for (const d of downloaders.splice(0)) d.peer.destroy();
  await peers.cleanup();
});

test('one upload limit, two swarms: the swarm with one downloader gets about as much as the swarm with four', async () => {
  const dirs = await peers.makeFolders();
  const port = await freePort();
  const metas: Metainfo[] = [];
  for (const name of ['a.bin', 'b.bin']) {
    await writeFile(path.join(dirs.shareable, name), generatedContent(4 * 1024 * KiB + name.charCodeAt(0)));
    const torrent = await createTorrent(path.join(dirs.shareable, name), { announce: `http://127.0.0.1:${port}/announce`, pieceLength: PIECE });
    await writeFile(path.join(dirs.torrents, `${name}.torrent`), torrent);
    metas.push(parseMetainfo(torrent));
  }
  const seeder = await peers.start(dirs, { port, args: ['--upload-limit', '2M'] });
  await seeder.waitForStatus((s) => s.swarms.length === 2 && s.swarms.every((w) => w.role === 'seeder'), 30_000, 'the seeder');
  const [a, b] = metas;
  for (let i = 0; i < 4; i++) downloaders.push(await GreedyDownloader.start(port, a, 32));
  downloaders.push(await GreedyDownloader.start(port, b, 32));
  const inA = downloaders.slice(0, 4);
  const inB = downloaders[4];

  // About four seconds of the limit, counted from when every downloader is being served.
  const deadline = Date.now() + 60_000;
  const sum = (list: GreedyDownloader[]): number => list.reduce((total, d) => total + d.received, 0);
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (sum(downloaders) >= 8 * 1024 * KiB) resolve();
      else if (Date.now() > deadline) reject(new Error(`only ${sum(downloaders)} bytes served in 60 s`));
      else return;
      clearInterval(check);
    }, 50);
  });
  const shareOfB = inB.received / sum(downloaders);
  // Per connection B would get 0.2; per swarm 0.5. Margins for the choker's start and bursts.
  expect(shareOfB).toBeGreaterThan(0.35);
  expect(shareOfB).toBeLessThan(0.65);
  expect(sum(inA)).toBeGreaterThan(0);
}, 120_000);
