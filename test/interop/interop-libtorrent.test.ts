/**
 * libtorrent-rasterbar 2.0 (Debian's python3-libtorrent, the engine of qBittorrent and Deluge)
 * against our peer and its embedded tracker, both directions, over TCP (uTP off).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { AGE_TXT, LT_PEER, oursWithAge, writeSampleAlbum, type InteropSetup } from '../helpers/interop.js';
import { fileDigest, folderArgs, freePort, makePeerFolders, removeFolders, runProgram, startPeer, type PeerProcess } from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools, pythonModuleAvailable } from '../helpers/require-tool.js';

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

  test('a hybrid torrent libtorrent made, with pad files: we download it from libtorrent without them, then seed it to libtorrent', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-lt-pad-'));
    const ourDirs = await makePeerFolders();
    const port = await freePort();
    let ours: PeerProcess | undefined;
    const seeder = { process: undefined as ReturnType<typeof spawn> | undefined };
    try {
      // Two files of one size get two pad files of one name, .pad/31072: the torrent must still load.
      const source = path.join(dir, 'theirs', 'set');
      await mkdir(source, { recursive: true });
      const files: Record<string, Buffer> = { 'one.bin': Buffer.alloc(100_000, 1), 'two.bin': Buffer.alloc(100_000, 2), 'three.txt': Buffer.from('three\n'.repeat(8000)) };
      for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(source, name), bytes);
      const torrentFile = path.join(dir, 'set.torrent');
      const make = [
        'import sys, libtorrent as lt',
        'fs = lt.file_storage(); lt.add_files(fs, sys.argv[1])',
        't = lt.create_torrent(fs, 32768); t.add_tracker(sys.argv[3])',
        'lt.set_piece_hashes(t, sys.argv[2])',
        'open(sys.argv[4], "wb").write(lt.bencode(t.generate()))',
      ].join('\n');
      const made = await runProgram(PYTHON, ['-c', make, source, path.dirname(source), `http://127.0.0.1:${port}/announce`, torrentFile], 20_000);
      expect(made.code).toBe(0);
      const meta = parseMetainfo(await readFile(torrentFile));
      const pads = meta.files.filter((file) => file.pad).map((file) => file.path.join('/'));
      expect(pads.sort()).toEqual(['.pad/17536', '.pad/31072', '.pad/31072']);

      await writeFile(path.join(ourDirs.torrents, 'set.torrent'), await readFile(torrentFile));
      ours = startPeer([...folderArgs(ourDirs), '--workers', '2'], port, true);
      await ours.waitForStatus((s) => s.swarms[0]?.role === 'leecher', 20_000, 'our peer to start');
      seeder.process = spawn(PYTHON, [LT_PEER, torrentFile, path.dirname(source), String(await freePort()), '--seed', '--timeout', '90'], { stdio: 'ignore' });
      const done = await ours.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'our leecher to complete from libtorrent');
      expect(done.swarms[0].downloaded).toBe(meta.totalLength);
      expect((await readdir(path.join(ourDirs.shareable, 'set'))).sort()).toEqual(['one.bin', 'three.txt', 'two.bin']);
      for (const [name, bytes] of Object.entries(files)) expect((await readFile(path.join(ourDirs.shareable, 'set', name))).equals(bytes)).toBe(true);
      seeder.process.kill('SIGKILL');

      const leecherDir = path.join(dir, 'fresh');
      await mkdir(leecherDir);
      const result = await runProgram(PYTHON, [LT_PEER, torrentFile, leecherDir, String(await freePort()), '--timeout', '60'], 70_000);
      expect(result.stdout).toContain(`done ${meta.infoHashHex}`);
      for (const [name, bytes] of Object.entries(files)) expect((await readFile(path.join(leecherDir, 'set', name))).equals(bytes)).toBe(true);
    } finally {
      seeder.process?.kill('SIGKILL');
      await ours?.stop();
      await removeFolders(ourDirs);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
