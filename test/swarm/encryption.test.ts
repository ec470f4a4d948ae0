/**
 * Encrypted connections (MSE/PE, issue 19) between whole peers in this process over loopback:
 * two `require` peers trade a file over RC4; `prefer` falls back to plain against a peer that
 * refuses MSE; /status tells each connection's encryption apart (upload limits keep the
 * connections open long enough to be seen); `require` closes a plain handshake, `off` an encrypted one; and encrypted
 * handshakes that go wrong (no sync marker, too slow) are closed with a reason, not left hanging.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MseInitiator } from '../../src/main/net/mse/mse-handshake.js';
import { cryptoProvide } from '../../src/main/net/mse/encryption-policy.js';
import { newKeyPair } from '../../src/main/net/mse/mse-keys.js';
import { encodeHandshake } from '../../src/main/wire/wire-codec.js';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { digest, fileDigest } from '../helpers/peer-process.js';
import { randomPeerId, rawConnection, ScriptedPeer, settlesWithin } from '../helpers/scripted-peer.js';

const swarm = new InProcessSwarm('shared.bin');
const open: { destroy(): void }[] = [];
afterEach(async () => {
  for (const socket of open.splice(0)) socket.destroy();
  await swarm.cleanup();
});

/** Waits until the peer's /status shows a connection to `port` (a peer's listening port) with that `encryption`. */
async function showsPeer(peer: InProcessPeer, port: number, encryption: string): Promise<void> {
  await peer.waitForStatus((s) => s.swarms[0]?.peers.some((p) => p.address === `127.0.0.1:${port}` && p.encryption === encryption) ?? false, 20_000, `a peer on port ${port} with encryption ${encryption}`);
}

/** Waits until the peer has logged a line matching `pattern`. */
async function logged(peer: InProcessPeer, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  await peer.waitForStatus(() => pattern.test(peer.output), timeoutMs, `a log line matching ${pattern}`);
}

async function seeder(data: Buffer, policy: string, settings?: Parameters<InProcessSwarm['startSeeder']>[3], args: string[] = []): Promise<InProcessPeer> {
  const peer = await swarm.startSeeder(data, ['--encryption', policy, ...args], 256 * 1024, settings);
  await peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');
  return peer;
}

test('two peers under --encryption require trade a 6 MiB file over RC4, byte-identical, and both show it in /status', async () => {
  const data = generatedContent(6 * 1024 * 1024 + 1234);
  const seeding = await seeder(data, 'require', undefined, ['--upload-limit', '4M']);
  const leecher = await swarm.startPeer(['--encryption', 'require']);
  await Promise.all([showsPeer(leecher, seeding.port, 'rc4'), showsPeer(seeding, leecher.port, 'rc4')]);
  const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the leecher to complete');
  expect(done.swarms[0].downloaded).toBe(data.length);
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'shared.bin'))).toBe(digest(data));
  expect(leecher.output).toMatch(new RegExp(`encrypted handshake with 127\\.0\\.0\\.1:${seeding.port}: payload in rc4`));
  expect(seeding.output).toMatch(/encrypted handshake from 127\.0\.0\.1:\d+: payload in rc4/);
});

test('under prefer the encrypted handshake carries a plaintext payload, and a peer under off is dialled again in plain', async () => {
  const data = generatedContent(1024 * 1024);
  const plainOnly = await seeder(data, 'off', undefined, ['--upload-limit', '512k']);
  const leecher = await swarm.startPeer(['--upload-limit', '512k']);
  await showsPeer(leecher, plainOnly.port, 'none');
  await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the leecher to complete from the plain seeder');
  expect(leecher.output).toContain(`127.0.0.1:${plainOnly.port} it closed the connection on our encrypted handshake`);
  expect(leecher.output).toContain('dialling it again in plain (--encryption prefer)');
  expect(plainOnly.output).toContain('encrypted handshakes are refused (--encryption off)');
  // The leecher, now a seeder under prefer, serves a third peer through an encrypted handshake with a plaintext payload.
  const third = await swarm.startPeer();
  await showsPeer(third, leecher.port, 'handshake');
  await third.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'the third peer to complete');
  expect(third.output).toMatch(/encrypted handshake with 127\.0\.0\.1:\d+: payload in plaintext/);
});

test('a peer under require does not fall back to plain: a peer under off is never traded with', async () => {
  const plainOnly = await seeder(generatedContent(300 * 1024), 'off');
  const leecher = await swarm.startPeer(['--encryption', 'require']);
  await logged(leecher, new RegExp(`could not connect to 127\\.0\\.0\\.1:${plainOnly.port}: it closed the connection on our encrypted handshake`));
  expect(leecher.output).not.toContain('dialling it again in plain');
  expect(leecher.status().swarms[0]).toMatchObject({ role: 'leecher', downloaded: 0 });
});

test('a peer under require closes a plain handshake', async () => {
  const seeding = await seeder(generatedContent(300 * 1024), 'require');
  const plain = await ScriptedPeer.connect(seeding.port, swarm.meta.infoHash, swarm.meta.pieceCount);
  open.push(plain);
  expect(await plain.closedWithin(5_000)).toBe(true);
  expect(plain.events).toHaveLength(0);
  await logged(seeding, /a plain BitTorrent handshake, and --encryption require takes encrypted ones only/);
});

test('a peer under off closes an encrypted handshake at once', async () => {
  const seeding = await seeder(generatedContent(300 * 1024), 'off');
  const attempt = await rawConnection(seeding.port);
  open.push(attempt.socket);
  const initiator = new MseInitiator({ infoHash: swarm.meta.infoHash, provide: cryptoProvide('prefer'), initialPayload: encodeHandshake(swarm.meta.infoHash, randomPeerId()) });
  attempt.socket.write(initiator.start());
  expect(await settlesWithin(attempt.closed, 5_000)).toBe(true);
});

describe('encrypted handshakes that go wrong are closed with a reason', () => {
  test('no sync marker within 512 bytes of padding: closed at once, long before the deadline', async () => {
    const seeding = await seeder(generatedContent(300 * 1024), 'prefer');
    const garbage = await rawConnection(seeding.port);
    open.push(garbage.socket);
    garbage.socket.write(Buffer.concat([newKeyPair().publicKey, randomBytes(600)]));
    expect(await settlesWithin(garbage.closed, 5_000)).toBe(true);
    await logged(seeding, /encrypted handshake \(--encryption prefer\): no HASH\('req1', S\) after its padding within 512 bytes of padding/);
  });

  test('a torrent we do not have: closed at once', async () => {
    const seeding = await seeder(generatedContent(300 * 1024), 'prefer');
    const stranger = await rawConnection(seeding.port);
    open.push(stranger.socket);
    const initiator = new MseInitiator({ infoHash: Buffer.alloc(20, 7), provide: cryptoProvide('prefer'), initialPayload: Buffer.alloc(0) });
    stranger.socket.on('data', (chunk: Buffer) => {
      const { send } = initiator.push(chunk);
      if (send.length > 0) stranger.socket.write(send);
    });
    stranger.socket.write(initiator.start());
    expect(await settlesWithin(stranger.closed, 5_000)).toBe(true);
    await logged(seeding, /it asks for a torrent we do not have/);
  });

  test('a sender too slow for handshakeTimeoutMs', async () => {
    const seeding = await seeder(generatedContent(300 * 1024), 'prefer', { handshakeTimeoutMs: 1_000 });
    const slow = await rawConnection(seeding.port);
    open.push(slow.socket);
    slow.socket.write(newKeyPair().publicKey.subarray(0, 50));
    expect(await settlesWithin(slow.closed, 5_000)).toBe(true);
    await logged(seeding, /no complete encrypted handshake within 1000 ms \(handshakeTimeoutMs\)/);
    await seeding.waitForStatus((s) => s.connections.pending === 0, 5_000, 'no connection left pending');
  });
});
