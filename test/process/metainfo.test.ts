import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBencode, encodeBencode, isDict, type BencodeDict, type BencodeInput } from '../../src/io/bencode.js';
import {
  MetainfoError,
  filePath,
  parseMetainfo,
  pieceHash,
  readMetainfoFile,
  type Metainfo,
} from '../../src/io/metainfo.js';
import {
  createTorrent,
  defaultPieceLength,
  minDefaultPieceLength,
  setAnnounce,
} from '../../src/io/torrent-maker.js';
import { KiB, MiB, defaultSettings as settings } from '../../src/io/settings.js';
import { describeWithTool } from '../helpers/require-tool.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ANNOUNCE = 'http://127.0.0.1:6881/announce';

const sha1 = (data: Uint8Array): Buffer => createHash('sha1').update(data).digest();

/** Deterministic bytes that differ from piece to piece. */
function content(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function expectPiecesMatch(meta: Metainfo, stream: Buffer): void {
  expect(meta.totalLength).toBe(stream.length);
  expect(meta.pieceCount).toBe(Math.ceil(stream.length / meta.pieceLength));
  for (let i = 0; i < meta.pieceCount; i++) {
    expect(pieceHash(meta, i)).toEqual(sha1(stream.subarray(i * meta.pieceLength, (i + 1) * meta.pieceLength)));
  }
}

/** The error parseMetainfo throws; fails the test if it throws anything else or nothing. */
function metainfoError(data: Uint8Array): MetainfoError {
  try {
    parseMetainfo(data);
  } catch (err) {
    if (err instanceof MetainfoError) return err;
    throw new Error(`expected a MetainfoError, got ${String(err)}`);
  }
  throw new Error('expected the torrent to be refused');
}

/** A minimal valid single-file torrent, with fields replaced or removed (undefined) by `info`. */
function torrent(info: Record<string, BencodeInput | undefined> = {}, top: Record<string, BencodeInput | undefined> = {}): Buffer {
  return encodeBencode({
    announce: ANNOUNCE,
    ...top,
    info: { name: 'x.bin', 'piece length': 16 * KiB, length: 20_000, pieces: Buffer.alloc(40, 7), ...info },
  });
}

function multiFile(paths: BencodeInput[], lengths = paths.map(() => 1)): Buffer {
  return torrent({
    length: undefined,
    files: paths.map((p, i) => ({ length: lengths[i], path: p })),
    pieces: Buffer.alloc(20, 1),
  });
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'shoal-metainfo-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('createTorrent and parseMetainfo', () => {
  test('a single file round-trips, with every piece hash right', async () => {
    const data = content(100_000, 1);
    const file = path.join(tmp, 'single.bin');
    await writeFile(file, data);
    const before = Math.floor(Date.now() / 1000);
    const bytes = await createTorrent(file, {
      announce: ANNOUNCE,
      pieceLength: 16 * KiB,
      announceList: [[ANNOUNCE], [], ['https://tracker.example:6969/announce']],
      comment: 'a comment',
    });
    const meta = parseMetainfo(bytes);
    expect(meta.name).toBe('single.bin');
    expect(meta.multiFile).toBe(false);
    expect(meta.files).toEqual([{ path: [], length: 100_000, offset: 0, pad: false }]);
    expect(filePath(meta, meta.files[0])).toEqual(['single.bin']);
    expect(meta.pieceLength).toBe(16 * KiB);
    expect(meta.pieceCount).toBe(7);
    expectPiecesMatch(meta, data);
    expect(meta.announce).toBe(ANNOUNCE);
    expect(meta.announceList).toEqual([[ANNOUNCE], ['https://tracker.example:6969/announce']]);
    expect(meta.comment).toBe('a comment');
    expect(meta.createdBy).toBe(settings.clientName);
    expect(meta.creationDate).toBeGreaterThanOrEqual(before);
    expect(meta.creationDate).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(meta.private).toBe(false);
    expect(meta.infoHash).toEqual(sha1(meta.infoBytes));
    expect(meta.infoHashHex).toBe(meta.infoHash.toString('hex'));
    // The info bytes are canonical bencode with exactly the fields of BEP 3.
    const info = decodeBencode(meta.infoBytes) as BencodeDict;
    expect(Object.keys(info)).toEqual(['length', 'name', 'piece length', 'pieces']);
    expect(encodeBencode(info as never)).toEqual(meta.infoBytes);
  });

  test('a folder round-trips: files sorted by path, offsets continuous across pieces', async () => {
    const folder = path.join(tmp, 'album');
    const files: [string, Buffer][] = [
      ['b.txt', content(5_000, 2)],
      ['a/z.bin', content(40_000, 3)],
      ['a/sub/deep.bin', content(17_000, 4)],
      ['a.txt', content(1, 5)],
      ['empty', Buffer.alloc(0)],
      ['ünïcode ✓.txt', content(300, 6)],
    ];
    for (const [name, data] of files) {
      await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
      await writeFile(path.join(folder, name), data);
    }
    await mkdir(path.join(folder, 'empty-folder'));
    const meta = parseMetainfo(await createTorrent(folder, { announce: ANNOUNCE, pieceLength: 16 * KiB }));
    expect(meta.name).toBe('album');
    expect(meta.multiFile).toBe(true);
    const expectedOrder = ['a.txt', 'a/sub/deep.bin', 'a/z.bin', 'b.txt', 'empty', 'ünïcode ✓.txt'];
    expect(meta.files.map((f) => f.path.join('/'))).toEqual(expectedOrder);
    expect(meta.files.map((f) => filePath(meta, f).join('/'))).toEqual(expectedOrder.map((p) => `album/${p}`));
    let offset = 0;
    const stream: Buffer[] = [];
    for (const file of meta.files) {
      const data = files.find(([name]) => name === file.path.join('/'))?.[1] as Buffer;
      expect(file.length).toBe(data.length);
      expect(file.offset).toBe(offset);
      offset += data.length;
      stream.push(data);
    }
    expectPiecesMatch(meta, Buffer.concat(stream));
  });

  test('a folder whose files are all empty makes a torrent with no pieces', async () => {
    const folder = path.join(tmp, 'empties');
    await mkdir(folder);
    await writeFile(path.join(folder, 'one'), '');
    const meta = parseMetainfo(await createTorrent(folder, { announce: ANNOUNCE }));
    expect(meta.totalLength).toBe(0);
    expect(meta.pieceCount).toBe(0);
  });

  test('without a piece length, one is chosen from the size (rule tested in test/unit/torrent-maker.test.ts)', async () => {
    const file = path.join(tmp, 'default.bin');
    await writeFile(file, content(50_000, 7));
    const meta = parseMetainfo(await createTorrent(file, { announce: ANNOUNCE }));
    expect(meta.pieceLength).toBe(defaultPieceLength(50_000));
    expect(meta.pieceLength).toBe(minDefaultPieceLength);
    expect(meta.pieceCount).toBe(1);
    expectPiecesMatch(meta, await readFile(file));
  });

  test('refuses a symbolic link inside a folder, naming it', async () => {
    const folder = path.join(tmp, 'with-link');
    await mkdir(folder);
    await writeFile(path.join(folder, 'real.txt'), 'real');
    await symlink('/etc/hostname', path.join(folder, 'link.txt'));
    await expect(createTorrent(folder, { announce: ANNOUNCE })).rejects.toThrow(
      expect.objectContaining({ name: 'MetainfoError', message: expect.stringMatching(/link\.txt.*symbolic link/) }),
    );
  });

  test('refuses a FIFO inside a folder', async () => {
    const folder = path.join(tmp, 'with-fifo');
    await mkdir(folder);
    execFileSync('mkfifo', [path.join(folder, 'pipe')]);
    await expect(createTorrent(folder, { announce: ANNOUNCE })).rejects.toThrow(/pipe.*not a regular file/);
  });

  test('refuses an empty folder, a missing source, bad URLs and bad piece lengths', async () => {
    const empty = path.join(tmp, 'empty-dir');
    await mkdir(path.join(empty, 'nested'), { recursive: true });
    await expect(createTorrent(empty, { announce: ANNOUNCE })).rejects.toThrow(/holds no files/);
    await expect(createTorrent(path.join(tmp, 'nope'), { announce: ANNOUNCE })).rejects.toThrow(
      expect.objectContaining({ name: 'MetainfoError', message: expect.stringMatching(/nope: cannot read: no such file or directory \(ENOENT\)$/) }),
    );
    const file = path.join(tmp, 'small.txt');
    await writeFile(file, 'small');
    await expect(createTorrent(file, { announce: 'not a url' })).rejects.toThrow(/not a valid URL/);
    await expect(createTorrent(file, { announce: 'ftp://host/x' })).rejects.toThrow(/only http:\/\/, https:\/\/ or udp:\/\/ trackers/);
    await expect(createTorrent(file, { announce: ANNOUNCE, announceList: [['bad']] })).rejects.toThrow(MetainfoError);
    // The peer cannot announce to a WebSocket tracker, so it may not name one anywhere.
    await expect(createTorrent(file, { announce: ANNOUNCE, announceList: [['wss://tracker.example/announce']] })).rejects.toThrow(
      /announce-list URL "wss:\/\/tracker.example\/announce" uses wss:, which shoal cannot announce to/,
    );
    for (const pieceLength of [0, -16384, 16 * KiB + 1, 8 * KiB, 32 * MiB, 1.5, NaN]) {
      await expect(createTorrent(file, { announce: ANNOUNCE, pieceLength })).rejects.toThrow(/power of two/);
    }
  });
});

describe('parseMetainfo validation', () => {
  test('the info hash is taken from the raw bytes of a non-canonical info dictionary', () => {
    const pieces = Buffer.alloc(20, 9);
    // Keys out of order, plus a key we do not know: re-encoding would change the bytes.
    const rawInfo = Buffer.concat([
      Buffer.from('d4:name5:x.txt12:piece lengthi16384e6:lengthi5e6:pieces20:'),
      pieces,
      Buffer.from('7:privatei1e1:zi0ee'),
    ]);
    const file = Buffer.concat([Buffer.from('d7:comment2:hi4:info'), rawInfo, Buffer.from('8:announce5:url:/e')]);
    const meta = parseMetainfo(file);
    expect(meta.infoBytes).toEqual(rawInfo);
    expect(meta.infoHash).toEqual(sha1(rawInfo));
    const reencoded = encodeBencode(decodeBencode(rawInfo) as never);
    expect(reencoded).not.toEqual(rawInfo);
    expect(meta.infoHash).not.toEqual(sha1(reencoded));
    expect(meta.private).toBe(true);
    expect(meta.name).toBe('x.txt');
    expect(meta.totalLength).toBe(5);
    expect(pieceHash(meta, 0)).toEqual(pieces);
  });

  test('the result does not change when the caller reuses its buffer', () => {
    const bytes = torrent();
    const meta = parseMetainfo(bytes);
    const hash = Buffer.from(meta.pieceHashes);
    bytes.fill(0);
    expect(meta.pieceHashes).toEqual(hash);
    expect(sha1(meta.infoBytes)).toEqual(meta.infoHash);
  });

  test('pieceHash refuses indexes out of range', () => {
    const meta = parseMetainfo(torrent());
    expect(meta.pieceCount).toBe(2);
    expect(() => pieceHash(meta, 2)).toThrow(RangeError);
    expect(() => pieceHash(meta, -1)).toThrow(RangeError);
    expect(() => pieceHash(meta, 0.5)).toThrow(RangeError);
  });

  test('a torrent of zero bytes with zero pieces is accepted', () => {
    const meta = parseMetainfo(torrent({ length: 0, pieces: Buffer.alloc(0) }));
    expect(meta.totalLength).toBe(0);
    expect(meta.pieceCount).toBe(0);
  });

  test.each([
    ['..'],
    ['.'],
    [''],
    ['/etc/passwd'],
    ['a/b'],
    ['a\\b'],
    ['..\\..\\x'],
    ['C:evil'],
    ['nul\0byte'],
  ])('refuses the unsafe name %j', (name) => {
    expect(metainfoError(torrent({ name })).reason).toMatch(/info "name".*unsafe/);
  });

  test.each([
    [['..', 'x']],
    [['a', '..']],
    [['', 'x']],
    [['x', '']],
    [['x', '.']],
    [['/abs']],
    [['a', '/etc/passwd']],
    [['a/b']],
    [['a\\..\\b']],
    [['D:x']],
    [['a\0']],
  ])('refuses the unsafe path %j', (components) => {
    expect(metainfoError(multiFile([components])).reason).toMatch(/path component.*unsafe/);
  });

  test('pad files (BEP 47) are flagged and may share a path, as libtorrent names them by length; other files may not', () => {
    const hybrid = torrent({
      length: undefined,
      files: [
        { length: 10_000, path: ['a.bin'] },
        { length: 6384, path: ['.pad', '6384'], attr: 'p' },
        { length: 10_000, path: ['b.bin'], attr: 'x' },
        { length: 6384, path: ['.pad', '6384'], attr: 'p' },
      ],
      pieces: Buffer.alloc(40, 1),
    });
    const meta = parseMetainfo(hybrid);
    expect(meta.files.map((f) => [f.path.join('/'), f.pad, f.offset])).toEqual([
      ['a.bin', false, 0],
      ['.pad/6384', true, 10_000],
      ['b.bin', false, 16_384],
      ['.pad/6384', true, 26_384],
    ]);
    expect(meta.totalLength).toBe(32 * KiB);
    const twice = torrent({
      length: undefined,
      files: [
        { length: 1, path: ['.pad', '1'], attr: 'p' },
        { length: 1, path: ['.pad', '1'] },
        { length: 1, path: ['.pad', '1'], attr: 'x' },
      ],
      pieces: Buffer.alloc(20, 1),
    });
    expect(metainfoError(twice).reason).toMatch(/file 3 path ".pad\/1" collides/);
  });

  test.each([
    ['an empty path', multiFile([[]]), /"path" is empty/],
    ['a path that is not a list', multiFile(['a']), /"path" is missing or not a list/],
    ['a path component that is not a string', multiFile([['a', 1]]), /not a string/],
    ['two files with the same path', multiFile([['a'], ['a']]), /collides/],
    ['a file that is also a folder', multiFile([['a'], ['a', 'b']]), /needs "a" as a folder/],
    ['a folder that is also a file', multiFile([['a', 'b'], ['a']]), /collides/],
    ['no files', torrent({ length: undefined, files: [], pieces: Buffer.alloc(0) }), /"files" is empty/],
    ['files not a list', torrent({ length: undefined, files: 3 }), /"files" is not a list/],
    ['a file entry not a dictionary', torrent({ length: undefined, files: ['x'] }), /not a dictionary/],
    ['a file length missing', torrent({ length: undefined, files: [{ path: ['a'] }] }), /"length" is missing/],
    ['a negative file length', multiFile([['a']], [-1]), /negative/],
    ['both length and files', torrent({ files: [{ length: 1, path: ['a'] }] }), /both "length" and "files"/],
    ['neither length nor files', torrent({ length: undefined }), /neither "length" nor "files"/],
    ['a negative length', torrent({ length: -5 }), /negative/],
    ['a length that is a string', torrent({ length: '5' }), /"length" is missing or not an integer/],
    ['a name that is an integer', torrent({ name: 5 }), /"name" is missing or not a string/],
    ['a missing name', torrent({ name: undefined }), /"name" is missing/],
    ['a piece length of zero', torrent({ 'piece length': 0 }), /must be positive/],
    ['a negative piece length', torrent({ 'piece length': -16384 }), /must be positive/],
    ['a piece length that is a string', torrent({ 'piece length': '16384' }), /"piece length" is missing or not an integer/],
    ['pieces that are an integer', torrent({ pieces: 5 }), /"pieces" is missing or not a byte string/],
    ['a v2-only torrent', torrent({ pieces: undefined, 'meta version': 2, 'file tree': {} }), /v2-only torrent \(BEP 52/],
    ['pieces not a multiple of 20', torrent({ pieces: Buffer.alloc(30) }), /not a multiple of 20/],
    ['too few pieces', torrent({ pieces: Buffer.alloc(20) }), /holds 1 hashes .* need 2/],
    ['too many pieces', torrent({ pieces: Buffer.alloc(60) }), /holds 3 hashes .* need 2/],
    ['pieces for an empty torrent', torrent({ length: 0, pieces: Buffer.alloc(20) }), /need 0/],
    ['a file total beyond safe integers', multiFile([['a'], ['b']], [2 ** 52, 2 ** 52]), /too large/],
    ['a missing info', encodeBencode({ announce: ANNOUNCE }), /"info" dictionary is missing/],
    ['an info that is a list', encodeBencode({ info: [] }), /"info" is not a dictionary/],
    ['an info that is a string', encodeBencode({ info: 'x' }), /"info" is not a dictionary/],
    ['a top level that is a list', encodeBencode([1, 2]), /top level is not a dictionary/],
    ['an announce that is an integer', torrent({}, { announce: 5 }), /"announce" is not a string/],
    ['an announce-list that is a string', torrent({}, { 'announce-list': 'x' }), /"announce-list" is not a list/],
    ['an announce-list tier that is a string', torrent({}, { 'announce-list': ['x'] }), /tier 1 is not a list/],
    ['an announce-list URL that is a list', torrent({}, { 'announce-list': [[[]]] }), /tier 1 entry 1 is not a string/],
    ['bytes that are not bencode', Buffer.from('<html>not a torrent</html>'), /not a \.torrent file/],
    ['an empty file', Buffer.alloc(0), /not a \.torrent file/],
  ])('refuses %s with a reason', (_, bytes, reason) => {
    expect(metainfoError(bytes).reason).toMatch(reason);
  });

  test('a path of 20 000 components is refused at once (the folder check was quadratic: 8 s here)', () => {
    const deep = multiFile([new Array(20_000).fill('a')]);
    expect(metainfoError(deep).reason).toMatch(`longer than ${settings.maxFilePathBytes} bytes`);
  });

  test('many deep paths within the limits are accepted, their folders checked once each', () => {
    // 100 files 2000 folders deep: the old check joined every prefix of every path (4e8 characters).
    const paths = Array.from({ length: 100 }, (_, i) => [...new Array<string>(2000).fill('d'), `f${i}`]);
    const meta = parseMetainfo(multiFile(paths, paths.map((_, i) => (i === 0 ? 1 : 0))));
    expect(meta.files).toHaveLength(100);
  });

  test.each([
    ['a name over maxFileNameBytes', multiFile([['x'.repeat(settings.maxFileNameBytes + 1)]]), `longer than ${settings.maxFileNameBytes} bytes`],
    ['a name of three-byte characters over maxFileNameBytes', multiFile([['\u20ac'.repeat(Math.floor(settings.maxFileNameBytes / 3) + 1)]]), `longer than ${settings.maxFileNameBytes} bytes`],
    ['a path over maxFilePathBytes', multiFile([new Array(Math.ceil(settings.maxFilePathBytes / 100) + 1).fill('y'.repeat(99))]), `longer than ${settings.maxFilePathBytes} bytes`],
  ])('refuses %s, which no file system could hold', (_, bytes, reason) => {
    expect(metainfoError(bytes).reason).toMatch(reason);
  });

  test('ignores informational fields of the wrong type', () => {
    const meta = parseMetainfo(torrent({}, { comment: 5, 'created by': [], 'creation date': 'yesterday' }));
    expect(meta.comment).toBeUndefined();
    expect(meta.createdBy).toBeUndefined();
    expect(meta.creationDate).toBeUndefined();
  });

  test('every truncation of a valid torrent gives a MetainfoError', () => {
    const bytes = torrent({}, { comment: 'truncate me', 'announce-list': [[ANNOUNCE]] });
    expect(() => parseMetainfo(bytes)).not.toThrow();
    for (let end = 0; end < bytes.length; end++) {
      expect(metainfoError(bytes.subarray(0, end))).toBeInstanceOf(MetainfoError);
    }
  });

  test('random corruption gives a Metainfo or a MetainfoError, never another exception', () => {
    const bytes = multiFile([['a', 'b'], ['c']], [3, 4]);
    const noise = content(4 * 3000, 99);
    for (let round = 0; round < 3000; round++) {
      const copy = Buffer.from(bytes);
      const at = noise.readUInt16LE(round * 4) % copy.length;
      copy[at] = noise[round * 4 + 2];
      try {
        parseMetainfo(copy);
      } catch (err) {
        expect(err).toBeInstanceOf(MetainfoError);
      }
    }
  });
});

describe('setAnnounce', () => {
  test('rewrites announce, drops announce-list, and keeps the info bytes and other fields', () => {
    const rawInfo = Buffer.concat([
      Buffer.from('d6:lengthi5e4:name5:x.txt6:pieces20:'),
      Buffer.alloc(20, 3),
      Buffer.from('12:piece lengthi16384e1:ai1ee'),
    ]);
    // Top-level keys unsorted too, and an unknown field that must survive.
    const original = Buffer.concat([
      Buffer.from('d4:info'),
      rawInfo,
      Buffer.from('8:announce9:http://a/13:announce-listll9:http://a/ee7:comment3:abc6:x-datai7ee'),
    ]);
    const before = parseMetainfo(original);
    const rewritten = setAnnounce(original, 'http://192.168.1.10:6881/announce');
    const after = parseMetainfo(rewritten);
    expect(after.infoBytes).toEqual(rawInfo);
    expect(after.infoHash).toEqual(before.infoHash);
    expect(after.announce).toBe('http://192.168.1.10:6881/announce');
    expect(after.announceList).toEqual([]);
    expect(after.comment).toBe('abc');
    const top = decodeBencode(rewritten);
    expect(isDict(top)).toBe(true);
    expect(Object.keys(top as BencodeDict)).toEqual(['announce', 'comment', 'info', 'x-data']);
  });

  test('keeps the announce-list, or replaces it with new tiers, when asked', () => {
    const original = torrent({}, { 'announce-list': [['http://a/announce'], ['udp://b:1/announce']] });
    const kept = parseMetainfo(setAnnounce(original, 'udp://new:6969/announce', { announceList: 'keep' }));
    expect(kept.announce).toBe('udp://new:6969/announce');
    expect(kept.announceList).toEqual([['http://a/announce'], ['udp://b:1/announce']]);
    const replaced = parseMetainfo(setAnnounce(original, 'http://x/announce', { announceList: [['http://x/announce'], ['udp://y:2']] }));
    expect(replaced.announceList).toEqual([['http://x/announce'], ['udp://y:2']]);
    expect(replaced.infoHash).toEqual(parseMetainfo(original).infoHash);
    expect(parseMetainfo(setAnnounce(original, 'http://x/announce', { announceList: [] })).announceList).toEqual([]);
  });

  test('adds announce to a torrent that had none', () => {
    const original = torrent({}, { announce: undefined });
    expect(parseMetainfo(original).announce).toBeUndefined();
    const after = parseMetainfo(setAnnounce(original, ANNOUNCE));
    expect(after.announce).toBe(ANNOUNCE);
    expect(after.infoHash).toEqual(parseMetainfo(original).infoHash);
  });

  test('refuses a bad URL and a corrupt torrent with MetainfoError', () => {
    expect(() => setAnnounce(torrent(), 'nonsense')).toThrow(MetainfoError);
    expect(() => setAnnounce(torrent(), 'wss://tracker.example/announce')).toThrow(/only http:\/\/, https:\/\/ or udp:\/\/ trackers are supported/);
    expect(() => setAnnounce(torrent(), ANNOUNCE, { announceList: [['wss://t/announce']] })).toThrow(/announce-list URL "wss:\/\/t\/announce" uses wss:/);
    expect(() => setAnnounce(torrent({ pieces: Buffer.alloc(21) }), ANNOUNCE)).toThrow(/multiple of 20/);
    expect(() => setAnnounce(Buffer.from('d4:info'), ANNOUNCE)).toThrow(MetainfoError);
  });
});

describe('readMetainfoFile', () => {
  test('reads a torrent file', async () => {
    const file = path.join(tmp, 'ok.torrent');
    await writeFile(file, torrent());
    expect((await readMetainfoFile(file)).name).toBe('x.bin');
  });

  test('errors name the file: missing, too large, not a file, corrupt', async () => {
    const missing = path.join(tmp, 'missing.torrent');
    await expect(readMetainfoFile(missing)).rejects.toThrow(
      expect.objectContaining({ name: 'MetainfoError', file: missing, message: expect.stringContaining('ENOENT') }),
    );
    const large = path.join(tmp, 'large.torrent');
    await writeFile(large, '');
    await truncate(large, settings.maxTorrentFileLength + 1);
    await expect(readMetainfoFile(large)).rejects.toThrow(
      expect.objectContaining({ file: large, message: expect.stringMatching(/larger than the \d+ bytes allowed/) }),
    );
    await expect(readMetainfoFile(tmp)).rejects.toThrow(expect.objectContaining({ file: tmp, reason: 'not a regular file' }));
    const corrupt = path.join(tmp, 'corrupt.torrent');
    await writeFile(corrupt, torrent({ pieces: Buffer.alloc(7) }));
    await expect(readMetainfoFile(corrupt)).rejects.toThrow(
      expect.objectContaining({ file: corrupt, message: expect.stringMatching(/corrupt\.torrent: .*multiple of 20/) }),
    );
  });
});

describe('the shipped sample', () => {
  test('torrents/age.torrent describes shareable/age.txt, piece by piece', async () => {
    const meta = await readMetainfoFile(path.join(root, 'torrents', 'age.torrent'));
    const text = await readFile(path.join(root, 'shareable', 'age.txt'));
    expect(meta.name).toBe('age.txt');
    expect(meta.multiFile).toBe(false);
    expect(meta.announce).toBe(ANNOUNCE);
    expect(meta.pieceLength).toBe(65536);
    expect(meta.pieceCount).toBeGreaterThanOrEqual(16);
    expect(meta.pieceCount).toBeLessThanOrEqual(24);
    expect(text.length).toBeGreaterThanOrEqual(1 * MiB);
    expect(text.length).toBeLessThanOrEqual(1.5 * MiB);
    expectPiecesMatch(meta, text);
    const hashes = new Set(Array.from({ length: meta.pieceCount }, (_, i) => pieceHash(meta, i).toString('hex')));
    expect(hashes.size).toBe(meta.pieceCount);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(text)).not.toThrow();
  });
});

describeWithTool(['mktorrent', 'transmission-show', 'aria2c'], 'interoperability with mktorrent, transmission-show and aria2c', () => {
  const run = (tool: string, args: string[]): string => execFileSync(tool, args, { encoding: 'utf8', stdio: 'pipe' });
  /** transmission-show 3 prints "Hash: <hex>", version 4 "Hash v1: <hex>". */
  const transmissionHash = (file: string): string => {
    const match = /^\s*Hash(?: v1)?:\s*([0-9a-fA-F]{40})\s*$/m.exec(run('transmission-show', [file]));
    if (!match) throw new Error(`no info hash in transmission-show output for ${file}`);
    return match[1].toLowerCase();
  };
  const aria2Hash = (file: string): string => {
    const match = /^Info Hash:\s*([0-9a-fA-F]{40})\s*$/m.exec(run('aria2c', ['-S', file]));
    if (!match) throw new Error(`no info hash in aria2c -S output for ${file}`);
    return match[1].toLowerCase();
  };
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-interop-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a single file: mktorrent, transmission-show, aria2c and shoal agree on the info hash', async () => {
    const source = path.join(dir, 'one.bin');
    await writeFile(source, content(150_001, 11));
    const made = path.join(dir, 'one-mktorrent.torrent');
    run('mktorrent', ['-a', ANNOUNCE, '-l', '15', '-o', made, source]);
    const meta = await readMetainfoFile(made);
    expect(meta.infoHashHex).toMatch(/^[0-9a-f]{40}$/);
    expect(transmissionHash(made)).toBe(meta.infoHashHex);
    expect(aria2Hash(made)).toBe(meta.infoHashHex);
    expect(meta.pieceLength).toBe(32 * KiB);
    expectPiecesMatch(meta, await readFile(source));
    // Our own torrent of the same file has the same info dictionary, hence the same hash.
    const ours = parseMetainfo(await createTorrent(source, { announce: ANNOUNCE, pieceLength: 32 * KiB }));
    expect(ours.infoHashHex).toBe(meta.infoHashHex);
  });

  test('a folder: file order and info hash agree with mktorrent, and the tools read our torrent', async () => {
    const folder = path.join(dir, 'set');
    // Names where sorting by whole path and by component differ ('-' and '.' sort before '/').
    const files: [string, Buffer][] = [
      ['a/b.bin', content(40_000, 12)],
      ['a-b.txt', content(1_000, 13)],
      ['a.txt', content(33_000, 14)],
      ['.hidden', content(10, 15)],
      ['z/empty', Buffer.alloc(0)],
    ];
    for (const [name, data] of files) {
      await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
      await writeFile(path.join(folder, name), data);
    }
    const made = path.join(dir, 'set-mktorrent.torrent');
    run('mktorrent', ['-a', ANNOUNCE, '-l', '15', '-o', made, folder]);
    const theirs = await readMetainfoFile(made);
    expect(transmissionHash(made)).toBe(theirs.infoHashHex);
    expect(aria2Hash(made)).toBe(theirs.infoHashHex);
    expect(theirs.multiFile).toBe(true);
    expect(theirs.files.map((f) => f.path.join('/'))).toEqual(['.hidden', 'a-b.txt', 'a.txt', 'a/b.bin', 'z/empty']);

    const oursBytes = await createTorrent(folder, { announce: ANNOUNCE, pieceLength: 32 * KiB });
    const ours = parseMetainfo(oursBytes);
    expect(ours.files).toEqual(theirs.files);
    expect(ours.infoHashHex).toBe(theirs.infoHashHex);
    const oursFile = path.join(dir, 'set-shoal.torrent');
    await writeFile(oursFile, oursBytes);
    expect(transmissionHash(oursFile)).toBe(ours.infoHashHex);
    expect(aria2Hash(oursFile)).toBe(ours.infoHashHex);
  });

  test('setAnnounce output is read by both tools with the same hash', async () => {
    const made = path.join(dir, 'one-mktorrent.torrent');
    const rewritten = path.join(dir, 'one-rewritten.torrent');
    await writeFile(rewritten, setAnnounce(await readFile(made), 'http://10.0.0.1:6881/announce'));
    const meta = await readMetainfoFile(rewritten);
    expect(meta.infoHashHex).toBe((await readMetainfoFile(made)).infoHashHex);
    expect(transmissionHash(rewritten)).toBe(meta.infoHashHex);
    expect(aria2Hash(rewritten)).toBe(meta.infoHashHex);
    expect(run('transmission-show', [rewritten])).toContain('http://10.0.0.1:6881/announce');
  });

  test('the shipped torrents/age.torrent is accepted by both tools with our hash', async () => {
    const file = path.join(root, 'torrents', 'age.torrent');
    const meta = await readMetainfoFile(file);
    expect(transmissionHash(file)).toBe(meta.infoHashHex);
    expect(aria2Hash(file)).toBe(meta.infoHashHex);
  });
});
