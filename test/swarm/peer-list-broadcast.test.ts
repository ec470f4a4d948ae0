/**
 * Tracker services and the broadcast (docs/architecture.md): peers A (the announcer), B and C start in that
 * order, with a tracker interval far longer than the test. B learns C's listening address from
 * A's ut_pex message, without announcing again, and B and C connect to each other.
 */
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';

const MiB = 1024 * 1024;

const swarm = new InProcessSwarm('broadcast.bin');
afterEach(() => swarm.cleanup());

test("B learns C from A's ut_pex, not from a new announce, and they connect", async () => {
  const data = generatedContent(16 * MiB);
  const a = await swarm.startSeeder(data, ['--announce-interval', '3600']);
  await a.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'A to seed');
  // B stays a leecher (and connected to A) for the whole test.
  const b = await swarm.startPeer(['--download-limit', '256k']);
  const bJoined = await b.waitForStatus((s) => s.swarms[0]?.peers.length === 1, 30_000, 'B to connect to A');
  const bAnnounced = bJoined.swarms[0].tracker?.lastAnnounceAt;
  expect(bAnnounced).toBeDefined();

  // C has the data: a seeder, which only waits for connections. Only A hears of it (its announce).
  const c = await swarm.startPeer([], data);
  const cAddress = `127.0.0.1:${c.port}`;
  const bKnows = await b.waitForStatus((s) => s.swarms[0].known.includes(cAddress), 15_000, 'B to learn of C');
  expect(bKnows.swarms[0].tracker?.lastAnnounceAt).toBe(bAnnounced);

  const bAddress = `127.0.0.1:${b.port}`;
  await b.waitForStatus((s) => s.swarms[0].peers.some((p) => p.address === cAddress), 15_000, 'B to connect to C');
  const cView = await c.waitForStatus((s) => s.swarms[0].peers.some((p) => p.address === bAddress), 15_000, 'C to see B');
  expect(cView.swarms[0].known).toContain(bAddress);
});
