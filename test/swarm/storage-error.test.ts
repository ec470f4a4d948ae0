/**
 * Issue 22, disk faults, inside one process: a leecher whose data file cannot be written (a folder
 * stands where the file goes, so every piece's write fails with EISDIR) goes into a storage
 * error: /status shows it, it stops requesting (the seeder's upload stops growing), it logs it
 * once however often it retries, keeps checking whether the cause is gone, and once the folder is
 * removed resumes by itself and ends byte-identical.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { digest, fileDigest } from '../helpers/peer-process.js';

const PIECE = 64 * 1024;
const swarm = new InProcessSwarm('blocked.bin');
afterEach(() => swarm.cleanup());

test('a piece that cannot be written holds the swarm in a storage error until the cause is gone, then it completes', async () => {
  const data = generatedContent(2 * 1024 * 1024);
  // Slow enough that the error comes long before the whole file could have been sent.
  const seeder = await swarm.startSeeder(data, ['--upload-limit', '512k'], PIECE);
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');
  const dirs = await swarm.makeFolders();
  await writeFile(path.join(dirs.torrents, 'blocked.torrent'), swarm.torrent);
  const blocker = path.join(dirs.cache, swarm.meta.infoHashHex, 'data', 'blocked.bin');
  await mkdir(blocker, { recursive: true });
  const leecher = await swarm.start(dirs, { settings: { storageRetryMs: 200 } });

  const failed = await leecher.waitForStatus((s) => s.swarms[0]?.error != null, 20_000, 'the storage error');
  expect(failed.swarms[0].error).toEqual({ kind: 'io', message: expect.stringMatching(/^cannot write piece \d+: EISDIR/), since: expect.any(String) });
  // Nothing is counted that is not on disk.
  expect(failed.swarms[0].have).toBe(0);
  expect(failed.swarms[0].downloaded).toBe(0);

  // Requests were cancelled: after what was on its way, the seeder sends nothing more, while the
  // leecher checks every 200 ms (housekeeping: every second) and finds the cause still there.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const uploaded = seeder.status().swarms[0].uploaded;
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(seeder.status().swarms[0].uploaded).toBe(uploaded);
  expect(uploaded).toBeLessThan(data.length);
  const held = leecher.status().swarms[0];
  expect(held.error).toEqual(failed.swarms[0].error);
  expect(held.peers).toHaveLength(1);
  const storageLines = (): string[] => leecher.lines.filter((line) => /storage error|cannot write|cannot save/.test(line));
  expect(storageLines()).toEqual([expect.stringMatching(/ warn \[blocked\.bin\] storage error \(io\), downloading paused until it is gone: cannot write piece \d+: EISDIR/)]);

  await rm(blocker, { recursive: true });
  const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 30_000, 'the download to finish once the cause is gone');
  expect(done.swarms[0].error).toBeNull();
  expect(done.swarms[0].downloaded).toBe(data.length);
  expect(storageLines()).toHaveLength(2);
  expect(storageLines()[1]).toMatch(/ info \[blocked\.bin\] storage error \(io\) is gone after \d+ s, \d+ further failure\(s\) meanwhile: downloading again/);
  expect(await fileDigest(path.join(dirs.shareable, 'blocked.bin'))).toBe(digest(data));
}, 60_000);
