import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBencode } from '../../src/io/bencode.js';
import { parseMagnet, readMagnetFile } from '../../src/io/magnet-link.js';
import { parseMetainfo } from '../../src/io/metainfo.js';
import {
  UsageError,
  formatInfo,
  formatMagnetInfo,
  formatSize,
  parseByteCount,
  parseTorrentCommand,
} from '../../src/main/cli/torrent-command.js';
import { KiB, MiB } from '../../src/io/settings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const compiled = path.join(root, 'dist', 'main', 'cli', 'torrent-command.js');
const ANNOUNCE = 'http://127.0.0.1:6881/announce';

/** The sources the compiled command is built from; a newer one means dist/ is stale. */
const sources = [
  'src/main/cli/torrent-command.ts',
  'src/io/metainfo.ts',
  'src/io/magnet-link.ts',
  'src/io/torrent-maker.ts',
  'src/io/system-error.ts',
  'src/io/atomic-file.ts',
  'src/io/bencode.ts',
  'src/io/settings.ts',
];

function ensureBuilt(): void {
  const fresh = (): boolean =>
    existsSync(compiled) && sources.every((s) => statSync(path.join(root, s)).mtimeMs <= statSync(compiled).mtimeMs);
  if (fresh()) return;
  // `npm test` builds first; this covers running this file alone after an edit. tsc emits even
  // when some other file has errors, so only the freshness of our output decides.
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (!fresh()) throw new Error(`could not build ${compiled}:\n${tsc.stdout}${tsc.stderr}`);
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [compiled, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A failure the contract's way: non-zero exit, one line on stderr, no stack trace. */
function expectCleanFailure(result: Result, code: number, message: RegExp): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^shoal torrent: /);
  expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

function hashIn(stdout: string): string {
  const match = /^info hash: ([0-9a-f]{40})\b/m.exec(stdout);
  if (!match) throw new Error(`no info hash in:\n${stdout}`);
  return match[1];
}

let tmp: string;
beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'shoal-torrent-command-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('torrent command, as a process', () => {
  test('create then info show the same info hash as the file holds', async () => {
    const source = path.join(tmp, 'data.bin');
    await writeFile(source, Buffer.alloc(100_000, 'shoal'));
    const out = path.join(tmp, 'out', 'data.torrent');
    const created = await cli(['create', source, '--announce', ANNOUNCE, '--piece-length', '16k', '--out', out], tmp);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const meta = parseMetainfo(await readFile(out));
    expect(hashIn(created.stdout)).toBe(meta.infoHashHex);
    expect(meta.pieceLength).toBe(16 * KiB);

    const info = await cli(['info', out], tmp);
    expect(info.code).toBe(0);
    expect(info.stderr).toBe('');
    expect(hashIn(info.stdout)).toBe(meta.infoHashHex);
    expect(info.stdout).toContain('name: data.bin');
    expect(info.stdout).toContain(`announce: ${ANNOUNCE}`);
    expect(info.stdout).toContain('piece length: 16384 (16 KiB)');
    expect(info.stdout).toContain('pieces: 7');
    expect(info.stdout).toContain('total size: 100000 (97.66 KiB)');
    expect(info.stdout).toMatch(/^ {2}data\.bin {2}100000 \(97\.66 KiB\)$/m);
  });

  test('create writes torrents/<name>.torrent under the current folder by default, and never overwrites', async () => {
    const work = path.join(tmp, 'work');
    await mkdir(path.join(work, 'folder', 'sub'), { recursive: true });
    await writeFile(path.join(work, 'folder', 'one.txt'), 'one');
    await writeFile(path.join(work, 'folder', 'sub', 'two.txt'), 'two');
    const created = await cli(['create', 'folder', '--announce', ANNOUNCE], work);
    expect(created.code).toBe(0);
    const out = path.join(work, 'torrents', 'folder.torrent');
    const meta = parseMetainfo(await readFile(out));
    expect(meta.files.map((f) => f.path.join('/'))).toEqual(['one.txt', 'sub/two.txt']);
    expect(await readdir(path.join(work, 'torrents'))).toEqual(['folder.torrent']);

    const again = await cli(['create', 'folder', '--announce', 'http://other/announce'], work);
    expectCleanFailure(again, 1, /already exists/);
    expect(parseMetainfo(await readFile(out)).announce).toBe(ANNOUNCE);
    expect(await readdir(path.join(work, 'torrents'))).toEqual(['folder.torrent']);
  });

  test('create picks 256 KiB pieces for a 30 MiB folder, not thousands of tiny ones (issue 21)', async () => {
    const work = path.join(tmp, 'thirty');
    await mkdir(path.join(work, 'album', 'disc 2'), { recursive: true });
    await writeFile(path.join(work, 'album', 'one.bin'), Buffer.alloc(10 * MiB, 1));
    await writeFile(path.join(work, 'album', 'two.bin'), Buffer.alloc(12 * MiB, 2));
    await writeFile(path.join(work, 'album', 'disc 2', 'three.bin'), Buffer.alloc(8 * MiB, 3));
    const created = await cli(['create', 'album', '--announce', ANNOUNCE], work);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('pieces: 120 of 262144 (256 KiB), total size 31457280 (30 MiB)');
    const meta = parseMetainfo(await readFile(path.join(work, 'torrents', 'album.torrent')));
    expect(meta.pieceLength).toBe(256 * KiB);
    expect(meta.pieceCount).toBe(120);
    // --piece-length still wins.
    const small = await cli(['create', 'album', '--announce', ANNOUNCE, '--piece-length', '16k', '--out', 'small.torrent'], work);
    expect(small.code).toBe(0);
    expect(small.stdout).toContain('pieces: 1920 of 16384 (16 KiB)');
  });

  test('set-announce changes the announce URL and keeps the info hash', async () => {
    const source = path.join(tmp, 'announce.bin');
    await writeFile(source, Buffer.alloc(40_000, 'x'));
    const file = path.join(tmp, 'announce.torrent');
    expect((await cli(['create', source, '--announce', ANNOUNCE, '--out', file], tmp)).code).toBe(0);
    const before = parseMetainfo(await readFile(file));

    const url = 'http://192.168.1.10:6881/announce';
    const changed = await cli(['set-announce', file, url], tmp);
    expect(changed.stderr).toBe('');
    expect(changed.code).toBe(0);
    expect(hashIn(changed.stdout)).toBe(before.infoHashHex);
    const after = parseMetainfo(await readFile(file));
    expect(after.announce).toBe(url);
    expect(after.infoBytes).toEqual(before.infoBytes);
    const info = await cli(['info', file], tmp);
    expect(info.stdout).toContain(`announce: ${url}`);
    expect(hashIn(info.stdout)).toBe(before.infoHashHex);
    expect((await readdir(tmp)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    // A tracker the peer could not announce to is refused, and the file is left as it was.
    const kept = await readFile(file);
    expectCleanFailure(await cli(['set-announce', file, 'wss://tracker.example/announce'], tmp), 1, /uses wss:, which shoal cannot announce to/);
    expect(await readFile(file)).toEqual(kept);
  });

  test('several --announce make one tier each, the first also announce; set-announce drops, keeps or replaces the list', async () => {
    const source = path.join(tmp, 'tiers.bin');
    await writeFile(source, Buffer.alloc(30_000, 'y'));
    const file = path.join(tmp, 'tiers.torrent');
    const udp = 'udp://tracker.example:6969/announce';
    const created = await cli(['create', source, '--announce', udp, '--announce', ANNOUNCE, '--out', file], tmp);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`announce-list tier 2: ${ANNOUNCE}`);
    const meta = parseMetainfo(await readFile(file));
    expect(meta.announce).toBe(udp);
    expect(meta.announceList).toEqual([[udp], [ANNOUNCE]]);
    const info = await cli(['info', file], tmp);
    expect(info.stdout).toContain(`announce: ${udp}`);
    expect(info.stdout).toContain(`announce-list tier 1: ${udp}`);
    expect(info.stdout).toContain(`announce-list tier 2: ${ANNOUNCE}`);

    // --keep-list: announce changes, the tiers stay.
    const kept = await cli(['set-announce', '--keep-list', file, 'http://other/announce'], tmp);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`announce-list tier 2: ${ANNOUNCE} (kept)`);
    expect(parseMetainfo(await readFile(file))).toMatchObject({ announce: 'http://other/announce', announceList: [[udp], [ANNOUNCE]], infoHashHex: meta.infoHashHex });

    // Several URLs: a new list of one tier each.
    expect((await cli(['set-announce', file, ANNOUNCE, udp], tmp)).code).toBe(0);
    expect(parseMetainfo(await readFile(file))).toMatchObject({ announce: ANNOUNCE, announceList: [[ANNOUNCE], [udp]] });

    // One URL: the list is dropped, as before.
    const dropped = await cli(['set-announce', file, udp], tmp);
    expect(dropped.stdout).toContain('announce-list: none');
    expect(parseMetainfo(await readFile(file))).toMatchObject({ announce: udp, announceList: [], infoHashHex: meta.infoHashHex });
  });

  test('--help prints the usage and exits 0', async () => {
    const help = await cli(['--help'], tmp);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/create <file-or-folder> --announce URL/);
    expect(help.stdout).toContain('http://, https:// or udp://');
    expect(help.stdout).toMatch(/--keep-list replaces\s+announce only and keeps the announce-list as it is/);
    expect(help.stdout).toMatch(/Several --announce make an announce-list \(BEP 12\) of one tier each/);
    expect(help.stdout).toMatch(/smallest power of two from 256 KiB up giving at most\s+2000 pieces, and at most 16 MiB/);
    expect((await cli(['info', '--help'], tmp)).code).toBe(0);
  });

  describe('add', () => {
    const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
    const BASE32 = 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK';

    async function folder(name: string): Promise<string> {
      const dir = path.join(tmp, name);
      await mkdir(path.join(dir, 'torrents'), { recursive: true });
      return dir;
    }

    test('a magnet URI becomes NAME.magnet holding the canonical link; an existing file is never replaced', async () => {
      const work = await folder('add-magnet');
      const target = path.join(work, 'peer-torrents');
      await mkdir(target);
      const uri = `magnet:?xt=urn:btih:${BASE32}&dn=My%2FShow+S01&tr=udp%3A%2F%2Ftracker.example%3A6969&tr=wss://x.example&x.pe=10.0.0.2:6881`;
      const added = await cli(['add', uri, '--torrents', 'peer-torrents'], work);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      const file = path.join(target, 'My_Show S01.magnet');
      expect(added.stdout).toBe(`added ${file}\ninfo hash: ${HEX}\n`);
      const canonical = `magnet:?xt=urn:btih:${HEX}&dn=My/Show%20S01&tr=udp://tracker.example:6969&x.pe=10.0.0.2:6881`;
      expect(await readFile(file, 'utf8')).toBe(`${canonical}\n`);
      expect(await readMagnetFile(file)).toMatchObject({ infoHashHex: HEX, name: 'My/Show S01', peers: [{ ip: '10.0.0.2', port: 6881 }] });
      expect(await readdir(target)).toEqual(['My_Show S01.magnet']);

      expectCleanFailure(await cli(['add', `magnet:?xt=urn:btih:${HEX}&dn=My/Show S01&tr=http://other.example/announce`, '--torrents', target], work), 1, /My_Show S01\.magnet already exists; remove it first to replace it$/);
      expect(await readFile(file, 'utf8')).toBe(`${canonical}\n`);
      expect(await readdir(target)).toEqual(['My_Show S01.magnet']);
    });

    test('without dn the file is named by the info hash, in ./torrents by default; a .magnet file is added the same way', async () => {
      const work = await folder('add-default');
      const added = await cli(['add', `magnet:?xt=urn:btih:${HEX.toUpperCase()}`], work);
      expect(added.code).toBe(0);
      expect(await readFile(path.join(work, 'torrents', `${HEX}.magnet`), 'utf8')).toBe(`magnet:?xt=urn:btih:${HEX}\n`);

      const other = await folder('add-file');
      await writeFile(path.join(other, 'link.magnet'), `\n magnet:?dn=From+file&xt=urn:btih:${BASE32}\n`);
      expect((await cli(['add', 'link.magnet'], other)).code).toBe(0);
      expect(await readFile(path.join(other, 'torrents', 'From file.magnet'), 'utf8')).toBe(`magnet:?xt=urn:btih:${HEX}&dn=From%20file\n`);
    });

    test('a .torrent is checked and copied byte for byte', async () => {
      const work = await folder('add-torrent');
      const source = path.join(work, 'data.bin');
      await writeFile(source, Buffer.alloc(50_000, 'd'));
      const made = path.join(work, 'made.torrent');
      expect((await cli(['create', source, '--announce', ANNOUNCE, '--out', made], work)).code).toBe(0);
      const added = await cli(['add', 'made.torrent'], work);
      expect(added.stderr).toBe('');
      expect(hashIn(added.stdout)).toBe(parseMetainfo(await readFile(made)).infoHashHex);
      expect(added.stdout).toContain(`added ${path.join(work, 'torrents', 'made.torrent')}`);
      expect(await readFile(path.join(work, 'torrents', 'made.torrent'))).toEqual(await readFile(made));
      expectCleanFailure(await cli(['add', 'made.torrent'], work), 1, /made\.torrent already exists; remove it first to replace it, or rename the file being added$/);
    });

    test('a bad magnet, a bad .torrent or a missing folder: one line, nothing written', async () => {
      const work = await folder('add-bad');
      expectCleanFailure(await cli(['add', 'magnet:?xt=urn:btih:1234'], work), 1, /^shoal torrent: xt "urn:btih:1234" is not an info hash/);
      expectCleanFailure(await cli(['add', 'magnet:?dn=x'], work), 1, /the link has no info hash/);
      expectCleanFailure(await cli(['add', `https://example.com/?xt=urn:btih:${HEX}`], work), 1, /cannot read: .*ENOENT/);
      const corrupt = path.join(work, 'corrupt.torrent');
      await writeFile(corrupt, encodeBencode({ info: { name: 'x', 'piece length': 16384, length: 5, pieces: 'short' } }));
      expectCleanFailure(await cli(['add', corrupt], work), 1, /corrupt\.torrent: .*not a multiple of 20/);
      await writeFile(path.join(work, 'empty.magnet'), '');
      expectCleanFailure(await cli(['add', 'empty.magnet'], work), 1, /empty\.magnet: is empty/);
      expect(await readdir(path.join(work, 'torrents'))).toEqual([]);
      expectCleanFailure(await cli(['add', `magnet:?xt=urn:btih:${HEX}`, '--torrents', 'nowhere'], work), 1, /the torrents folder .*nowhere does not exist; create it or give the peer's folder with --torrents DIR/);
      expect(existsSync(path.join(work, 'nowhere'))).toBe(false);
    });
  });

  test('info on a magnet link, given as a URI or as a .magnet file, shows what the link holds', async () => {
    const uri = 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Show&tr=http://a.example/announce&tr=udp://b.example:1&x.pe=[2001:db8::1]:6881&tr=ftp://c.example/';
    const fromUri = await cli(['info', uri], tmp);
    expect(fromUri.stderr).toBe('');
    expect(fromUri.code).toBe(0);
    expect(fromUri.stdout.split('\n')).toEqual([
      'name: Show',
      'info hash: c12fe1c06bba254a9dc9f519b335aa7c1367a88a',
      'tracker tier 1: http://a.example/announce',
      'tracker tier 2: udp://b.example:1',
      'peers: [2001:db8::1]:6881',
      'ignored: tracker "ftp://c.example/" uses ftp:, which shoal cannot announce to; only http://, https:// or udp:// trackers are supported',
      'size and files: not in a magnet link; a peer fetches the info dictionary from other peers (BEP 9)',
      '',
    ]);
    const file = path.join(tmp, 'show.magnet');
    await writeFile(file, `${uri}\n`);
    expect((await cli(['info', file], tmp)).stdout).toBe(fromUri.stdout);

    await writeFile(path.join(tmp, 'huge.magnet'), `${uri}&dn=${'x'.repeat(70_000)}`);
    expectCleanFailure(await cli(['info', 'huge.magnet'], tmp), 1, /huge\.magnet: is \d+ bytes, larger than the 65536 bytes allowed for a \.magnet file/);
  });

  describe('failures: one line on stderr, no stack trace', () => {
    test('a missing .torrent', async () => {
      expectCleanFailure(await cli(['info', 'missing.torrent'], tmp), 1, /missing\.torrent: cannot read: .*ENOENT/);
    });

    test('a corrupt .torrent, for info and for set-announce (left untouched)', async () => {
      const file = path.join(tmp, 'corrupt.torrent');
      const bytes = encodeBencode({ announce: ANNOUNCE, info: { name: 'x', 'piece length': 16384, length: 5, pieces: 'short' } });
      await writeFile(file, bytes);
      expectCleanFailure(await cli(['info', file], tmp), 1, /corrupt\.torrent: .*not a multiple of 20/);
      expectCleanFailure(await cli(['set-announce', file, ANNOUNCE], tmp), 1, /corrupt\.torrent: .*not a multiple of 20/);
      expect(await readFile(file)).toEqual(bytes);
      await writeFile(file, 'd4:infod4:name');
      expectCleanFailure(await cli(['info', file], tmp), 1, /not a \.torrent file/);
    });

    test('a missing source and a bad announce URL for create', async () => {
      expectCleanFailure(await cli(['create', 'nothing-here', '--announce', ANNOUNCE], tmp), 1, /nothing-here: cannot read/);
      await writeFile(path.join(tmp, 'small.txt'), 'small');
      expectCleanFailure(await cli(['create', 'small.txt', '--announce', 'not a url'], tmp), 1, /not a valid URL/);
      expectCleanFailure(
        await cli(['create', 'small.txt', '--announce', 'wss://tracker.example/announce'], tmp),
        1,
        /uses wss:, which shoal cannot announce to; only http:\/\/, https:\/\/ or udp:\/\/ trackers are supported$/,
      );
      expectCleanFailure(
        await cli(['create', 'small.txt', '--announce', ANNOUNCE, '--announce', 'udp://tracker.example/announce'], tmp),
        1,
        /announce-list URL "udp:\/\/tracker\.example\/announce" names no port/,
      );
      expect(existsSync(path.join(tmp, 'torrents', 'small.txt.torrent'))).toBe(false);
      expectCleanFailure(
        await cli(['create', 'small.txt', '--announce', ANNOUNCE, '--piece-length', '1000'], tmp),
        1,
        /power of two/,
      );
    });

    test.each([
      [[], /missing subcommand/],
      [['bogus'], /unknown subcommand "bogus"/],
      [['info', '--verbose', 'x.torrent'], /unknown option '--verbose'/],
      [['info'], /info needs <file\.torrent \| file\.magnet \| magnet-uri>/],
      [['add'], /add needs <magnet-uri \| file\.magnet \| file\.torrent>/],
      [['add', 'a.torrent', 'b.torrent'], /extra "b\.torrent"/],
      [['add', 'a.torrent', '--torrent', 'x'], /unknown option '--torrent'/],
      [['info', 'a.torrent', 'b.torrent'], /extra "b\.torrent"/],
      [['create', 'x'], /create needs --announce URL/],
      [['create', '--announce', ANNOUNCE], /create needs <file-or-folder>/],
      [['create', 'x', '--announce'], /argument missing/],
      [['create', 'x', '--announce', ANNOUNCE, '--piece-length', 'big'], /--piece-length must be a number of bytes/],
      [['set-announce', 'x.torrent'], /set-announce needs <file\.torrent> <URL>/],
      [['set-announce', '--keep-list', 'x.torrent', ANNOUNCE, 'http://b/announce'], /set-announce takes 2 argument\(s\), got extra "http:\/\/b\/announce"/],
    ])('usage error for %j exits 2', async (args, message) => {
      expectCleanFailure(await cli(args, tmp), 2, message);
    });
  });
});

describe('torrent command functions', () => {
  test('parseTorrentCommand gives typed commands', () => {
    expect(parseTorrentCommand(['create', 'dir', '--announce', ANNOUNCE, '--piece-length', '1M', '--out', 'x.torrent'])).toEqual({
      kind: 'create',
      source: 'dir',
      announce: ANNOUNCE,
      pieceLength: MiB,
      out: 'x.torrent',
    });
    expect(parseTorrentCommand(['create', 'dir', '--announce', ANNOUNCE])).toEqual({ kind: 'create', source: 'dir', announce: ANNOUNCE });
    expect(parseTorrentCommand(['info', 'a.torrent'])).toEqual({ kind: 'info', torrent: 'a.torrent' });
    expect(parseTorrentCommand(['set-announce', 'a.torrent', ANNOUNCE])).toEqual({
      kind: 'set-announce',
      torrent: 'a.torrent',
      url: ANNOUNCE,
    });
    expect(parseTorrentCommand(['create', 'dir', '--announce', 'udp://a:1/announce', '--announce', ANNOUNCE])).toEqual({
      kind: 'create',
      source: 'dir',
      announce: 'udp://a:1/announce',
      announceList: [['udp://a:1/announce'], [ANNOUNCE]],
    });
    expect(parseTorrentCommand(['set-announce', 'a.torrent', ANNOUNCE, 'udp://b:2'])).toEqual({
      kind: 'set-announce',
      torrent: 'a.torrent',
      url: ANNOUNCE,
      announceList: [[ANNOUNCE], ['udp://b:2']],
    });
    expect(parseTorrentCommand(['set-announce', '--keep-list', 'a.torrent', ANNOUNCE])).toEqual({
      kind: 'set-announce',
      torrent: 'a.torrent',
      url: ANNOUNCE,
      announceList: 'keep',
    });
    expect(parseTorrentCommand(['-h'])).toEqual({ kind: 'help' });
    expect(() => parseTorrentCommand(['info', '-x', 'a'])).toThrow(UsageError);
  });

  test('parseTorrentCommand: add takes one source and --torrents', () => {
    expect(parseTorrentCommand(['add', 'magnet:?xt=urn:btih:x'])).toEqual({ kind: 'add', source: 'magnet:?xt=urn:btih:x' });
    expect(parseTorrentCommand(['add', 'a.torrent', '--torrents', 'dir'])).toEqual({ kind: 'add', source: 'a.torrent', torrents: 'dir' });
    expect(parseTorrentCommand(['add', '--help'])).toEqual({ kind: 'help' });
  });

  test('formatMagnetInfo says when the link has no name, trackers or peers, escaping control characters', () => {
    const bare = parseMagnet('magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a');
    expect(formatMagnetInfo(bare).slice(0, 4)).toEqual([
      'name: (none in the link)',
      'info hash: c12fe1c06bba254a9dc9f519b335aa7c1367a88a',
      'trackers: none (peers come from the DHT, local discovery and x.pe)',
      'peers: none',
    ]);
    expect(formatMagnetInfo({ ...bare, name: 'evil\nname' })[0]).toBe('name: evil\\u000aname');
  });

  test('parseByteCount takes bytes with k or M suffixes', () => {
    expect(parseByteCount('65536', '--piece-length')).toBe(65536);
    expect(parseByteCount('64k', '--piece-length')).toBe(64 * KiB);
    expect(parseByteCount('2M', '--piece-length')).toBe(2 * MiB);
    for (const bad of ['', '-1', '1.5', '1G', 'k', '0x10', '99999999999999999999']) {
      expect(() => parseByteCount(bad, '--piece-length')).toThrow(UsageError);
    }
  });

  test('formatSize', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(65536)).toBe('64 KiB');
    expect(formatSize(1_361_768)).toBe('1.3 MiB');
    expect(formatSize(3 * 1024 * MiB)).toBe('3 GiB');
  });

  test('formatInfo lists every file on its own line, escaping control characters in names', () => {
    const bytes = encodeBencode({
      announce: ANNOUNCE,
      'announce-list': [[ANNOUNCE, 'http://b/announce'], ['udp://c:1/announce']],
      info: {
        name: 'set',
        'piece length': 16384,
        pieces: Buffer.alloc(20),
        files: [
          { length: 3, path: ['evil\nname.txt'] },
          { length: 5, path: ['sub', 'ok.txt'] },
        ],
      },
    });
    const meta = parseMetainfo(bytes);
    const lines = formatInfo(meta);
    expect(lines).toContain(`info hash: ${meta.infoHashHex}`);
    expect(lines).toContain(`announce-list tier 1: ${ANNOUNCE} http://b/announce`);
    expect(lines).toContain('announce-list tier 2: udp://c:1/announce');
    expect(lines).toContain('files: 2');
    expect(lines).toContain('  set/evil\\u000aname.txt  3 (3 B)');
    expect(lines).toContain('  set/sub/ok.txt  5 (5 B)');
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
  });
});
