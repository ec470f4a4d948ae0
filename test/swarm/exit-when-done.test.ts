/**
 * --exit-when-done means every torrent: a leecher of many small torrents, joined one after
 * another, must not call it done when the ones joined so far are complete but others are still
 * being joined (found by the 200-torrent benchmark). In this process, "exit" is the session's
 * onAllComplete, which the command line answers with a stop and exit code 0.
 */
import { readdirSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import type { StatusDocument } from '../../src/main/session.js';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';
import { freePort } from '../helpers/peer-process.js';

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

test('a leecher of 40 small torrents is done only once all 40 are complete', async () => {
  const [seedDirs, leechDirs] = await Promise.all([peers.makeFolders(), peers.makeFolders()]);
  const seedPort = await freePort();
  const names = Array.from({ length: 40 }, (_, i) => `small-${String(i).padStart(2, '0')}.bin`);
  for (const name of names) {
    const file = path.join(seedDirs.shareable, name);
    await writeFile(file, generatedContent(16 * 1024 + names.indexOf(name)));
    const torrent = await createTorrent(file, { announce: `http://127.0.0.1:${seedPort}/announce`, pieceLength: 16 * 1024 });
    await writeFile(path.join(seedDirs.torrents, `${name}.torrent`), torrent);
    await writeFile(path.join(leechDirs.torrents, `${name}.torrent`), torrent);
  }
  const seeder = await peers.start(seedDirs, { port: seedPort });
  await seeder.waitForStatus((s) => s.swarms.length === 40, 60_000, 'the seeder to join all 40');

  // What the leecher had when it said "done": its shareable/ and its status at that moment.
  let seen: { files: string[]; status: StatusDocument } | undefined;
  let done: () => void = () => undefined;
  const allComplete = new Promise<void>((resolve) => (done = resolve));
  const leecher = await peers.start(leechDirs, {
    args: ['--exit-when-done'],
    onAllComplete: (peer) => {
      seen ??= { files: readdirSync(leechDirs.shareable).sort(), status: peer.status() };
      done();
    },
  });
  await bounded(allComplete, 60_000, () => `the leecher to be done\nlast status: ${JSON.stringify(leecher.status())}\nlog:\n${leecher.output}`);
  await leecher.stop();
  // Said once, however many swarms report in after the last one completed.
  expect(leecher.output.match(/every torrent is complete/g)).toHaveLength(1);
  expect(seen?.files).toEqual(names);
  expect(seen?.status.swarms).toHaveLength(40);
  expect(seen?.status.swarms.every((swarm) => swarm.role === 'seeder')).toBe(true);
  expect((await readdir(leechDirs.shareable)).sort()).toEqual(names);
}, 120_000);

/** Waits for `promise`, failing with `what()` after `timeoutMs`. */
async function bounded(promise: Promise<void>, timeoutMs: number, what: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what()}`)), timeoutMs)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
