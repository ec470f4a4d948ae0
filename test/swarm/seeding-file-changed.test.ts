/**
 * Issue 22, disk faults, inside one process: the seeder's file in shareable/ changes while it
 * seeds (truncated, overwritten, deleted). Every piece read for uploading is hashed first, so the
 * leecher never receives a piece that fails its hash (smart ban would ban the seeder otherwise);
 * the seeder checks the file again, withholds the pieces that no longer match, and shows a storage
 * error saying so. Once the file is put back, the seeder serves again and the leecher completes.
 */
import { open, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { digest, fileDigest } from '../helpers/peer-process.js';

const PIECE = 64 * 1024;
const SIZE = 2 * 1024 * 1024;
const swarm = new InProcessSwarm('seeded.bin');
afterEach(() => swarm.cleanup());

/** A seeder slow enough that the file changes mid-transfer, and a leecher that has started. */
async function transferUnderWay(): Promise<{ data: Buffer; seeder: InProcessPeer; leecher: InProcessPeer; file: string }> {
  const data = generatedContent(SIZE);
  const seeder = await swarm.startSeeder(data, ['--upload-limit', '256k'], PIECE, { storageRetryMs: 200 });
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');
  const leecher = await swarm.startPeer();
  await leecher.waitForStatus((s) => (s.swarms[0]?.have ?? 0) >= 2, 20_000, 'the first pieces');
  return { data, seeder, leecher, file: path.join(seeder.dirs.shareable, 'seeded.bin') };
}

/** Nothing the leecher got from the seeder failed its hash, and the seeder was not banned. */
function expectNoBadPiece(leecher: InProcessPeer): void {
  expect(leecher.status().swarms[0].banned).toEqual([]);
  expect(leecher.lines.filter((line) => /failed its hash check|banned peer/.test(line))).toEqual([]);
}

test('a seeded file truncated mid-transfer: no piece that fails its hash is sent, the seeder shows the recheck, and serves again once the file is back', async () => {
  const { data, seeder, leecher, file } = await transferUnderWay();
  await truncate(file, SIZE / 2);

  const failed = await seeder.waitForStatus((s) => s.swarms[0]?.error != null, 20_000, 'the storage error');
  expect(failed.swarms[0].error).toEqual({
    kind: 'io',
    message: expect.stringMatching(/^seeded\.bin changed on disk, checked again: 16 of its 32 pieces no longer match their hash and are not uploaded; piece \d+: (.* is shorter than the torrent says|piece \d+ no longer matches its hash)$/),
    since: expect.any(String),
  });
  expect(failed.swarms[0].role).toBe('seeder');
  // The leecher goes on getting the pieces that still match, never the others.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(leecher.status().swarms[0].have).toBeLessThan(32);
  expectNoBadPiece(leecher);
  expect(seeder.status().swarms[0].error).toEqual(failed.swarms[0].error);

  await writeFile(file, data);
  const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 40_000, 'the download to finish once the file is back');
  expect(await fileDigest(path.join(leecher.dirs.shareable, 'seeded.bin'))).toBe(digest(data));
  expect(done.swarms[0].banned).toEqual([]);
  expectNoBadPiece(leecher);
  await seeder.waitForStatus((s) => s.swarms[0].error === null, 10_000, 'the seeder error to clear');
  expect(seeder.lines.filter((line) => /storage error \(io\) is gone/.test(line))).toHaveLength(1);
}, 90_000);

test('a seeded file overwritten in part mid-transfer: the pieces it broke are never sent', async () => {
  const { seeder, leecher, file } = await transferUnderWay();
  const handle = await open(file, 'r+');
  // Pieces 16 to 31 become garbage; the file keeps its size. The leecher may have some of them
  // already, and the seeder may hold some in its read cache, read (and checked) before.
  await handle.write(Buffer.alloc(16 * PIECE, 0xa5), 0, 16 * PIECE, 16 * PIECE);
  await handle.close();

  const failed = await seeder.waitForStatus((s) => s.swarms[0]?.error != null, 30_000, 'the storage error');
  expect(failed.swarms[0].error?.kind).toBe('io');
  expect(failed.swarms[0].error?.message).toMatch(/checked again: 16 of its 32 pieces no longer match their hash/);
  // Requests for withheld pieces are dropped without a word (no REJECT), so how far the leecher
  // gets depends on its request time-outs; what matters is that nothing bad reaches it.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(leecher.status().swarms[0].have).toBeLessThan(32);
  expectNoBadPiece(leecher);
}, 90_000);

test('a seeded file deleted mid-transfer: the swarm shows missing-file and sends nothing more', async () => {
  const { seeder, leecher, file } = await transferUnderWay();
  await rm(file);

  const failed = await seeder.waitForStatus((s) => s.swarms[0]?.error != null, 20_000, 'the storage error');
  expect(failed.swarms[0].error).toEqual({
    kind: 'missing-file',
    message: expect.stringMatching(/^seeded\.bin changed on disk, checked again: 32 of its 32 pieces no longer match their hash and are not uploaded; piece \d+: ENOENT: no such file/),
    since: expect.any(String),
  });
  // Pieces read before the deletion (they matched) may still go out of the read cache.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const have = leecher.status().swarms[0].have;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(leecher.status().swarms[0].have).toBe(have);
  expect(have).toBeLessThan(32);
  expectNoBadPiece(leecher);
}, 60_000);
