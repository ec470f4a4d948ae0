/**
 * A peer under a flood: 500 connections opened at once from many loopback addresses, some idle,
 * some sending garbage, some stopping halfway through the handshake, some completing it and
 * then idling or sending garbage; then, while the silent ones still wait, 60 peers with complete
 * handshakes. The peer keeps its limits, /status answers throughout, an honest leecher's
 * transfer goes on and completes, and once the flood is gone every descriptor it took is
 * released. Bounded in count and in time. The flood crosses the limit on connections not yet
 * identified (more are silent than it holds) and the second wave the one on peer connections
 * (shrunk to 50 here).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import { encodeHandshake } from '../../src/main/wire/wire-codec.js';
import { fileDigest, httpGet, type StatusDocument } from '../helpers/peer-process.js';
import { randomPeerId, rawConnection } from '../helpers/scripted-peer.js';
import { generatedContent, SwarmFixture } from '../helpers/swarm-fixture.js';

const MiB = 1024 * 1024;
const FLOOD = 500;
const SECOND_WAVE = 60;
/** Smaller than the flood's complete handshakes, so that the limit is met; the rest are defaults. */
const LIMITS = { maxConnections: 50 };
const DEFAULT_PENDING_LIMIT = 256;
const DEFAULT_SWARM_LIMIT = 60;

type FloodKind = 'idle' | 'garbage' | 'half-handshake' | 'handshake-then-garbage' | 'handshake-then-idle';
const MIX: [FloodKind, number][] = [
  ['idle', 150],
  ['garbage', 50],
  ['half-handshake', 150],
  ['handshake-then-garbage', 50],
  ['handshake-then-idle', 100],
];

async function descriptors(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Sends what a flood connection of `kind` sends. */
function play(socket: net.Socket, kind: FloodKind, infoHash: Buffer): void {
  const handshake = encodeHandshake(infoHash, randomPeerId());
  const garbage = randomBytes(1 + Math.floor(Math.random() * 2048));
  switch (kind) {
    case 'idle':
      return;
    case 'garbage':
      // Neither 19 (a handshake) nor a capital letter (HTTP).
      garbage[0] = 0x80 | garbage[0];
      socket.write(garbage);
      return;
    case 'half-handshake':
      socket.write(handshake.subarray(0, 1 + Math.floor(Math.random() * (handshake.length - 1))));
      return;
    case 'handshake-then-garbage':
      socket.write(Buffer.concat([handshake, garbage]));
      return;
    case 'handshake-then-idle':
      socket.write(handshake);
      return;
  }
}

test('500 connections at once: limits kept, /status answers, an honest transfer completes, descriptors released', async () => {
  const fixture = new SwarmFixture('load.bin');
  const flood: net.Socket[] = [];
  try {
    const data = generatedContent(16 * MiB);
    const seeder = await fixture.startSeeder(data, ['--verbose'], 256 * 1024, LIMITS);
    const seeded = await seeder.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the seeder');
    const infoHash = Buffer.from(seeded.swarms[0].infoHash, 'hex');
    const pid = seeder.peer.child.pid!;
    const baseline = await descriptors(pid);

    // Slow enough that the flood lands in the middle of the transfer.
    const leecher = await fixture.startPeer(['--download-limit', '2M']);
    await leecher.peer.waitForStatus((s) => (s.swarms[0]?.have ?? 0) > 0, 60_000, 'the leecher to have its first piece');

    const kinds = MIX.flatMap(([kind, count]) => Array<FloodKind>(count).fill(kind));
    expect(kinds).toHaveLength(FLOOD);
    const opened = await Promise.allSettled(
      kinds.map(async (kind, i) => {
        const { socket } = await rawConnection(seeder.peer.port, `127.2.${Math.floor(i / 200)}.${(i % 200) + 1}`);
        flood.push(socket);
        play(socket, kind, infoHash);
      }),
    );
    expect(opened.filter((o) => o.status === 'fulfilled').length).toBeGreaterThan(FLOOD * 0.9);
    // Accepted in a burst, the flood's connections were closed oldest first whatever they were
    // about to send; newcomers with complete handshakes still get in, up to maxConnections.
    await Promise.allSettled(
      Array.from({ length: SECOND_WAVE }, async (_, i) => {
        const { socket } = await rawConnection(seeder.peer.port, `127.3.0.${i + 1}`);
        flood.push(socket);
        play(socket, 'handshake-then-idle', infoHash);
      }),
    );
    await seeder.peer.waitForStatus((s) => s.connections.peers === LIMITS.maxConnections, 30_000, 'the second wave to fill the peer connections');

    // /status answers all along, within a generous bound, and never shows a limit crossed.
    const samples: StatusDocument[] = [];
    let leecherDone = false;
    const deadline = Date.now() + 120_000;
    while (!leecherDone) {
      if (Date.now() > deadline) throw new Error(`the leecher did not complete under the flood; last seeder status: ${JSON.stringify(samples.at(-1))}`);
      const answer = await httpGet(`http://127.0.0.1:${seeder.peer.port}/status`, 15_000);
      expect(answer.status).toBe(200);
      samples.push(JSON.parse(answer.body) as StatusDocument);
      leecherDone = (await leecher.peer.status()).swarms[0].role === 'seeder';
    }
    expect(samples.length).toBeGreaterThan(1);
    for (const sample of samples) {
      expect(sample.connections.peers).toBeLessThanOrEqual(LIMITS.maxConnections);
      expect(sample.connections.pending).toBeLessThanOrEqual(DEFAULT_PENDING_LIMIT);
      expect(sample.swarms[0].peers.length).toBeLessThanOrEqual(DEFAULT_SWARM_LIMIT);
    }
    const log = seeder.peer.output.join('');
    expect(log).toMatch(/peer connections are open already \(maxConnections\)/);
    expect(log).toMatch(/connections were waiting \(maxPendingConnections\)/);

    expect(await fileDigest(path.join(leecher.dirs.shareable, 'load.bin'))).toBe(createHash('sha1').update(data).digest('hex'));
    expect(log).not.toMatch(/unexpected error/);

    for (const socket of flood) socket.destroy();
    const settleBy = Date.now() + 30_000;
    let now = await descriptors(pid);
    while (now > baseline + 2) {
      if (Date.now() > settleBy) throw new Error(`the seeder holds ${now} descriptors, ${baseline} before the flood`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      now = await descriptors(pid);
    }
    const after = await seeder.peer.waitForStatus((s) => s.connections.peers === 0 && s.connections.pending === 0, 10_000, 'every flood connection to be gone');
    expect(after.swarms[0].role).toBe('seeder');
  } finally {
    for (const socket of flood) socket.destroy();
    await fixture.cleanup();
  }
}, 240_000);
