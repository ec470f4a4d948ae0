/** aria2c (Debian's aria2 1.36) against our peer and its embedded tracker, both directions. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { fileDigest, freePort, runProgram } from '../helpers/peer-process.js';
import { AGE_TXT, oursWithAge, writeSampleAlbum, type InteropSetup } from '../helpers/interop.js';
import { describeWithTool } from '../helpers/require-tool.js';

/** aria2c talking only to the tracker in the torrent: no DHT, no local discovery, no PEX. */
const ARIA_QUIET = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--console-log-level=warn', '--summary-interval=0'];

describeWithTool(['aria2c'], 'interoperability with aria2c', () => {
  let setup: InteropSetup | undefined;
  afterEach(async () => {
    await setup?.cleanup();
    setup = undefined;
  });

  test('aria2c downloads age.txt from our seeder, announcing to our tracker', async () => {
    setup = await oursWithAge(true);
    const port = await freePort();
    const result = await runProgram('aria2c', [`--dir=${setup.theirDir}`, '--seed-time=0', `--listen-port=${port}`, ...ARIA_QUIET, setup.torrentFile], 60_000);
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(setup.theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    const status = await setup.ours.status();
    expect(status.swarms[0].uploaded).toBeGreaterThanOrEqual(status.swarms[0].size);
    expect(status.swarms[0].known).toContain(`127.0.0.1:${port}`);
  });

  test('our leecher downloads age.txt from an aria2c seeder that announced to it', async () => {
    setup = await oursWithAge(false);
    const port = await freePort();
    const aria = spawn('aria2c', [`--dir=${setup.theirDir}`, '--seed-ratio=0.0', '--check-integrity=true', `--listen-port=${port}`, ...ARIA_QUIET, setup.torrentFile], {
      stdio: 'ignore',
    });
    try {
      const done = await setup.ours.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'our leecher to complete from aria2c');
      expect(done.swarms[0].downloaded).toBe(done.swarms[0].size);
      const original = createHash('sha1').update(await readFile(AGE_TXT)).digest('hex');
      expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(original);
    } finally {
      aria.kill('SIGKILL');
    }
  });

  test('aria2c reads torrents we make, single and multi-file, with the info hash we compute', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-aria-meta-'));
    try {
      for (const source of [AGE_TXT, await writeSampleAlbum(dir)]) {
        const torrent = await createTorrent(source, { announce: 'http://127.0.0.1:1/announce' });
        const file = path.join(dir, 'made.torrent');
        await writeFile(file, torrent);
        const shown = await runProgram('aria2c', ['-S', file], 20_000);
        expect(shown.stdout).toMatch(new RegExp(`Info Hash: ${parseMetainfo(torrent).infoHashHex}`, 'i'));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
