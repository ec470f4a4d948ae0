/**
 * A real peer process against scripted raw-socket peers: each protocol breach closes that
 * connection only; the peer goes on serving others and answering /status.
 */
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { encodeMessage } from '../../src/main/wire/wire-codec.js';
import { AGE_TXT, oursWithAge, type InteropSetup } from '../helpers/interop.js';
import { ScriptedPeer } from '../helpers/scripted-peer.js';

describe('a seeder refuses bad requests, one connection at a time', () => {
  let seeder: InteropSetup;
  const open: ScriptedPeer[] = [];

  beforeAll(async () => {
    seeder = await oursWithAge(true);
  });
  // Each test leaves the seeder's upload slots (4 + 1 optimistic) free for the next.
  afterEach(() => {
    for (const peer of open.splice(0)) peer.destroy();
  });
  afterAll(() => seeder.cleanup());

  async function interestedPeer(): Promise<ScriptedPeer> {
    const peer = await ScriptedPeer.connect(seeder.ours.port, seeder.meta.infoHash, seeder.meta.pieceCount);
    open.push(peer);
    await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
    await peer.waitFor((e) => e.kind === 'bitfield', 5_000, "the seeder's bitfield");
    peer.send({ kind: 'interested' });
    await peer.waitFor((e) => e.kind === 'unchoke', 5_000, 'unchoke');
    return peer;
  }

  test('a good request is answered with its block', async () => {
    const peer = await interestedPeer();
    peer.send({ kind: 'request', index: 1, begin: 16384, length: 16384 });
    const piece = await peer.waitFor((e) => e.kind === 'piece', 5_000, 'the block');
    const original = await readFile(AGE_TXT);
    expect(piece).toMatchObject({ index: 1, begin: 16384 });
    expect((piece as { block: Buffer }).block).toEqual(original.subarray(65536 + 16384, 65536 + 32768));
  });

  test.each([
    ['a request beyond the last piece', { index: 10_000, begin: 0, length: 16384 }],
    ['a request past the end of the last piece', { index: 20, begin: 65536 - 16384, length: 16384 }],
    ['a request longer than 128 KiB', { index: 0, begin: 0, length: 131073 }],
  ])('%s closes that connection only', async (_what, request) => {
    const bystander = await interestedPeer();
    const offender = await interestedPeer();
    offender.send({ kind: 'request', ...request });
    expect(await offender.closedWithin(5_000)).toBe(true);
    bystander.send({ kind: 'request', index: 0, begin: 0, length: 16384 });
    await bystander.waitFor((e) => e.kind === 'piece', 5_000, 'a block for the bystander');
    expect(bystander.isClosed).toBe(false);
    expect((await seeder.ours.status()).swarms[0].role).toBe('seeder');
  });

  test('a frame over the size limit closes the connection', async () => {
    const offender = await interestedPeer();
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(64 * 1024 * 1024);
    offender.socket.write(prefix);
    expect(await offender.closedWithin(5_000)).toBe(true);
  });

  test('an unknown info hash is closed at once', async () => {
    const stranger = await ScriptedPeer.connect(seeder.ours.port, Buffer.alloc(20, 7), 1);
    open.push(stranger);
    expect(await stranger.closedWithin(5_000)).toBe(true);
  });

  test('with --encryption off, a connection that starts with neither 19 nor HTTP is closed at once', async () => {
    // Under the default (prefer) such bytes are the start of an encrypted handshake (MSE), answered.
    const plainOnly = await oursWithAge(true, ['--encryption', 'off']);
    try {
      const socket = net.connect({ host: '127.0.0.1', port: plainOnly.ours.port });
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(Buffer.from([0x8a, 0x11, 0x00, 0x42]));
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => (timer = setTimeout(() => r('open'), 5_000)))]);
      clearTimeout(timer);
      socket.destroy();
      expect(outcome).toBe('closed');
    } finally {
      await plainOnly.cleanup();
    }
  });
});

describe('a leecher refuses a piece nobody requested', () => {
  test('the connection is closed, nothing is written and nothing counts as downloaded', async () => {
    const leecher = await oursWithAge(false);
    try {
      const peer = await ScriptedPeer.connect(leecher.ours.port, leecher.meta.infoHash, leecher.meta.pieceCount);
      await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
      // The whole of piece 0, true data, in one write: taken, it would verify and be written.
      const original = await readFile(AGE_TXT);
      const blocks = [0, 1, 2, 3].map((b) => encodeMessage({ kind: 'piece', index: 0, begin: b * 16384, block: original.subarray(b * 16384, (b + 1) * 16384) }));
      peer.socket.write(Buffer.concat(blocks));
      expect(await peer.closedWithin(5_000)).toBe(true);
      const status = await leecher.ours.status();
      expect(status.swarms[0]).toMatchObject({ role: 'leecher', have: 0, downloaded: 0 });
      await expect(stat(path.join(leecher.oursDirs.cache, status.swarms[0].infoHash, 'data', 'age.txt'))).rejects.toThrow('ENOENT');
    } finally {
      await leecher.cleanup();
    }
  });
});
