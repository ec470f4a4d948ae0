/**
 * Private torrents (BEP 27, issue 15): a private torrent's peers come from its trackers only. Our
 * peer offers no ut_pex in its extension handshake, learns nothing from a ut_pex a peer sends
 * anyway, and tells no peer of its peer list, even when a new peer joins, which on a public
 * torrent is broadcast at once. The same scenario runs on the same torrent made public, where
 * each of those things happens, so that the private run's silences mean something.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeBencode, encodeBencode, isDict, type BencodeDict } from '../../src/io/bencode.js';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { decodeExtensionHandshake, encodeExtensionHandshake, LOCAL_EXTENSION_IDS, type ExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { decodePex, encodePex } from '../../src/main/wire/ut-pex.js';
import type { ParserEvent } from '../../src/main/wire/wire-parser.js';
import { InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { AGE_TORRENT, AGE_TXT, copyInto, freePort } from '../helpers/peer-process.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';

/** The id under which the scripted peer asks for ut_pex (its `m`), unlike ours, so our messages are told apart. */
const THEIR_PEX_ID = 2;
/** The address the first scripted peer offers in its own ut_pex. */
const OFFERED = { ip: '127.0.0.9', port: 40009 };
const OFFERED_ADDRESS = `${OFFERED.ip}:${OFFERED.port}`;
/** A second peer, from another loopback address, that joins later; its listening port (never dialled: our peer seeds). */
const JOINER_IP = '127.0.0.2';
const JOINER_ADDRESS = `${JOINER_IP}:40002`;
/** Longer than the pace of ut_pex to a shoal peer (pexShoalIntervalMs) plus a housekeeping tick. */
const QUIET_MS = 2_500;

const swarm = new InProcessSwarm('age.txt');
const scripted: ScriptedPeer[] = [];
afterEach(async () => {
  for (const peer of scripted.splice(0)) peer.destroy();
  await swarm.cleanup();
});

/** The torrent with `private` = 1 in its info dictionary (a new info hash). */
function madePrivate(torrent: Buffer): Buffer {
  const root = decodeBencode(torrent) as BencodeDict;
  const info = root['info'];
  if (!isDict(info)) throw new Error('the torrent has no info dictionary');
  return encodeBencode({ ...root, info: { ...info, private: 1 } });
}

/** Starts our peer seeding age.txt as its own announcer, on the public or the private torrent. */
async function startSeeder(privateTorrent: boolean): Promise<InProcessPeer> {
  swarm.announcePort = await freePort();
  const dirs = await swarm.makeFolders();
  const announced = setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${swarm.announcePort}/announce`);
  swarm.torrent = privateTorrent ? madePrivate(announced) : announced;
  await writeFile(path.join(dirs.torrents, 'age.txt.torrent'), swarm.torrent);
  await copyInto(AGE_TXT, dirs.shareable);
  const seeder = await swarm.start(dirs, { port: swarm.announcePort });
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'our peer to seed');
  return seeder;
}

async function connect(seeder: InProcessPeer, localAddress?: string): Promise<ScriptedPeer> {
  const meta = swarm.meta;
  const peer = await ScriptedPeer.connect(seeder.port, meta.infoHash, meta.pieceCount, { localAddress });
  scripted.push(peer);
  await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
  return peer;
}

const isOurExtensionHandshake = (e: ParserEvent): boolean => e.kind === 'extended' && e.extId === 0;
/** Extended messages to the scripted peer other than the handshake: ut_pex, with the id it asked for. */
const pexMessages = (peer: ScriptedPeer): Buffer[] => peer.events.flatMap((e) => (e.kind === 'extended' && e.extId !== 0 ? [e.payload] : []));
const lists = (payload: Buffer, address: string): boolean => decodePex(payload).added.some(({ ip, port }) => `${ip}:${port}` === address);

/**
 * A scripted peer connects with the extension bit, reads our extension handshake, asks for ut_pex
 * in its own (as another shoal peer, which is told quickly), and sends a ut_pex offering
 * OFFERED; then a second peer joins. Returns our handshake and the first scripted peer.
 */
async function pexScenario(seeder: InProcessPeer): Promise<{ ours: ExtensionHandshake; first: ScriptedPeer }> {
  const first = await connect(seeder);
  const handshake = await first.waitFor(isOurExtensionHandshake, 5_000, 'our extension handshake');
  const ours = decodeExtensionHandshake((handshake as Extract<ParserEvent, { kind: 'extended' }>).payload);
  first.send({ kind: 'extended', extId: 0, payload: encodeExtensionHandshake({ m: { ut_pex: THEIR_PEX_ID }, p: 40001, v: 'shoal scripted' }) });
  // Sent with the id we give ut_pex on a public torrent: what a peer that ignores BEP 27 would use.
  first.send({ kind: 'extended', extId: LOCAL_EXTENSION_IDS.ut_pex, payload: encodePex({ added: [OFFERED], dropped: [] }) });

  const joiner = await connect(seeder, JOINER_IP);
  joiner.sendListenPort(40002);
  await seeder.waitForStatus((s) => s.swarms[0].known.includes(JOINER_ADDRESS), 5_000, 'our peer to list the joining peer');
  return { ours, first };
}

test('a public torrent offers ut_pex, learns from one, and tells a peer of a peer that joins', async () => {
  const seeder = await startSeeder(false);
  expect(seeder.status().swarms[0].private).toBe(false);
  const { ours, first } = await pexScenario(seeder);
  expect(ours.m.ut_pex).toBe(LOCAL_EXTENSION_IDS.ut_pex);
  await seeder.waitForStatus((s) => s.swarms[0].known.includes(OFFERED_ADDRESS), 5_000, 'our peer to learn the offered address');
  await first.waitFor((e) => e.kind === 'extended' && e.extId === THEIR_PEX_ID && lists(e.payload, JOINER_ADDRESS), 5_000, 'a ut_pex naming the joining peer');
}, 30_000);

test('a private torrent offers no ut_pex, learns nothing from one, and tells no peer of its peer list', async () => {
  const seeder = await startSeeder(true);
  expect(seeder.status().swarms[0].private).toBe(true);
  const { ours, first } = await pexScenario(seeder);
  expect(ours.m).not.toHaveProperty('ut_pex');
  // Time for a ut_pex to go out, as it does on the public torrent.
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  expect(pexMessages(first)).toEqual([]);
  const status = seeder.status().swarms[0];
  expect(status.known).toContain(JOINER_ADDRESS);
  expect(status.known).not.toContain(OFFERED_ADDRESS);
  // Ignored, not a reason to close.
  expect(first.isClosed).toBe(false);
  expect(status.peers).toHaveLength(2);
}, 30_000);
