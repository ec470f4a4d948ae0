/**
 * Magnet links (BEP 9) between our peer and real clients, over loopback, DHT off everywhere:
 * our peer fetches the metadata from libtorrent (found through the link's x.pe, or its tracker,
 * opentracker) and downloads the torrent; libtorrent and aria2c fetch it from our seeder; a
 * restart of our peer uses the metadata it kept in cache/ and fetches none again.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { libtorrentSeeds, LT_PEER, LT_PYTHON, type LibtorrentSeed } from '../helpers/interop.js';
import { Opentracker } from '../helpers/opentracker.js';
import {
  digest,
  fileDigest,
  folderArgs,
  freePort,
  makePeerFolders,
  removeFolders,
  runProgram,
  startPeer,
  type PeerFolders,
  type PeerProcess,
  type StatusDocument,
} from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools, pythonModuleAvailable } from '../helpers/require-tool.js';
import { generatedContent } from '../helpers/swarm-fixture.js';
import { waitUntil } from '../helpers/trackers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/**
 * 16 KiB pieces over 13 MiB and a bit: 833 piece hashes make an info dictionary longer than one
 * 16 KiB ut_metadata piece, so the metadata travels in two pieces, the last one short.
 */
const SIZE = 13 * MiB + 12_345;
const PIECE_LENGTH = 16 * KiB;
const NAME = 'clip.bin';
/** A tracker nobody listens on: the torrents of the x.pe cases must find their peers without one. */
const NO_TRACKER = 'http://127.0.0.1:1/announce';
/** What our peer logs when a magnet swarm starts fetching, and when the metadata is complete. */
const FETCHING = /fetching the metadata of [0-9a-f]{40} from peers \(magnet link\)/;
const RECEIVED = /metadata received \((\d+) bytes/;
/** aria2c with no DHT, no local discovery, no PEX: only the tracker of the link finds it peers. */
const ARIA_QUIET = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--console-log-level=warn', '--summary-interval=0'];
const TEST_MS = 60_000;
const WAIT_MS = 40_000;

const missing = [
  ...missingTools(['aria2c', 'opentracker']),
  ...(pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent']),
];

/** RFC 4648 base32 of an info hash, as some magnet links carry it. */
function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  return (bits.match(/.{5}/g) ?? []).map((chunk) => alphabet[parseInt(chunk, 2)]).join('');
}

describeUnlessMissing(missing, ['python3-libtorrent', 'aria2c', 'opentracker'], 'magnet links with libtorrent and aria2c', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function libtorrentSeeding(data: Buffer, announce: string, pieceLength?: number): Promise<LibtorrentSeed> {
    const seed = await libtorrentSeeds(NAME, data, announce, pieceLength);
    cleanups.push(seed.cleanup);
    return seed;
  }

  async function peerFolders(): Promise<PeerFolders> {
    const dirs = await makePeerFolders('shoal-magnet-');
    cleanups.push(() => removeFolders(dirs));
    return dirs;
  }

  /** Our peer on 127.0.0.1 only, with the folders `dirs`, stopped (SIGTERM) after the test. */
  function startOurs(dirs: PeerFolders, port: number): PeerProcess {
    const peer = startPeer([...folderArgs(dirs), '--workers', '2', '--host', '127.0.0.1'], port);
    cleanups.push(async () => void (await peer.stop()));
    return peer;
  }

  /** Our peer with only `uri` in its torrents/, as NAME.magnet. */
  async function oursWithMagnet(uri: string): Promise<{ ours: PeerProcess; dirs: PeerFolders }> {
    const dirs = await peerFolders();
    await writeFile(path.join(dirs.torrents, `${NAME}.magnet`), `${uri}\n`);
    return { ours: startOurs(dirs, await freePort()), dirs };
  }

  /**
   * Waits for our peer to finish the download, checking on every status read that while the
   * metadata is missing the swarm shows no pieces, no size and the link's name.
   */
  async function waitForDownload(ours: PeerProcess, expectedName: string): Promise<StatusDocument> {
    const fetching: StatusDocument['swarms'] = [];
    const done = await ours.waitForStatus(
      (s) => {
        if (s.swarms[0]?.metadata === false) fetching.push(s.swarms[0]);
        return s.swarms[0]?.role === 'seeder';
      },
      WAIT_MS,
      'our peer to download the torrent of the magnet link',
    );
    for (const swarm of fetching) expect(swarm).toMatchObject({ name: expectedName, pieces: 0, size: 0 });
    return done;
  }

  /** The download is complete and identical, and the log tells of exactly one metadata fetch of the whole dictionary. */
  async function expectDownloaded(ours: PeerProcess, dirs: PeerFolders, seed: LibtorrentSeed, done: StatusDocument): Promise<void> {
    expect(done.swarms[0]).toMatchObject({ infoHash: seed.meta.infoHashHex, metadata: true, name: NAME, pieces: seed.meta.pieceCount, size: SIZE });
    expect(done.swarms[0].downloaded).toBe(SIZE);
    expect(await fileDigest(path.join(dirs.shareable, NAME))).toBe(digest(seed.data));
    const log = ours.output.join('');
    expect(log.match(new RegExp(FETCHING, 'g'))).toHaveLength(1);
    expect(RECEIVED.exec(log)?.[1]).toBe(String(seed.meta.infoBytes.length));
  }

  test('our peer downloads from libtorrent through a magnet link with only the info hash and x.pe', async () => {
    const seed = await libtorrentSeeding(generatedContent(SIZE), NO_TRACKER, PIECE_LENGTH);
    expect(seed.meta.infoBytes.length).toBeGreaterThan(16 * KiB);
    const { ours, dirs } = await oursWithMagnet(`magnet:?xt=urn:btih:${seed.meta.infoHashHex}&x.pe=127.0.0.1:${seed.port}`);
    // The magnet swarm's connections close once the metadata is in; the torrent's swarm dials libtorrent again.
    const done = await waitForDownload(ours, seed.meta.infoHashHex);
    await expectDownloaded(ours, dirs, seed, done);
  }, TEST_MS);

  test('our peer downloads from libtorrent through a magnet link whose only source is its tracker (opentracker, tr)', async () => {
    const data = generatedContent(SIZE);
    // The info hash is known before libtorrent starts: opentracker must whitelist it first.
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'shoal-magnet-hash-'));
    cleanups.push(() => rm(scratch, { recursive: true, force: true }));
    await writeFile(path.join(scratch, NAME), data);
    const infoHashHex = parseMetainfo(await createTorrent(path.join(scratch, NAME), { announce: NO_TRACKER, pieceLength: PIECE_LENGTH })).infoHashHex;
    const tracker = await Opentracker.start([infoHashHex]);
    cleanups.push(() => tracker.stop());
    const seed = await libtorrentSeeding(data, tracker.httpAnnounceUrl, PIECE_LENGTH);
    expect(seed.meta.infoHashHex).toBe(infoHashHex);
    const explain = (): string => `opentracker's log:\n${tracker.output}\nlibtorrent's output:\n${seed.seeder.output}`;
    // Our first announce must find libtorrent listed: opentracker asks for the next one only after minutes.
    await waitUntil(() => tracker.scrape(infoHashHex), (counts) => counts?.complete === 1, 10_000, 'opentracker to list libtorrent', explain);

    // Base32 info hash and a name (dn), as links pasted from elsewhere often have.
    const uri = `magnet:?xt=urn:btih:${base32(seed.meta.infoHash)}&dn=${NAME}&tr=${encodeURIComponent(tracker.httpAnnounceUrl)}`;
    const { ours, dirs } = await oursWithMagnet(uri);
    const done = await waitForDownload(ours, NAME);
    await expectDownloaded(ours, dirs, seed, done);
    expect(done.swarms[0].trackers.map((t) => t.url)).toEqual([tracker.httpAnnounceUrl]);
    // The torrent's swarm announces to the link's tracker too: event=completed makes our peer its second seeder.
    await waitUntil(() => tracker.scrape(infoHashHex), (counts) => counts?.complete === 2 && counts.downloaded === 1, 10_000, 'opentracker to count our completed download', explain);
  }, TEST_MS);

  /** Our peer seeding a generated NAME from a torrent of ours that it announces (its own tracker). */
  async function oursSeeding(): Promise<{ ours: PeerProcess; data: Buffer; infoHashHex: string; infoBytes: Buffer }> {
    const data = generatedContent(SIZE);
    const dirs = await peerFolders();
    const port = await freePort();
    await writeFile(path.join(dirs.shareable, NAME), data);
    const torrent = await createTorrent(path.join(dirs.shareable, NAME), { announce: `http://127.0.0.1:${port}/announce`, pieceLength: PIECE_LENGTH });
    await writeFile(path.join(dirs.torrents, `${NAME}.torrent`), torrent);
    const ours = startOurs(dirs, port);
    await ours.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'our peer to check its data and seed');
    const { infoHashHex, infoBytes } = parseMetainfo(torrent);
    expect(infoBytes.length).toBeGreaterThan(16 * KiB);
    return { ours, data, infoHashHex, infoBytes };
  }

  async function otherClientFolder(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-magnet-other-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  test('libtorrent downloads from our seeder through a magnet link, fetching the metadata from us', async () => {
    const { ours, data, infoHashHex } = await oursSeeding();
    const dir = await otherClientFolder();
    const uri = `magnet:?xt=urn:btih:${infoHashHex}`;
    const result = await runProgram(LT_PYTHON, [LT_PEER, uri, dir, String(await freePort()), '--connect', `127.0.0.1:${ours.port}`, '--timeout', '40'], 45_000);
    expect(result.stdout).toContain('metadata received');
    expect(result.stdout).toContain(`done ${infoHashHex}`);
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(dir, NAME))).toBe(digest(data));
    expect((await ours.status()).swarms[0].uploaded).toBeGreaterThanOrEqual(SIZE);
  }, TEST_MS);

  test('aria2c downloads from our seeder through a magnet link whose tracker is our peer', async () => {
    const { ours, data, infoHashHex } = await oursSeeding();
    const dir = await otherClientFolder();
    const port = await freePort();
    // aria2 1.36 ignores x.pe (it stays at 0 connections), so the link names our peer's tracker,
    // over HTTP: with its DHT off aria2c skips udp:// trackers.
    const uri = `magnet:?xt=urn:btih:${infoHashHex}&tr=${encodeURIComponent(`http://127.0.0.1:${ours.port}/announce`)}`;
    const result = await runProgram('aria2c', [`--dir=${dir}`, '--seed-time=0', `--listen-port=${port}`, '--interface=127.0.0.1', ...ARIA_QUIET, uri], 45_000);
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(dir, NAME))).toBe(digest(data));
    const status = await ours.status();
    expect(status.swarms[0].uploaded).toBeGreaterThanOrEqual(SIZE);
    expect(status.swarms[0].known).toContain(`127.0.0.1:${port}`);
  }, TEST_MS);

  test('our peer restarted after the metadata arrived uses the copy in cache/ and fetches none again', async () => {
    const seed = await libtorrentSeeding(generatedContent(2 * MiB), NO_TRACKER);
    const { infoHashHex, pieceCount, totalLength } = seed.meta;
    const dirs = await peerFolders();
    const port = await freePort();
    await writeFile(path.join(dirs.torrents, `${NAME}.magnet`), `magnet:?xt=urn:btih:${infoHashHex}&x.pe=127.0.0.1:${seed.port}\n`);
    const first = startOurs(dirs, port);
    await first.waitForStatus((s) => s.swarms[0]?.metadata === true, WAIT_MS, 'our peer to fetch the metadata');
    expect(first.output.join('')).toMatch(RECEIVED);
    expect(await first.stop('SIGTERM')).toBe(0);
    const kept = await readFile(path.join(dirs.cache, 'metadata', `${infoHashHex}.torrent`));
    expect(parseMetainfo(kept).infoHashHex).toBe(infoHashHex);

    // libtorrent still seeds: a second fetch would succeed, and only the log and the first status tell it apart.
    const second = startOurs(dirs, port);
    const listed = await second.waitForStatus((s) => s.swarms.length > 0, 20_000, 'the restarted peer to list its swarm');
    expect(listed.swarms[0]).toMatchObject({ infoHash: infoHashHex, metadata: true, name: NAME, pieces: pieceCount, size: totalLength });
    await second.waitForStatus((s) => s.swarms[0]?.role === 'seeder', WAIT_MS, 'the restarted peer to complete');
    expect(await fileDigest(path.join(dirs.shareable, NAME))).toBe(digest(seed.data));
    const log = second.output.join('');
    expect(log).not.toMatch(FETCHING);
    expect(log).not.toMatch(RECEIVED);
  }, TEST_MS);
});
