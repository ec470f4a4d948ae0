/**
 * The Fast extension (BEP 6) between an in-process peer and scripted raw-socket peers: what our
 * seeder and leecher say first (HAVE_ALL, HAVE_NONE, ALLOWED_FAST), how a choked Fast peer's
 * requests are answered (REJECT_REQUEST, or the block of an allowed-fast piece), how our leecher
 * downloads from a seeder that keeps it choked, and how it takes a REJECT.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { allowedFastSet } from '../../src/main/swarm/allowed-fast.js';
import type { ParserEvent } from '../../src/main/wire/wire-parser.js';
import { InProcessSwarm } from '../helpers/in-process-peer.js';
import { AGE_TXT, digest, fileDigest } from '../helpers/peer-process.js';
import { allPieces, ScriptedPeer } from '../helpers/scripted-peer.js';

const BLOCK = 16 * 1024;
/** The address scripted peers connect from, and so the one their allowed-fast sets are computed for. */
const LOCAL_IP = '127.0.0.1';

const swarm = new InProcessSwarm('age.txt');
const scripted: ScriptedPeer[] = [];
afterEach(async () => {
  for (const peer of scripted.splice(0)) peer.destroy();
  await swarm.cleanup();
});

async function connect(port: number, fast: boolean): Promise<ScriptedPeer> {
  const { infoHash, pieceCount } = swarm.meta;
  const peer = await ScriptedPeer.connect(port, infoHash, pieceCount, { fast, localAddress: LOCAL_IP });
  scripted.push(peer);
  await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
  return peer;
}

/** The kinds of what the peer received after the handshake, in order. */
function kinds(peer: ScriptedPeer): string[] {
  return peer.events.slice(1).map((e) => e.kind);
}

/** Waits, with a bound, until `count` events match. */
async function waitForCount(peer: ScriptedPeer, predicate: (e: ParserEvent) => boolean, count: number, what: string): Promise<ParserEvent[]> {
  await peer.waitFor(() => peer.events.filter(predicate).length >= count, 10_000, what);
  return peer.events.filter(predicate);
}

test('our seeder greets a Fast peer with HAVE_ALL and ALLOWED_FAST; while choked it is rejected, never dropped, but served its allowed-fast pieces', async () => {
  const original = await readFile(AGE_TXT);
  // No grace time: without BEP 6, the 17th request while choked would drop the peer.
  const seeder = await swarm.startAgeAnnouncer(true, [], { chokedRequestGraceMs: 0 });
  const { infoHash, pieceCount, pieceLength } = swarm.meta;
  const peer = await connect(seeder.port, true);
  peer.send({ kind: 'have-none' });
  const expectedSet = allowedFastSet(LOCAL_IP, infoHash, pieceCount, 10);
  const offered = await waitForCount(peer, (e) => e.kind === 'allowed-fast', expectedSet.length, 'ALLOWED_FAST for the whole set');
  expect(kinds(peer)[0]).toBe('have-all');
  expect(offered.map((e) => (e as { index: number }).index)).toEqual(expectedSet);

  // Not interested, so never unchoked: every request is made while choked.
  // The last piece is short: four blocks of it would be a bad request, which closes any peer.
  const other = [...Array(pieceCount - 1).keys()].filter((i) => !expectedSet.includes(i));
  const refused = Array.from({ length: 20 }, (_, i) => ({ index: other[i % other.length], begin: BLOCK * (i % 4), length: BLOCK }));
  for (const request of refused) peer.send({ kind: 'request', ...request });
  const allowed = { index: expectedSet[0], begin: BLOCK, length: BLOCK };
  peer.send({ kind: 'request', ...allowed });
  const rejects = await waitForCount(peer, (e) => e.kind === 'reject', refused.length, 'a REJECT_REQUEST for each refused request');
  expect(rejects).toEqual(refused.map((r) => ({ kind: 'reject', ...r })));
  const piece = await peer.waitFor((e) => e.kind === 'piece', 10_000, 'the block of the allowed-fast piece');
  const start = allowed.index * pieceLength + allowed.begin;
  expect(piece).toEqual({ kind: 'piece', index: allowed.index, begin: allowed.begin, block: original.subarray(start, start + BLOCK) });
  expect(kinds(peer)).not.toContain('unchoke');
  expect(peer.isClosed).toBe(false);
});

test('a Fast seeder meeting our seeder is told HAVE_ALL, and closed as a fellow seeder once it says HAVE_ALL too', async () => {
  const seeder = await swarm.startAgeAnnouncer(true);
  const peer = await connect(seeder.port, true);
  await peer.waitFor((e) => e.kind === 'have-all', 5_000, 'HAVE_ALL');
  peer.send({ kind: 'have-all' });
  expect(await peer.closedWithin(5_000)).toBe(true);
});

test('our leecher with nothing greets a Fast peer with HAVE_NONE and offers no ALLOWED_FAST; a peer without the Fast bit gets neither, and is closed for sending HAVE_ALL', async () => {
  const leecher = await swarm.startAgeAnnouncer(false);
  const fast = await connect(leecher.port, true);
  await fast.waitFor((e) => e.kind === 'have-none', 5_000, 'HAVE_NONE');
  const plain = await connect(leecher.port, false);
  await plain.waitFor((e) => e.kind === 'extended', 5_000, 'the extension handshake');
  await fast.waitFor((e) => e.kind === 'extended', 5_000, 'the extension handshake');
  expect(kinds(fast).slice(0, 2)).toEqual(['have-none', 'extended']);
  expect(kinds(plain)[0]).toBe('extended');
  for (const said of [...kinds(fast).slice(2), ...kinds(plain)]) expect(['have-none', 'have-all', 'bitfield', 'allowed-fast']).not.toContain(said);
  plain.send({ kind: 'have-all' });
  expect(await plain.closedWithin(5_000)).toBe(true);
  expect(fast.isClosed).toBe(false);
});

test('our leecher downloads the allowed-fast pieces of a Fast seeder that keeps it choked', async () => {
  const original = await readFile(AGE_TXT);
  const leecher = await swarm.startAgeAnnouncer(false);
  const { pieceLength } = swarm.meta;
  const allowed = [2, 5];
  const seeder = await connect(leecher.port, true);
  const requested: number[] = [];
  seeder.onEvent((event) => {
    if (event.kind !== 'request') return;
    requested.push(event.index);
    if (!allowed.includes(event.index)) return seeder.send({ kind: 'reject', index: event.index, begin: event.begin, length: event.length });
    const start = event.index * pieceLength + event.begin;
    seeder.send({ kind: 'piece', index: event.index, begin: event.begin, block: original.subarray(start, start + event.length) });
  });
  seeder.send({ kind: 'have-all' });
  for (const index of allowed) seeder.send({ kind: 'allowed-fast', index });
  const status = await leecher.waitForStatus((s) => s.swarms[0].have === allowed.length, 20_000, 'both allowed-fast pieces');
  expect(status.swarms[0].downloaded).toBe(allowed.length * pieceLength);
  expect([...new Set(requested)].sort()).toEqual(allowed);
  await seeder.waitFor(() => allowed.every((index) => seeder.events.some((e) => e.kind === 'have' && e.index === index)), 5_000, 'HAVE for both');
});

test('a block a seeder rejects is asked again at once, long before the request time-out, and a REJECT of nothing asked is ignored', async () => {
  const original = await readFile(AGE_TXT);
  const leecher = await swarm.startAgeAnnouncer(false, [], { requestTimeoutMs: 120_000 });
  const { pieceLength, pieceCount } = swarm.meta;
  const seeder = await connect(leecher.port, true);
  const asked = new Map<string, number>();
  let rejected: string | undefined;
  seeder.onEvent((event) => {
    if (event.kind !== 'request') return;
    const key = `${event.index}:${event.begin}`;
    asked.set(key, (asked.get(key) ?? 0) + 1);
    if (rejected === undefined) {
      rejected = key;
      return seeder.send({ kind: 'reject', index: event.index, begin: event.begin, length: event.length });
    }
    const start = event.index * pieceLength + event.begin;
    seeder.send({ kind: 'piece', index: event.index, begin: event.begin, block: original.subarray(start, start + event.length) });
  });
  // A bitfield, not HAVE_ALL: the REJECT alone is what this test is about.
  seeder.send({ kind: 'bitfield', bits: allPieces(pieceCount) });
  seeder.send({ kind: 'reject', index: 0, begin: 0, length: 7 });
  seeder.send({ kind: 'unchoke' });
  await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 20_000, 'the download to complete');
  expect(asked.get(rejected!)).toBe(2);
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'age.txt'))).toBe(digest(original));
  expect(leecher.output).toMatch(/ignored a REJECT_REQUEST from 127\.0\.0\.1:\d+ for piece 0 offset 0: no such request outstanding/);
});
