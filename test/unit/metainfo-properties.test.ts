/**
 * Properties of the .torrent reader (fast-check; seed and run count: test/helpers/property.ts):
 * any input gives a Metainfo that keeps the module's promises, or a MetainfoError; never another
 * exception, never an allocation beyond the input's own size.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { encodeBencode, type BencodeInput, type BencodeValue } from '../../src/io/bencode.js';
import { MetainfoError, metainfoFromInfo, parseMetainfo, torrentFromInfo, type Metainfo } from '../../src/io/metainfo.js';
import { defaultSettings as settings } from '../../src/io/settings.js';
import { allocations, mutated, propertyRuns, randomBytes } from '../helpers/property.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A plain file name. */
const plainName = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'abcdefxyz0129_- .'), minLength: 1, maxLength }).filter((name) => name !== '.' && name !== '..');

/** File and folder names, plain ones mostly, with the unsafe ones a hostile torrent would use. */
const component = fc.oneof(
  { weight: 4, arbitrary: plainName(8) },
  { weight: 1, arbitrary: fc.constantFrom('..', '.', '', 'a/b', 'a\\b', '/etc', 'C:x', 'a\0b', '\u00e9t\u00e9', '__proto__') },
);

type TorrentDict = { [key: string]: BencodeInput };

/** A torrent whose piece hashes agree with its lengths (the hashes themselves are random); at most 64 pieces. */
const validTorrent: fc.Arbitrary<TorrentDict> = fc
  .oneof(fc.constantFrom(16384, 32768, 262144), fc.integer({ min: 1, max: 100_000 }))
  .chain((pieceLength) =>
    fc.record({
      name: plainName(12),
      pieceLength: fc.constant(pieceLength),
      files: fc.option(
        fc.uniqueArray(
          fc.record({ path: fc.array(plainName(6), { minLength: 1, maxLength: 3 }), length: fc.nat(pieceLength * 12) }),
          { minLength: 1, maxLength: 5, selector: (f) => f.path[0] },
        ),
        { nil: undefined },
      ),
      length: fc.nat(pieceLength * 64),
      announce: fc.option(fc.constantFrom('http://127.0.0.1:6881/announce', 'udp://127.0.0.2:80'), { nil: undefined }),
      announceList: fc.option(fc.array(fc.array(fc.constant('http://127.0.0.3/announce'), { maxLength: 2 }), { maxLength: 2 }), { nil: undefined }),
      isPrivate: fc.boolean(),
      seed: fc.nat(),
    }),
  )
  .map(({ name, pieceLength, files, length, announce, announceList, isPrivate, seed }) => {
    const total = files === undefined ? length : files.reduce((sum, f) => sum + f.length, 0);
    const count = total === 0 ? 0 : Math.ceil(total / pieceLength);
    const pieces = Buffer.alloc(count * 20);
    for (let i = 0; i < pieces.length; i++) pieces[i] = (seed + i * 131) & 0xff;
    const info: TorrentDict = { name, 'piece length': pieceLength, pieces, ...(isPrivate && { private: 1 }) };
    if (files === undefined) info['length'] = length;
    else info['files'] = files;
    return {
      ...(announce !== undefined && { announce }),
      ...(announceList !== undefined && { 'announce-list': announceList }),
      'creation date': 1_700_000_000,
      info,
    } as TorrentDict;
  });

/** Any bencodable value, to put where a field of another type belongs. */
const anyValue: fc.Arbitrary<BencodeInput> = fc.oneof(
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 52, Number.MAX_SAFE_INTEGER),
  fc.uint8Array({ maxLength: 41 }),
  component,
  fc.array(component, { maxLength: 3 }),
  fc.constant({}),
  fc.array(fc.record({ length: fc.integer({ min: -2, max: 2 ** 52 }), path: fc.array(component, { maxLength: 3 }) }), { maxLength: 3 }),
);

const FIELDS = ['announce', 'announce-list', 'info', 'comment', 'creation date'];
const INFO_FIELDS = ['name', 'piece length', 'pieces', 'length', 'files', 'private'];

/** A field removed or replaced, at the top, in info, or in a file entry (whose path gets names, unsafe and long ones, or depth). */
const fieldChange = fc.record({
  where: fc.constantFrom('top', 'info', 'file-length', 'file-path'),
  pick: fc.nat(),
  value: fc.option(anyValue, { nil: undefined }),
  path: fc.oneof(
    fc.array(component, { minLength: 1, maxLength: 3 }),
    fc.integer({ min: 1, max: 2500 }).map((depth) => new Array<string>(depth).fill('d')),
    fc.integer({ min: 250, max: 260 }).map((length) => ['n'.repeat(length)]),
  ),
});

const isDict = (v: BencodeInput | undefined): v is TorrentDict =>
  typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

/** A valid torrent with one to three fields changed. */
const fieldMutated: fc.Arbitrary<Buffer> = fc
  .tuple(validTorrent, fc.array(fieldChange, { minLength: 1, maxLength: 3 }))
  .map(([generated, changes]) => {
    // Generated values are shared with fast-check's shrinking, so the changes go to copies.
    const torrent = structuredClone(generated);
    for (const { where, pick, path, ...change } of changes) {
      const value = structuredClone(change.value);
      const info = isDict(torrent['info']) ? torrent['info'] : undefined;
      const files = Array.isArray(info?.['files']) ? (info['files'] as TorrentDict[]).filter(isDict) : [];
      if (where === 'top' || info === undefined) torrent[FIELDS[pick % FIELDS.length]] = value as BencodeInput;
      else if (where === 'info' || files.length === 0) info[INFO_FIELDS[pick % INFO_FIELDS.length]] = value as BencodeInput;
      else if (where === 'file-length') files[pick % files.length]['length'] = value as BencodeInput;
      else files[pick % files.length]['path'] = [...path];
    }
    return encodeBencode(torrent);
  });

const validBytes = validTorrent.map((t) => encodeBencode(t));

const hostileTokens = fc.constantFrom(
  b('2147483648:'),
  b('i9007199254740991e'),
  b('i-1e'),
  b('i0e'),
  b('l'.repeat(100)),
  b('6:lengthi9007199254740991e'),
  b('4:path2:..'),
  b('4:name0:'),
);

/** The promises a Metainfo makes to the rest of shoal. */
function checkTrusted(meta: Metainfo): void {
  expect(meta.infoHash.equals(createHash('sha1').update(meta.infoBytes).digest())).toBe(true);
  expect(meta.pieceHashes.length).toBe(meta.pieceCount * 20);
  expect(meta.pieceLength).toBeGreaterThan(0);
  expect(meta.pieceCount).toBe(meta.totalLength === 0 ? 0 : Math.ceil(meta.totalLength / meta.pieceLength));
  expect(meta.files.length).toBeGreaterThan(0);
  let offset = 0;
  for (const file of meta.files) {
    expect(file.offset).toBe(offset);
    expect(Number.isSafeInteger(file.length) && file.length >= 0).toBe(true);
    offset += file.length;
    const unsafe = [meta.name, ...file.path].filter((part) => /^(\.|\.\.|)$|[/\\\0]|^[A-Za-z]:/.test(part) || Buffer.byteLength(part) > settings.maxFileNameBytes);
    expect(unsafe).toEqual([]);
    expect(Buffer.byteLength([meta.name, ...file.path].join('/'))).toBeLessThanOrEqual(settings.maxFilePathBytes);
  }
  expect(meta.totalLength).toBe(offset);
}

function checkParse(input: Buffer): void {
  const { result, largest } = allocations(() => {
    try {
      return parseMetainfo(input);
    } catch (err) {
      if (err instanceof MetainfoError) return err;
      throw err;
    }
  });
  // One private copy of the input is the most parseMetainfo may allocate.
  expect(largest).toBeLessThanOrEqual(Math.max(input.length, 64));
  if (!(result instanceof MetainfoError)) checkTrusted(result);
}

describe('metainfo properties', () => {
  test('a valid torrent is read with every field as written', () => {
    fc.assert(
      fc.property(validTorrent, (torrent) => {
        const meta = parseMetainfo(encodeBencode(torrent));
        const info = torrent['info'] as { [key: string]: BencodeValue };
        checkTrusted(meta);
        expect(meta.name).toBe(info['name']);
        expect(meta.pieceLength).toBe(info['piece length']);
        expect(meta.pieceHashes.equals(info['pieces'] as Buffer)).toBe(true);
        expect(meta.multiFile).toBe(info['files'] !== undefined);
        expect(meta.private).toBe(info['private'] === 1);
        expect(meta.infoBytes.equals(encodeBencode(info as never))).toBe(true);
        expect(meta.announce).toBe(torrent['announce']);
      }),
      propertyRuns(300),
    );
  });

  test('random bytes give a Metainfo or a MetainfoError', () => {
    fc.assert(fc.property(randomBytes(128), checkParse), propertyRuns(500));
  });

  test('damaged valid torrents give a Metainfo that keeps its promises or a MetainfoError', () => {
    fc.assert(fc.property(mutated(validBytes, hostileTokens), checkParse), propertyRuns(1000));
  });

  test('a field removed or of another type gives a Metainfo that keeps its promises or a MetainfoError', () => {
    fc.assert(fc.property(fieldMutated, checkParse), propertyRuns(1000));
  });
});

describe('a torrent made of a magnet\'s info dictionary', () => {
  const trackers = fc.array(fc.constantFrom('http://127.0.0.1:6881/announce', 'udp://127.0.0.2:80', 'https://t.example/announce'), { maxLength: 3 }).map((urls) => urls.map((url) => [url]));

  test('keeps the info bytes, and so the info hash, and takes the trackers given', () => {
    fc.assert(
      fc.property(validBytes, trackers, (bytes, tiers) => {
        const original = parseMetainfo(bytes);
        const meta = metainfoFromInfo(original.infoBytes, tiers);
        checkTrusted(meta);
        expect(meta.infoBytes.equals(original.infoBytes)).toBe(true);
        expect(meta.infoHashHex).toBe(original.infoHashHex);
        expect(meta.announceList).toEqual(tiers);
        expect(meta.announce).toBe(tiers[0]?.[0]);
        expect(parseMetainfo(torrentFromInfo(original.infoBytes, tiers))).toEqual(meta);
      }),
      propertyRuns(200),
    );
  });

  test('info bytes that are not in canonical order are kept as they are, not re-encoded', () => {
    const info = b(`d6:pieces20:${'p'.repeat(20)}4:name1:x12:piece lengthi16384e6:lengthi5ee`);
    const torrent = torrentFromInfo(info, [['http://a.example/announce'], ['udp://b.example:1']]);
    expect(torrent.toString('latin1')).toBe(
      `d8:announce25:http://a.example/announce13:announce-listll25:http://a.example/announceel17:udp://b.example:1ee4:info${info.toString('latin1')}e`,
    );
    expect(metainfoFromInfo(info, []).infoHash).toEqual(createHash('sha1').update(info).digest());
    expect(torrentFromInfo(info, []).toString('latin1')).toBe(`d4:info${info.toString('latin1')}e`);
  });

  test('an info dictionary that is damaged or unsafe gets the checks of a .torrent file', () => {
    expect(() => metainfoFromInfo(b('i5e'), [])).toThrow('"info" is not a dictionary');
    expect(() => metainfoFromInfo(b('d4:name'), [])).toThrow(/not a \.torrent file/);
    expect(() => metainfoFromInfo(b(`d6:lengthi5e4:name2:..12:piece lengthi16384e6:pieces20:${'p'.repeat(20)}e`), [])).toThrow(/unsafe file name/);
  });
});
