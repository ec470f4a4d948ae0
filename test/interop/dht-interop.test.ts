/**
 * The DHT between our peer and libtorrent (issue 17), on a DHT of 20 or more nodes on loopback:
 * 18 nodes of ours (src/main/dht/ in this process), our peers' and libtorrent's, the nodes and
 * libtorrent each on an address of its own in 127.0.0.0/8 (libtorrent keeps one node per address). Given only a magnet
 * link, with no tracker and no x.pe, libtorrent finds our seeder and downloads the file, and our
 * peer finds libtorrent's seeder and downloads it, byte-identical. Nothing leaves 127.0.0.0/8:
 * every DHT node is given its bootstrap nodes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { LOOPBACK_DHT_SETTINGS, removeDhtCache, startDhtNode, stopDhtNode, until, type LoopbackDhtNode } from '../helpers/dht-nodes.js';
import { LibtorrentPeer, LT_PEER, LT_PYTHON } from '../helpers/interop.js';
import { digest, fileDigest, folderArgs, freePort, makePeerFolders, removeFolders, runProgram, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { describeUnlessMissing, pythonModuleAvailable } from '../helpers/require-tool.js';
import { generatedContent } from '../helpers/swarm-fixture.js';

const NAME = 'clip.bin';
const SIZE = 2 * 1024 * 1024 + 4_321;
/** The torrents' only tracker: nobody listens there. */
const NO_TRACKER = 'http://127.0.0.1:1/announce';
const OUR_NODES = 18;
/**
 * Our peer's DHT settings: the nodes share loopback, and while it wants peers it looks them up
 * every few seconds (libtorrent announces every 5 s here), instead of minutes.
 */
const PEER_SETTINGS = { ...LOOPBACK_DHT_SETTINGS, dhtLookupRetryBaseMs: 1_000, dhtLookupIntervalMs: 5_000 };
const WAIT_MS = 60_000;

const missing = pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent'];

describeUnlessMissing(missing, ['python3-libtorrent'], 'the DHT with libtorrent', () => {
  const nodes: LoopbackDhtNode[] = [];
  const folders: PeerFolders[] = [];
  const scratch: string[] = [];
  const running: (PeerProcess | LibtorrentPeer)[] = [];
  let bootstrap = '';

  beforeAll(async () => {
    for (let i = 0; i < OUR_NODES; i++) {
      const joinThrough = nodes.length > 0 ? [{ host: nodes[0].address, port: nodes[0].port }] : [];
      nodes.push(await startDhtNode({ address: `127.0.0.${10 + i}`, bootstrap: joinThrough }));
    }
    await until(() => nodes.every(({ node }) => node.nodes > 0), 20_000, 'our DHT nodes to know each other');
    bootstrap = nodes
      .slice(0, 3)
      .map(({ address, port }) => `${address}:${port}`)
      .join(',');
  }, 40_000);

  afterAll(async () => {
    await Promise.all(running.map((peer) => peer.stop()));
    await Promise.all(nodes.map(stopDhtNode));
    await Promise.all(nodes.map(removeDhtCache));
    await Promise.all(folders.map(removeFolders));
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-dht-lt-'));
    scratch.push(dir);
    return dir;
  }

  /** Our peer on the DHT (bootstrapping from our nodes), with no local discovery. */
  async function ourPeer(dirs: PeerFolders): Promise<PeerProcess> {
    const peer = startPeer([...folderArgs(dirs, ['--dht-bootstrap', bootstrap, '--no-lsd']), '--workers', '1'], await freePort(), true, PEER_SETTINGS);
    running.push(peer);
    return peer;
  }

  test('libtorrent given only a magnet link finds our seeder through the DHT and downloads the file', async () => {
    const data = generatedContent(SIZE);
    const dirs = await makePeerFolders();
    folders.push(dirs);
    await writeFile(path.join(dirs.shareable, NAME), data);
    const torrent = await createTorrent(path.join(dirs.shareable, NAME), { announce: NO_TRACKER });
    await writeFile(path.join(dirs.torrents, `${NAME}.torrent`), torrent);
    const meta = parseMetainfo(torrent);
    const ours = await ourPeer(dirs);
    await ours.waitForStatus((s) => s.swarms[0]?.role === 'seeder' && s.dht.nodes > 0, WAIT_MS, 'our peer to seed and join the DHT');

    const theirDir = await tempDir();
    const result = await runProgram(
      LT_PYTHON,
      [LT_PEER, `magnet:?xt=urn:btih:${meta.infoHashHex}`, theirDir, String(await freePort()), '--dht-bootstrap', bootstrap, '--listen', '127.0.0.50', '--show-trackers', '--timeout', '60'],
      70_000,
    );
    if (result.code !== 0) throw new Error(`libtorrent did not download through the DHT (exit ${result.code})\n${result.stdout}${result.stderr}\nour peer:\n${ours.output.join('')}`);
    expect(result.stdout).toContain('metadata received');
    // It dialled our seeder: with no tracker and no x.pe, the DHT is all that could have named it.
    // (Its `source dht` line may be missed: the download can take less than its 0.1 s sampling.)
    expect(result.stdout).toMatch(new RegExp(`^connect 127\\.0\\.0\\.1:${ours.port} outgoing`, 'm'));
    expect(await fileDigest(path.join(theirDir, NAME))).toBe(digest(data));
  }, 120_000);

  test('our peer given only a .magnet file finds libtorrent\'s seeder through the DHT and downloads the file', async () => {
    const data = generatedContent(SIZE);
    const theirDir = await tempDir();
    await writeFile(path.join(theirDir, NAME), data);
    const torrentFile = path.join(theirDir, `${NAME}.torrent`);
    const torrent = await createTorrent(path.join(theirDir, NAME), { announce: NO_TRACKER });
    await writeFile(torrentFile, torrent);
    const meta = parseMetainfo(torrent);
    const ltPort = await freePort();
    const seeder = LibtorrentPeer.start([torrentFile, theirDir, String(ltPort), '--seed', '--dht-bootstrap', bootstrap, '--listen', '127.0.0.51', '--timeout', '120']);
    running.push(seeder);
    await seeder.waitForOutput(/^state seeding/m, 20_000, 'libtorrent to check the data and seed');

    const dirs = await makePeerFolders();
    folders.push(dirs);
    await writeFile(path.join(dirs.torrents, `${NAME}.magnet`), `magnet:?xt=urn:btih:${meta.infoHashHex}\n`);
    const ours = await ourPeer(dirs);
    const done = await ours.waitForStatus((s) => s.swarms[0]?.role === 'seeder', WAIT_MS, 'our peer to download through the DHT');
    expect(done.swarms[0].knownFrom).toContainEqual({ address: `127.0.0.51:${ltPort}`, source: 'dht' });
    expect(await fileDigest(path.join(dirs.shareable, NAME))).toBe(digest(data));
  }, 120_000);
});
