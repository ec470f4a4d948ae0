/**
 * The DHT in whole swarms of in-process peers (issue 17), over a small DHT of our own nodes on
 * loopback: a peer given only a magnet link (no tracker, no x.pe) finds the seeder through the
 * DHT and downloads; a restarted peer joins through its saved table when its bootstrap node is
 * gone; a private torrent is never announced or looked up. No test reaches beyond 127.0.0.1.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeBencode, encodeBencode, isDict, type BencodeDict } from '../../src/io/bencode.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { LOOPBACK_DHT_SETTINGS, removeDhtCache, startDhtNode, stopDhtNode, until, type LoopbackDhtNode } from '../helpers/dht-nodes.js';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { ScriptedDhtNode } from '../helpers/scripted-dht-node.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';
import { supportsDht } from '../../src/main/wire/wire-messages.js';
import type { ParserEvent } from '../../src/main/wire/wire-parser.js';

const WAIT_MS = 30_000;
/** Loopback nodes share one address; while a peer wants peers, it looks them up every few seconds. */
const SETTINGS = { ...LOOPBACK_DHT_SETTINGS, dhtLookupRetryBaseMs: 500, dhtLookupIntervalMs: 3_000 };
/** A tracker nobody answers at: the DHT is the only way to the peers. */
const DEAD_TRACKER = 'http://127.0.0.1:1/announce';

let swarm: InProcessSwarm;
const dhtNodes: LoopbackDhtNode[] = [];

beforeEach(() => {
  swarm = new InProcessSwarm('clip.bin');
});
afterEach(async () => {
  await swarm.cleanup();
  await Promise.all(dhtNodes.map(stopDhtNode));
  await Promise.all(dhtNodes.splice(0).map(removeDhtCache));
});

/** A bootstrap node and `more` nodes that joined through it: a DHT of our own on loopback. */
async function smallDht(more: number): Promise<LoopbackDhtNode> {
  const first = await startDhtNode();
  dhtNodes.push(first);
  for (let i = 0; i < more; i++) dhtNodes.push(await startDhtNode({ bootstrap: [{ host: '127.0.0.1', port: first.port }] }));
  await until(() => dhtNodes.every(({ node }) => node.nodes > 0), 10_000, 'the DHT nodes to know each other');
  return first;
}

/** The torrent with `private` = 1 in its info dictionary (BEP 27; a new info hash). */
function madePrivate(torrent: Buffer): Buffer {
  const root = decodeBencode(torrent) as BencodeDict;
  const info = root['info'];
  if (!isDict(info)) throw new Error('the torrent has no info dictionary');
  return encodeBencode({ ...root, info: { ...info, private: 1 } });
}

function dhtArgs(port: number): string[] {
  return ['--dht-bootstrap', `127.0.0.1:${port}`, '--no-lsd'];
}

/** A seeder of `data` whose torrent's only tracker is dead, on the DHT through `bootstrapPort`. */
async function dhtSeeder(data: Buffer, bootstrapPort: number): Promise<InProcessPeer> {
  const dirs = await swarm.makeFolders();
  const file = path.join(dirs.shareable, 'clip.bin');
  await writeFile(file, data);
  swarm.torrent = await createTorrent(file, { announce: DEAD_TRACKER, pieceLength: 64 * 1024 });
  await writeFile(path.join(dirs.torrents, 'clip.torrent'), swarm.torrent);
  return swarm.start(dirs, { discovery: dhtArgs(bootstrapPort), settings: SETTINGS });
}

test('a peer given only a magnet link (no tr, no x.pe) finds the seeder through the DHT and downloads the file', async () => {
  const bootstrap = await smallDht(6);
  const data = generatedContent(1024 * 1024 + 777);
  const seeder = await dhtSeeder(data, bootstrap.port);
  const dirs = await swarm.makeFolders();
  await writeFile(path.join(dirs.torrents, 'clip.magnet'), `magnet:?xt=urn:btih:${swarm.meta.infoHashHex}\n`);
  const leecher = await swarm.start(dirs, { discovery: dhtArgs(bootstrap.port), settings: SETTINGS });

  await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', WAIT_MS, 'the download through the DHT');
  expect((await readFile(path.join(dirs.shareable, 'clip.bin'))).equals(data)).toBe(true);
  const status = leecher.status();
  expect(status.dht.enabled).toBe(true);
  expect(status.dht.nodes).toBeGreaterThan(0);
  expect(status.swarms[0].knownFrom).toContainEqual({ address: `127.0.0.1:${seeder.port}`, source: 'dht' });
});

test('a restarted peer joins the DHT through the nodes it saved when its bootstrap node is gone, and is found there', async () => {
  const bootstrap = await smallDht(5);
  const data = generatedContent(200_000);
  const seeder = await dhtSeeder(data, bootstrap.port);
  await seeder.waitForStatus((s) => s.dht.nodes >= 3, WAIT_MS, 'the seeder to know several nodes');
  await seeder.stop();
  const saved = JSON.parse(await readFile(path.join(seeder.dirs.cache, 'dht.json'), 'utf8')) as { nodes: { port: number }[] };
  expect(saved.nodes.length).toBeGreaterThan(0);

  // Its bootstrap node is gone: its port answers nothing now.
  await stopDhtNode(bootstrap);
  dhtNodes.splice(dhtNodes.indexOf(bootstrap), 1);
  await removeDhtCache(bootstrap);
  await seeder.restart();
  await seeder.waitForStatus((s) => s.dht.nodes > 0, WAIT_MS, 'the restarted seeder to join through its saved nodes');
  // It announced itself again there: a node of the DHT finds it.
  const searcher = dhtNodes[dhtNodes.length - 1].node;
  const found = new Set<string>();
  const deadline = Date.now() + WAIT_MS;
  while (!found.has(`127.0.0.1:${seeder.port}`)) {
    if (Date.now() > deadline) throw new Error(`no DHT node found the restarted seeder; found ${[...found].join(', ') || 'nobody'}\n${seeder.output}`);
    await searcher.lookup(swarm.meta.infoHash, (peers) => peers.forEach((peer) => found.add(`${peer.ip}:${peer.port}`)));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

test('a private torrent is never announced or looked up in the DHT; the public one beside it is', async () => {
  const spy = await ScriptedDhtNode.start();
  try {
    // The same file twice: a public torrent, and the private one made of it (another info hash).
    const dirs = await swarm.makeFolders();
    const file = path.join(dirs.shareable, 'clip.bin');
    await writeFile(file, generatedContent(100_000));
    const torrent = await createTorrent(file, { announce: DEAD_TRACKER });
    await writeFile(path.join(dirs.torrents, 'public.torrent'), torrent);
    await writeFile(path.join(dirs.torrents, 'private.torrent'), madePrivate(torrent));
    const peer = await swarm.start(dirs, { discovery: dhtArgs(spy.port), settings: SETTINGS });
    const status = await peer.waitForStatus((s) => s.swarms.length === 2 && s.swarms.every((x) => x.role === 'seeder'), WAIT_MS, 'both swarms to seed');
    const publicHash = Buffer.from(status.swarms.find((x) => !x.private)!.infoHash, 'hex');
    const privateHash = Buffer.from(status.swarms.find((x) => x.private)!.infoHash, 'hex');
    await until(() => spy.queriesFor('announce_peer', publicHash).length > 0, WAIT_MS, 'the public torrent to be announced to the spy node');
    expect(spy.queriesFor('get_peers', privateHash)).toEqual([]);
    expect(spy.queriesFor('announce_peer', privateHash)).toEqual([]);
  } finally {
    await spy.close();
  }
});

test('a peer that sets the DHT bit is sent our DHT port, and the node its PORT names joins our table; without the bit, or in a private swarm, no PORT', async () => {
  const nowhere = await ScriptedDhtNode.start(() => null);
  const node = await startDhtNode();
  dhtNodes.push(node);
  const scripted: ScriptedPeer[] = [];
  try {
    const dirs = await swarm.makeFolders();
    const file = path.join(dirs.shareable, 'clip.bin');
    await writeFile(file, generatedContent(100_000));
    const torrent = await createTorrent(file, { announce: DEAD_TRACKER });
    const privateTorrent = madePrivate(torrent);
    await writeFile(path.join(dirs.torrents, 'public.torrent'), torrent);
    await writeFile(path.join(dirs.torrents, 'private.torrent'), privateTorrent);
    // Its only bootstrap node never answers: a node can join its table only through a PORT message.
    const seeder = await swarm.start(dirs, { discovery: dhtArgs(nowhere.port), settings: SETTINGS });
    const status = await seeder.waitForStatus((s) => s.swarms.length === 2 && s.swarms.every((x) => x.role === 'seeder'), WAIT_MS, 'both swarms to seed');
    const hashOf = (isPrivate: boolean): Buffer => Buffer.from(status.swarms.find((x) => x.private === isPrivate)!.infoHash, 'hex');
    const pieceCount = status.swarms[0].pieces;

    /**
     * Connects as a Fast peer and sends a request: answered at once (REJECT while choked, or the
     * block when the piece is in our allowed-fast set), after whatever the admission sent.
     */
    const connect = async (infoHash: Buffer, dht: boolean): Promise<{ ours: ParserEvent; before: ParserEvent[]; peer: ScriptedPeer }> => {
      const peer = await ScriptedPeer.connect(seeder.port, infoHash, pieceCount, { fast: true, dht });
      scripted.push(peer);
      const ours = await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'our handshake');
      peer.send({ kind: 'request', index: 0, begin: 0, length: 16 * 1024 });
      const answer = await peer.waitFor((e) => e.kind === 'reject' || e.kind === 'piece', 5_000, 'the answer to a request');
      return { ours, before: peer.events.slice(0, peer.events.indexOf(answer)), peer };
    };
    const dhtBit = (event: ParserEvent): boolean => event.kind === 'handshake' && supportsDht(event.handshake);

    const withBit = await connect(hashOf(false), true);
    expect(dhtBit(withBit.ours)).toBe(true);
    expect(withBit.before).toContainEqual({ kind: 'port', port: seeder.port });
    expect(seeder.status().dht.nodes).toBe(0);
    withBit.peer.send({ kind: 'port', port: node.port });
    await seeder.waitForStatus((s) => s.dht.nodes === 1, WAIT_MS, 'the node named by PORT to join the table');

    const withoutBit = await connect(hashOf(false), false);
    expect(dhtBit(withoutBit.ours)).toBe(true);
    expect(withoutBit.before.filter((e) => e.kind === 'port')).toEqual([]);

    const inPrivate = await connect(hashOf(true), true);
    expect(dhtBit(inPrivate.ours)).toBe(false);
    expect(inPrivate.before.filter((e) => e.kind === 'port')).toEqual([]);
  } finally {
    for (const peer of scripted) peer.socket.destroy();
    await nowhere.close();
  }
});
