/**
 * Issue 22, disk faults: a leecher whose shareable/ is read-only (a read-only bind mount in a mount
 * namespace of its own, so root only; CI runs as root) downloads every piece, but the move into
 * shareable/ fails: /status shows a read-only storage error while it is still a leecher with every
 * piece. Once the folder is writable again (remounted from outside through nsenter) the storage
 * watch finds the cause gone, the move is done again, and it becomes a seeder, byte-identical.
 */
import path from 'node:path';
import { describeAsRoot, NamespacedSwarm } from '../helpers/namespaced-peer.js';
import { digest, expectSuccess, fileDigest, runProgram } from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
const FILE_BYTES = 2 * MiB;
const RETRY_MS = 200;

describeAsRoot(['unshare', 'mount', 'nsenter'], 'a leecher whose shareable/ is read-only', () => {
  const peers = new NamespacedSwarm();
  afterAll(() => peers.cleanup());

  test('holds every piece in a read-only error as a leecher, and becomes a byte-identical seeder once the folder is writable again', async () => {
    const { data, leechDirs } = await peers.seed('small.bin', FILE_BYTES, PIECE, [], 20_000);
    // The leecher's shareable/ is a read-only bind mount of itself in a mount namespace of its own.
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"';
    const env = { ...process.env, SHOAL_TEST_SETTINGS: JSON.stringify({ storageRetryMs: RETRY_MS }) };
    const { peer: leecher, child } = await peers.startInNamespace(script, leechDirs.shareable, leechDirs, env);

    const failed = await leecher.waitForStatus((s) => s.swarms[0]?.error != null, 20_000, 'the read-only error');
    const swarm = failed.swarms[0];
    expect(swarm.error).toEqual({ kind: 'read-only', message: expect.stringMatching(/moving it into shareable\/ failed.*EROFS/), since: expect.any(String) });
    expect(swarm.role).toBe('leecher');
    expect(swarm.have).toBe(swarm.pieces);
    expect(swarm.pieces).toBe(FILE_BYTES / PIECE);

    // It stays so while the folder is read-only, though it checks every RETRY_MS.
    await new Promise((resolve) => setTimeout(resolve, 5 * RETRY_MS + 1_000));
    const held = (await leecher.status()).swarms[0];
    expect(held.error?.kind).toBe('read-only');
    expect(held.role).toBe('leecher');
    expect(held.have).toBe(held.pieces);

    // Writable again, from outside, in the leecher's own mount namespace.
    const remount = await runProgram('nsenter', ['-t', String(child.pid), '-m', 'mount', '-o', 'remount,bind,rw', leechDirs.shareable], 10_000);
    expectSuccess(remount, 'the remount read-write through nsenter');
    const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the move into shareable/ once it is writable');
    expect(done.swarms[0].error).toBeNull();
    expect(done.swarms[0].have).toBe(done.swarms[0].pieces);
    expect(await fileDigest(path.join('/proc', String(child.pid), 'root', leechDirs.shareable, 'small.bin'))).toBe(digest(data));
    await leecher.stop();
    // The bind mount was the same directory: the real path holds the same bytes.
    expect(await fileDigest(path.join(leechDirs.shareable, 'small.bin'))).toBe(digest(data));
  }, 60_000);
});
