/** A magnet's metadata kept in cache/: written once, read back only when it is the link's torrent. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeBencode } from '../../src/io/bencode.js';
import { parseMagnet, type MagnetLink } from '../../src/io/magnet-link.js';
import { loadMetadata, metadataFile, saveMetadata } from '../../src/io/metadata-store.js';
import { MetainfoError } from '../../src/io/metainfo.js';

const TRACKER = 'http://127.0.0.1:6881/announce';

function infoOf(name: string): Buffer {
  return encodeBencode({ name, 'piece length': 16384, length: 5, pieces: Buffer.alloc(20, 3) });
}

function linkFor(info: Buffer): MagnetLink {
  return parseMagnet(`magnet:?xt=urn:btih:${createHash('sha1').update(info).digest('hex')}&tr=${TRACKER}`);
}

const info = infoOf('data.bin');
const link = linkFor(info);

let cache: string;
beforeEach(async () => {
  cache = await mkdtemp(path.join(os.tmpdir(), 'shoal-metadata-'));
});
afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
});

describe('metadata store', () => {
  test('keeps the file at cache/metadata/<info hash>.torrent', () => {
    expect(metadataFile('/x/cache', link.infoHashHex)).toBe(path.join('/x/cache', 'metadata', `${link.infoHashHex}.torrent`));
  });

  test("what is saved is read back, with the info bytes as they came and the link's trackers", async () => {
    const saved = await saveMetadata(cache, link, info);
    expect(saved).toMatchObject({ infoHashHex: link.infoHashHex, name: 'data.bin', announce: TRACKER, announceList: [[TRACKER]] });
    // On disk: the info dictionary alone, a trackerless .torrent, and no temporary file left.
    expect(await readFile(metadataFile(cache, link.infoHashHex))).toEqual(Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]));
    expect(await readdir(path.join(cache, 'metadata'))).toEqual([`${link.infoHashHex}.torrent`]);

    // The trackers are the link's as it is now.
    const edited: MagnetLink = { ...link, announceList: [['udp://tracker.example:6969/announce']] };
    const loaded = await loadMetadata(cache, edited);
    expect(loaded?.infoBytes).toEqual(info);
    expect(loaded).toMatchObject({ infoHashHex: link.infoHashHex, announce: 'udp://tracker.example:6969/announce', announceList: edited.announceList });
  });

  test('nothing kept gives null', async () => {
    expect(await loadMetadata(cache, link)).toBeNull();
  });

  test("metadata that is not the link's, or not a usable torrent, is refused and nothing is written", async () => {
    await expect(saveMetadata(cache, link, infoOf('other.bin'))).rejects.toThrow(/the info dictionary of [0-9a-f]{40}, not of the magnet link's/);
    const unsafe = infoOf('..');
    await expect(saveMetadata(cache, linkFor(unsafe), unsafe)).rejects.toThrow(MetainfoError);
    expect(existsSync(path.join(cache, 'metadata'))).toBe(false);
  });

  test.each([
    ['a damaged file', Buffer.from('d4:infod4:name')],
    ["another torrent's file", Buffer.concat([Buffer.from('d4:info'), infoOf('other.bin'), Buffer.from('e')])],
    ['a file that is not a torrent at all', Buffer.from('hello')],
  ])('%s is treated as absent and removed', async (_what, content) => {
    const file = metadataFile(cache, link.infoHashHex);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    expect(await loadMetadata(cache, link)).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  test('a file larger than the largest metadata accepted is not read, and removed, as is a folder in its place', async () => {
    await saveMetadata(cache, link, info);
    expect(await loadMetadata(cache, link, { maxMetadataSize: info.length })).not.toBeNull();
    expect(await loadMetadata(cache, link, { maxMetadataSize: info.length - 1 })).toBeNull();
    expect(existsSync(metadataFile(cache, link.infoHashHex))).toBe(false);
    await mkdir(metadataFile(cache, link.infoHashHex));
    expect(await loadMetadata(cache, link)).toBeNull();
    expect(existsSync(metadataFile(cache, link.infoHashHex))).toBe(false);
  });
});
