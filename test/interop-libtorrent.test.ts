/**
 * libtorrent-rasterbar 2.0 (Debian's python3-libtorrent, the engine of qBittorrent and Deluge)
 * against our peer and its embedded tracker, both directions, over TCP (uTP off).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTorrent, parseMetainfo } from '../src/io/metainfo.js';
import { AGE_TXT, LT_PEER, oursWithAge, writeSampleAlbum, type InteropSetup } from './helpers/interop.js';
import { fileDigest, freePort, runProgram } from './helpers/peer-process.js';
import { describeUnlessMissing, missingTools, pythonModuleAvailable } from './helpers/require-tool.js';

const PYTHON = '/usr/bin/python3';
const missing = [...missingTools(['python3']), ...(pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent'])];

describeUnlessMissing(missing, ['python3-libtorrent'], 'interoperability with libtorrent', () => {
  let setup: InteropSetup | undefined;
  afterEach(async () => {
    await setup?.cleanup();
    setup = undefined;
  });

  test('libtorrent downloads age.txt from our seeder, announcing to our tracker', async () => {
    setup = await oursWithAge(true);
    const port = await freePort();
    const result = await runProgram(PYTHON, [LT_PEER, setup.torrentFile, setup.theirDir, String(port), '--timeout', '60'], 70_000);
    expect(result.stdout).toContain(`done ${setup.meta.infoHashHex}`);
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(setup.theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    expect((await setup.ours.status()).swarms[0].uploaded).toBeGreaterThanOrEqual(setup.meta.totalLength);
  });

  test('our leecher downloads age.txt from a libtorrent seeder that announced to it', async () => {
    setup = await oursWithAge(false);
    const port = await freePort();
    const seeder = spawn(PYTHON, [LT_PEER, setup.torrentFile, setup.theirDir, String(port), '--seed', '--timeout', '90'], { stdio: 'ignore' });
    try {
      const done = await setup.ours.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'our leecher to complete from libtorrent');
      expect(done.swarms[0].downloaded).toBe(setup.meta.totalLength);
      expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    } finally {
      seeder.kill('SIGKILL');
    }
  });

  test('libtorrent reads torrents we make, single and multi-file, with our info hash', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-lt-meta-'));
    try {
      for (const source of [AGE_TXT, await writeSampleAlbum(dir)]) {
        const torrent = await createTorrent(source, { announce: 'http://127.0.0.1:1/announce' });
        const file = path.join(dir, 'made.torrent');
        await writeFile(file, torrent);
        const shown = await runProgram(PYTHON, ['-c', 'import sys, libtorrent as lt; print(lt.torrent_info(sys.argv[1]).info_hash())', file], 20_000);
        expect(shown.stdout.trim()).toBe(parseMetainfo(torrent).infoHashHex);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('torrents libtorrent makes (hybrid v1 + v2), single and multi-file, read with their v1 info hash', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-lt-made-'));
    try {
      await mkdir(path.join(dir, 'set', 'inner'), { recursive: true });
      await writeFile(path.join(dir, 'set', 'one.txt'), 'one\n'.repeat(30_000));
      await writeFile(path.join(dir, 'set', 'inner', 'two.bin'), Buffer.alloc(100_000, 3));
      const make = [
        'import sys, libtorrent as lt',
        'fs = lt.file_storage(); lt.add_files(fs, sys.argv[1])',
        't = lt.create_torrent(fs, 32768); t.add_tracker("http://127.0.0.1:1/announce")',
        'lt.set_piece_hashes(t, sys.argv[2])',
        'open(sys.argv[3], "wb").write(lt.bencode(t.generate()))',
        // libtorrent 2.0 makes hybrid (v1 + v2) torrents; a v1 client uses the v1 info hash.
        'print(lt.torrent_info(sys.argv[3]).info_hashes().v1)',
      ].join('\n');
      for (const source of [path.join(dir, 'set', 'one.txt'), path.join(dir, 'set')]) {
        const file = path.join(dir, 'theirs.torrent');
        const made = await runProgram(PYTHON, ['-c', make, source, path.dirname(source), file], 20_000);
        expect(made.code).toBe(0);
        expect(parseMetainfo(await readFile(file)).infoHashHex).toBe(made.stdout.trim());
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
