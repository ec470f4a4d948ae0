/**
 * Issue 22, disk faults: a leecher whose cache/ is a full tmpfs (in a mount namespace of its own,
 * so root only; CI runs as root) goes into a storage error. /status shows it, downloading stops
 * (the seeder's upload stops growing), the log says so in a line or two, not once per piece;
 * once space is freed the leecher resumes by itself and ends with the data byte-identical.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describeAsRoot, NamespacedSwarm } from '../helpers/namespaced-peer.js';
import { digest, fileDigest } from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
/** The file (20 MiB) cannot fit in the tmpfs (24 MiB) beside the filler (8 MiB) until the filler goes. */
const FILE_BYTES = 20 * MiB;
const TMPFS = '24m';
const FILLER_MIB = 8;

describeAsRoot(['unshare', 'mount'], 'a leecher whose cache/ runs out of space', () => {
  const peers = new NamespacedSwarm();
  afterAll(() => peers.cleanup());

  test('shows a disk-full error, stops downloading, logs it once, and finishes by itself once space is freed', async () => {
    // Slow enough that the disk fills long before the whole file has been sent.
    const { data, seeder, leechDirs } = await peers.seed('big.bin', FILE_BYTES, PIECE, ['--upload-limit', '2M']);
    // The leecher's cache/ is a small tmpfs in a mount namespace of its own, with a filler in it.
    const script = `mount -t tmpfs -o size=${TMPFS} tmpfs "$1" && head -c ${FILLER_MIB}M /dev/zero > "$1/filler"`;
    const { peer: leecher, child } = await peers.startInNamespace(script, leechDirs.cache, leechDirs);

    const failed = await leecher.waitForStatus((s) => s.swarms[0]?.error != null, 60_000, 'the storage error');
    const error = failed.swarms[0].error!;
    expect(error).toEqual({ kind: 'disk-full', message: expect.stringMatching(/ENOSPC/), since: expect.any(String) });
    expect(Date.now() - Date.parse(error.since)).toBeLessThan(60_000);
    const uploadedAtError = (await seeder.status()).swarms[0].uploaded;
    expect(uploadedAtError).toBeLessThan(FILE_BYTES - 2 * MiB);

    // Requests were cancelled: what was already on its way arrives, then the seeder sends nothing more.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const uploadedSoonAfter = (await seeder.status()).swarms[0].uploaded;
    expect(uploadedSoonAfter - uploadedAtError).toBeLessThanOrEqual(4 * PIECE);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const held = await leecher.status();
    expect(held.swarms[0].error?.kind).toBe('disk-full');
    expect((await seeder.status()).swarms[0].uploaded - uploadedSoonAfter).toBeLessThanOrEqual(PIECE);
    expect(held.swarms[0].role).toBe('leecher');

    const storageLines = (): string[] => leecher.output.join('').split('\n').filter((line) => /storage error|cannot write|cannot save|ENOSPC/.test(line));
    expect(storageLines().length).toBeGreaterThanOrEqual(1);
    expect(storageLines().length).toBeLessThanOrEqual(2);
    expect(storageLines()[0]).toMatch(/storage error \(disk-full\)/);

    // Space comes back (the filler is removed through the leecher's own view of the mounts): it resumes by itself.
    await rm(path.join('/proc', String(child.pid), 'root', leechDirs.cache, 'filler'));
    const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 90_000, 'the download to finish after space was freed');
    expect(done.swarms[0].error).toBeNull();
    expect(storageLines().some((line) => /storage error \(disk-full\) is gone after \d+ s, \d+ further failure\(s\) meanwhile/.test(line))).toBe(true);
    expect(storageLines().length).toBeLessThanOrEqual(4);
    expect(await fileDigest(path.join(leechDirs.shareable, 'big.bin'))).toBe(digest(data));
  }, 240_000);
});
