/**
 * Magnet links (BEP 9) in whole swarms of in-process peers: a peer given only a .magnet file
 * fetches the info dictionary from the peers it finds (x.pe, or the link's tracker), keeps it in
 * cache/, and downloads the torrent; a restart does not fetch the metadata again; peers that send
 * bad metadata are dropped.
 */
import { createHash } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { metadataFile } from '../../src/io/metadata-store.js';
import { encodeExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../../src/main/wire/ut-metadata.js';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';

const SIZE = 3 * 1024 * 1024 + 12_345;
/** With 16 KiB pieces, a torrent whose info dictionary takes two 16 KiB metadata pieces (900 hashes). */
const TWO_METADATA_PIECES = 900 * 16 * 1024;
const WAIT_MS = 30_000;

let swarm: InProcessSwarm;
beforeEach(() => {
  swarm = new InProcessSwarm('clip.bin');
});
afterEach(() => swarm.cleanup());

/** A peer whose torrents/ holds only `uri`, as NAME.magnet. */
async function startMagnetPeer(uri: string): Promise<InProcessPeer> {
  const dirs = await swarm.makeFolders();
  await writeFile(path.join(dirs.torrents, 'clip.magnet'), `${uri}\n`);
  return swarm.start(dirs);
}

function swarmOf(peer: InProcessPeer) {
  return peer.status().swarms[0];
}

test('a peer given a magnet with only the info hash and x.pe fetches the metadata, keeps it, downloads the file, and does not fetch it again after a restart', async () => {
  const data = generatedContent(SIZE);
  const seeder = await swarm.startSeeder(data);
  const { infoHashHex } = swarm.meta;
  const leecher = await startMagnetPeer(`magnet:?xt=urn:btih:${infoHashHex}&dn=clip.bin&x.pe=127.0.0.1:${seeder.port}`);
  // Before any peer answered: the swarm is listed by the link's name, without pieces.
  const early = swarmOf(leecher);
  expect(early).toMatchObject({ infoHash: infoHashHex, metadata: false, name: 'clip.bin', pieces: 0, size: 0, startedFrom: null });

  await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', WAIT_MS, 'the download from a magnet link');
  expect(swarmOf(leecher)).toMatchObject({ metadata: true, pieces: swarm.meta.pieceCount, size: SIZE });
  expect((await readFile(path.join(leecher.dirs.shareable, 'clip.bin'))).equals(data)).toBe(true);
  const kept = await readFile(metadataFile(leecher.dirs.cache, infoHashHex));
  expect(kept.includes(swarm.meta.infoBytes)).toBe(true);
  expect(leecher.output).toMatch(/metadata received \(\d+ bytes/);
  // The hand-over from the magnet's swarm to the torrent's ran once: no second move of the data failed.
  expect(leecher.output).not.toMatch(/storage error/);

  const restarted = await leecher.restart();
  const after = restarted.swarms[0];
  // The cached metadata is used at once: the swarm starts as a seeder of the checked data.
  expect(after).toMatchObject({ metadata: true, role: 'seeder', pieces: swarm.meta.pieceCount });
  const secondRun = leecher.output.slice(leecher.output.lastIndexOf('--- restarted'));
  expect(secondRun).not.toMatch(/fetching the metadata/);
});

test('a magnet whose only source is its tracker (tr) finds the seeder through it', async () => {
  const data = generatedContent(SIZE);
  await swarm.startSeeder(data);
  const { infoHashHex } = swarm.meta;
  const tracker = encodeURIComponent(`http://127.0.0.1:${swarm.announcePort}/announce`);
  const leecher = await startMagnetPeer(`magnet:?xt=urn:btih:${infoHashHex}&tr=${tracker}`);
  expect(swarmOf(leecher).name).toBe(infoHashHex);
  await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', WAIT_MS, 'the download from a magnet link with a tracker');
  expect((await readFile(path.join(leecher.dirs.shareable, 'clip.bin'))).equals(data)).toBe(true);
  expect(swarmOf(leecher).trackers.map((t) => t.url)).toEqual([`http://127.0.0.1:${swarm.announcePort}/announce`]);
});

test('every peer serves ut_metadata for its torrents: the whole dictionary in 16 KiB pieces, a reject past the end', async () => {
  const seeder = await swarm.startSeeder(generatedContent(TWO_METADATA_PIECES), [], 16 * 1024);
  const { infoHash, infoBytes, pieceCount } = swarm.meta;
  expect(infoBytes.length).toBeGreaterThan(16 * 1024);
  const peer = await ScriptedPeer.connect(seeder.port, infoHash, pieceCount);
  peer.send({ kind: 'extended', extId: 0, payload: encodeExtensionHandshake({ m: { ut_metadata: 7 } }) });
  const theirs = await peer.waitFor((e) => e.kind === 'extended' && e.extId === 0, 5_000, "the seeder's extension handshake");
  const offered = theirs.kind === 'extended' ? theirs.payload : Buffer.alloc(0);
  expect(offered.includes(Buffer.from(`13:metadata_sizei${infoBytes.length}e`))).toBe(true);
  const pieces = Math.ceil(infoBytes.length / (16 * 1024));
  for (let piece = 0; piece <= pieces; piece++) peer.send({ kind: 'extended', extId: 2, payload: encodeMetadataMessage({ type: 'request', piece }) });
  const answers = () => peer.events.flatMap((e) => (e.kind === 'extended' && e.extId === 7 ? [decodeMetadataMessage(e.payload)] : []));
  await peer.waitFor(() => answers().length === pieces + 1, 5_000, 'an answer to every metadata request');
  const got = answers();
  const assembled = Buffer.concat(got.flatMap((m) => (m.type === 'data' ? [m.data] : [])));
  expect(createHash('sha1').update(assembled).digest().equals(infoHash)).toBe(true);
  expect(got[pieces]).toEqual({ type: 'reject', piece: pieces });
  peer.destroy();
});

describe('a peer sending bad metadata is dropped; a good one is then used', () => {
  /** A seeder (for a real torrent), and a magnet leecher that knows no peer: scripted peers connect to it. */
  async function magnetLeecherAlone(): Promise<InProcessPeer> {
    await swarm.startSeeder(generatedContent(TWO_METADATA_PIECES), [], 16 * 1024);
    expect(swarm.meta.infoBytes.length).toBeGreaterThan(16 * 1024);
    return startMagnetPeer(`magnet:?xt=urn:btih:${swarm.meta.infoHashHex}`);
  }

  /** A scripted peer that offers `size` bytes of metadata and answers every request from `info`, altered by `alter`. */
  async function metadataPeer(leecher: InProcessPeer, size: number, info: Buffer, alter: (data: Buffer) => Buffer = (d) => d): Promise<ScriptedPeer> {
    const { infoHash, pieceCount } = swarm.meta;
    const peer = await ScriptedPeer.connect(leecher.port, infoHash, pieceCount);
    await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
    peer.onEvent((event) => {
      if (event.kind !== 'extended' || event.extId !== 3 || peer.isClosed) return;
      const message = decodeMetadataMessage(event.payload);
      if (message.type !== 'request') return;
      const data = info.subarray(message.piece * 16 * 1024, (message.piece + 1) * 16 * 1024);
      peer.send({ kind: 'extended', extId: 2, payload: encodeMetadataMessage({ type: 'data', piece: message.piece, totalSize: size, data: alter(data) }) });
    });
    peer.send({ kind: 'extended', extId: 0, payload: encodeExtensionHandshake({ m: { ut_metadata: 3 }, metadata_size: size }) });
    return peer;
  }

  async function expectNoMetadataYet(leecher: InProcessPeer): Promise<void> {
    expect(swarmOf(leecher).metadata).toBe(false);
    await expect(access(metadataFile(leecher.dirs.cache, swarm.meta.infoHashHex))).rejects.toThrow();
  }

  test('a metadata_size of 1 GiB', async () => {
    const leecher = await magnetLeecherAlone();
    const peer = await metadataPeer(leecher, 1024 ** 3, swarm.meta.infoBytes);
    expect(await peer.closedWithin(5_000)).toBe(true);
    await expectNoMetadataYet(leecher);
  });

  test('a piece of the wrong size', async () => {
    const leecher = await magnetLeecherAlone();
    const peer = await metadataPeer(leecher, swarm.meta.infoBytes.length, swarm.meta.infoBytes, (data) => data.subarray(0, 100));
    expect(await peer.closedWithin(5_000)).toBe(true);
    await expectNoMetadataYet(leecher);
  });

  test('a dictionary whose hash does not match, then the true one from another peer', async () => {
    const leecher = await magnetLeecherAlone();
    const { infoBytes } = swarm.meta;
    const forged = Buffer.from(infoBytes);
    forged[forged.length - 5] ^= 0xff;
    const liar = await metadataPeer(leecher, infoBytes.length, forged);
    expect(await liar.closedWithin(5_000)).toBe(true);
    await expectNoMetadataYet(leecher);
    expect(leecher.output).toMatch(/does not match the info hash/);

    const honest = await metadataPeer(leecher, infoBytes.length, infoBytes);
    await leecher.waitForStatus((s) => s.swarms[0]?.metadata === true, WAIT_MS, 'the metadata from the honest peer');
    expect((await readFile(metadataFile(leecher.dirs.cache, swarm.meta.infoHashHex))).includes(infoBytes)).toBe(true);
    honest.destroy();
  });
});
