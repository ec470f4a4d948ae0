/**
 * The info dictionaries of magnet links, once fetched from peers (BEP 9), kept in
 * `cache/metadata/<info hash>.torrent` so that a restart does not fetch them again.
 *
 * The file holds the info dictionary alone, as a trackerless .torrent: the trackers come from the
 * magnet link each time, so that editing the .magnet file changes them, and the file's size is
 * bounded by the largest metadata accepted. What is read back is trusted no more than what a peer
 * sends: a file that does not parse or is not the link's torrent is removed and fetched again.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { MagnetLink } from './magnet-link.js';
import { MetainfoError, metainfoFromInfo, parseMetainfo, readTorrentFile, torrentFromInfo, type Metainfo } from './metainfo.js';
import { defaultSettings, type Settings } from './settings.js';

/** What a trackerless torrent adds around its info dictionary: `d4:info` ... `e`. */
const WRAPPING_BYTES = 'd4:infoe'.length;

export function metadataFile(cacheFolder: string, infoHashHex: string): string {
  return path.join(cacheFolder, 'metadata', `${infoHashHex}.torrent`);
}

/** Checks `info` as a .torrent's and against the link's info hash, writes it atomically, and returns its Metainfo with the link's trackers. */
export async function saveMetadata(cacheFolder: string, link: MagnetLink, info: Buffer): Promise<Metainfo> {
  const meta = metainfoFromInfo(info, link.announceList);
  if (!meta.infoHash.equals(link.infoHash)) {
    throw new MetainfoError(`the metadata is the info dictionary of ${meta.infoHashHex}, not of the magnet link's ${link.infoHashHex}`);
  }
  await writeFileAtomic(metadataFile(cacheFolder, link.infoHashHex), torrentFromInfo(info, []));
  return meta;
}

/**
 * The metadata kept for `link`, with the link's trackers, or null when there is none that can be
 * trusted; such a file is removed. No file makes it throw: at worst the metadata is fetched from
 * peers again.
 */
export async function loadMetadata(
  cacheFolder: string,
  link: MagnetLink,
  settings: Pick<Settings, 'maxMetadataSize'> = defaultSettings,
): Promise<Metainfo | null> {
  const file = metadataFile(cacheFolder, link.infoHashHex);
  try {
    const stored = parseMetainfo(await readTorrentFile(file, settings.maxMetadataSize + WRAPPING_BYTES));
    if (stored.infoHash.equals(link.infoHash)) return metainfoFromInfo(stored.infoBytes, link.announceList);
  } catch (err) {
    if (!(err instanceof MetainfoError)) throw err;
  }
  // Absent, unreadable, too large, damaged or another torrent's: a cache file is only worth
  // keeping when it can be used, and the metadata can always be fetched again.
  await rm(file, { force: true, recursive: true }).catch(() => undefined);
  return null;
}
