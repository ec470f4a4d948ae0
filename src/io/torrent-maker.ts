/**
 * Making .torrent files (BEP 3, with BEP 12 announce lists) from a file or a folder, and
 * re-pointing one at another tracker. Reading and validating them is metainfo.ts, whose
 * MetainfoError reports what cannot be made too.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, open, opendir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { decodeBencodeWithSpans, encodeBencode, type BencodeInput } from './bencode.js';
import { MetainfoError, parseMetainfo, unsafeComponentReason } from './metainfo.js';
import { KiB, MiB, defaultSettings } from './settings.js';
import { systemReason } from './system-error.js';

/**
 * Bounds of a piece length given with --piece-length. Below 16 KiB a piece is smaller than one
 * request block and libtorrent refuses it; above 16 MiB one piece would take a large share of
 * the shared-memory slab that holds pieces in flight.
 */
export const minCreatePieceLength = 16 * KiB;
export const maxCreatePieceLength = 16 * MiB;
/**
 * The default piece length: the smallest power of two from minDefaultPieceLength (256 KiB)
 * up that gives at most targetMaxPieceCount (2000) pieces, and never more than
 * maxCreatePieceLength (16 MiB; past 2000 x 16 MiB, about 31 GiB, the count grows beyond the
 * target instead). So up to 500 MiB gives 256 KiB pieces and larger sources 1000 to 2000
 * pieces, the range mainstream creators aim for; 256 KiB is mktorrent's own default. Smaller
 * pieces would only make the .torrent, the bitfields and the have messages bigger.
 */
export const minDefaultPieceLength = 256 * KiB;
export const targetMaxPieceCount = 2000;

/**
 * The tracker URL schemes the peer can announce to (see announce-client.ts: HTTP, and UDP as BEP
 * 15 says), the only ones a .torrent we make or re-point may name. Adding a kind of tracker means
 * adding it here.
 */
export const supportedTrackerSchemes: readonly string[] = ['http:', 'https:', 'udp:'];

/** The supported schemes as people write them: "http:// or https://". */
export function supportedTrackerPrefixes(): string {
  const prefixes = supportedTrackerSchemes.map((scheme) => `${scheme}//`);
  return prefixes.length === 1 ? prefixes[0] : `${prefixes.slice(0, -1).join(', ')} or ${prefixes.at(-1)}`;
}

export interface CreateTorrentOptions {
  announce: string;
  /** A power of two between minCreatePieceLength and maxCreatePieceLength; defaultPieceLength of the size when absent. */
  pieceLength?: number;
  announceList?: string[][];
  comment?: string;
  /** Defaults to settings.clientName. */
  createdBy?: string;
}

/** A file of a folder being made into a torrent. */
interface SourceFile {
  components: string[];
  absolute: string;
  length: number;
}

/** Refuses a URL the peer could not announce to, saying which kinds it can. */
export function checkTrackerUrl(url: string, where: string): void {
  const supported = supportedTrackerPrefixes();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MetainfoError(`${where} ${JSON.stringify(url)} is not a valid URL; give a tracker URL starting with ${supported}`);
  }
  if (!supportedTrackerSchemes.includes(parsed.protocol)) {
    throw new MetainfoError(
      `${where} ${JSON.stringify(url)} uses ${parsed.protocol}, which shoal cannot announce to; ` +
        `only ${supported} trackers are supported`,
    );
  }
  // The URL parser refuses an http(s) URL without a host, but not one of other schemes
  // (udp:///x parses); port 0 parses everywhere and can never be reached.
  if (parsed.hostname === '' || parsed.port === '0') {
    throw new MetainfoError(`${where} ${JSON.stringify(url)} names no host and port a tracker can listen on`);
  }
  // http and https have default ports; a UDP tracker has none (BEP 15).
  if (parsed.protocol === 'udp:' && parsed.port === '') {
    throw new MetainfoError(`${where} ${JSON.stringify(url)} names no port; a udp:// tracker URL needs one, as in udp://host:6969/announce`);
  }
}

/** See minDefaultPieceLength for the rule. */
export function defaultPieceLength(totalLength: number): number {
  let length = minDefaultPieceLength;
  while (length < maxCreatePieceLength && Math.ceil(totalLength / length) > targetMaxPieceCount) length *= 2;
  return length;
}

function checkPieceLength(length: number): void {
  const powerOfTwo = Number.isSafeInteger(length) && length > 0 && (length & (length - 1)) === 0;
  if (!powerOfTwo || length < minCreatePieceLength || length > maxCreatePieceLength) {
    throw new MetainfoError(
      `piece length ${length} must be a power of two from ${minCreatePieceLength} to ${maxCreatePieceLength} bytes`,
    );
  }
}

/** Files under `folder`, recursively, sorted by their relative path's bytes. */
async function listFolder(folder: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (dir: string, prefix: string[]): Promise<void> => {
    for await (const entry of await opendir(dir)) {
      const absolute = path.join(dir, entry.name);
      const components = [...prefix, entry.name];
      const shown = path.join(folder, ...components);
      // Node decodes names as UTF-8 and replaces what is not; such a file could not be
      // opened again under the decoded name, nor named the same way by other clients.
      if (entry.name.includes('\uFFFD')) throw new MetainfoError('the file name is not valid UTF-8; rename it', shown);
      const reason = unsafeComponentReason(entry.name);
      if (reason !== undefined) throw new MetainfoError(`the file name ${reason}; rename it`, shown);
      const info = await lstat(absolute);
      if (info.isDirectory()) {
        await walk(absolute, components);
      } else if (info.isFile()) {
        out.push({ components, absolute, length: info.size });
      } else if (info.isSymbolicLink()) {
        // A downloader would get a regular file where we have a link, and a link can point
        // outside the folder: what is shared must be exactly what is in it.
        throw new MetainfoError('is a symbolic link; replace it with the file it points to or move it out', shown);
      } else {
        throw new MetainfoError('is not a regular file (a device, socket or FIFO); move it out of the folder', shown);
      }
    }
  };
  await walk(folder, []);
  // Sorting by the bytes of the whole '/'-joined path matches what mktorrent writes, so the
  // same folder and piece length give the same info hash with either tool.
  const keyed = out.map((f) => ({ f, key: Buffer.from(f.components.join('/'), 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map(({ f }) => f);
}

/**
 * Hashes the files as one byte stream cut into pieces, reading each file in turn straight into
 * a single piece buffer, so memory stays at one piece whatever the size of the source.
 */
async function hashPieces(files: SourceFile[], pieceLength: number, source: string): Promise<Buffer> {
  const hashes: Buffer[] = [];
  const piece = Buffer.alloc(pieceLength);
  let filled = 0;
  for (const file of files) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(file.absolute, 'r');
      let position = 0;
      while (position < file.length) {
        const wanted = Math.min(pieceLength - filled, file.length - position);
        const { bytesRead } = await handle.read(piece, filled, wanted, position);
        if (bytesRead === 0) {
          throw new MetainfoError('became shorter while it was hashed; try again once it no longer changes', file.absolute);
        }
        position += bytesRead;
        filled += bytesRead;
        if (filled === pieceLength) {
          hashes.push(createHash('sha1').update(piece).digest());
          filled = 0;
        }
      }
    } catch (err) {
      if (err instanceof MetainfoError) throw err;
      throw new MetainfoError(`cannot read ${file.absolute}: ${systemReason(err)}`, source, { cause: err });
    } finally {
      await handle?.close();
    }
  }
  if (filled > 0) hashes.push(createHash('sha1').update(piece.subarray(0, filled)).digest());
  return Buffer.concat(hashes);
}

/** Makes a .torrent of a file or a folder (recursively) and returns its bytes. */
export async function createTorrent(sourcePath: string, options: CreateTorrentOptions): Promise<Buffer> {
  checkTrackerUrl(options.announce, 'announce URL');
  for (const tier of options.announceList ?? []) for (const url of tier) checkTrackerUrl(url, 'announce-list URL');
  if (options.pieceLength !== undefined) checkPieceLength(options.pieceLength);

  const absolute = path.resolve(sourcePath);
  const name = path.basename(absolute);
  const reason = unsafeComponentReason(name);
  if (reason !== undefined) throw new MetainfoError(`cannot be shared under its name, which ${reason}`, sourcePath);

  let info: Stats;
  try {
    // The source itself was named by the user, so a link to it is followed; links inside a
    // folder are refused by listFolder.
    info = await stat(absolute);
  } catch (err) {
    throw new MetainfoError(`cannot read: ${systemReason(err)}`, sourcePath, { cause: err });
  }

  let files: SourceFile[];
  if (info.isFile()) {
    files = [{ components: [], absolute, length: info.size }];
  } else if (info.isDirectory()) {
    try {
      files = await listFolder(absolute);
    } catch (err) {
      if (err instanceof MetainfoError) throw err;
      throw new MetainfoError(`cannot list the folder: ${systemReason(err)}`, sourcePath, { cause: err });
    }
    if (files.length === 0) throw new MetainfoError('the folder holds no files; a torrent needs at least one', sourcePath);
  } else {
    throw new MetainfoError('is neither a regular file nor a folder', sourcePath);
  }

  const totalLength = files.reduce((sum, f) => sum + f.length, 0);
  const pieceLength = options.pieceLength ?? defaultPieceLength(totalLength);
  const pieces = await hashPieces(files, pieceLength, sourcePath);

  const infoDict: { [key: string]: BencodeInput } = { name, 'piece length': pieceLength, pieces };
  if (info.isFile()) infoDict['length'] = totalLength;
  else infoDict['files'] = files.map((f) => ({ length: f.length, path: f.components }));

  const announceList = options.announceList?.filter((tier) => tier.length > 0);
  return encodeBencode({
    announce: options.announce,
    'announce-list': announceList !== undefined && announceList.length > 0 ? announceList : undefined,
    comment: options.comment,
    'created by': options.createdBy ?? defaultSettings.clientName,
    'creation date': Math.floor(Date.now() / 1000),
    info: infoDict,
  });
}

/** What setAnnounce does with `announce-list`. */
export interface SetAnnounceOptions {
  /**
   * 'drop' (the default): no list is left, only `announce`. 'keep': the list stays as it is (BEP
   * 12 clients, shoal among them, keep using it; the new `announce` serves the others). A list of
   * tiers: that list replaces the old one.
   */
  announceList?: 'drop' | 'keep' | string[][];
}

/**
 * Points a .torrent at another tracker. The info dictionary and every other top-level value are
 * copied byte for byte from their spans, never re-encoded, so the info hash stays the same even
 * for a torrent whose info dictionary is not in canonical form.
 *
 * By default `announce-list` is dropped rather than set to [[url]]: BEP 12 clients use the list
 * instead of `announce` when there is one, so an old list would silently override the new URL,
 * and a list holding just the URL would repeat `announce` for nothing. `options.announceList`
 * keeps the old list or sets a new one instead.
 */
export function setAnnounce(torrent: Buffer, url: string, options: SetAnnounceOptions = {}): Buffer {
  checkTrackerUrl(url, 'announce URL');
  const list = options.announceList ?? 'drop';
  if (Array.isArray(list)) for (const tier of list) for (const entry of tier) checkTrackerUrl(entry, 'announce-list URL');
  // Validating first means a damaged .torrent is reported as such instead of being rewritten.
  parseMetainfo(torrent);
  const { spans } = decodeBencodeWithSpans(torrent);
  const values = new Map<string, Buffer>();
  for (const [key, [start, end]] of spans) values.set(key, torrent.subarray(start, end));
  if (list === 'drop') values.delete('announce-list');
  else if (Array.isArray(list)) {
    const tiers = list.filter((tier) => tier.length > 0);
    if (tiers.length > 0) values.set('announce-list', encodeBencode(tiers));
    else values.delete('announce-list');
  }
  values.set('announce', encodeBencode(url));

  const keys = [...values.keys()]
    .map((key) => ({ key, bytes: Buffer.from(key, 'latin1') }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const parts: Buffer[] = [Buffer.from('d', 'latin1')];
  for (const { key, bytes } of keys) {
    parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes, values.get(key) as Buffer);
  }
  parts.push(Buffer.from('e', 'latin1'));
  return Buffer.concat(parts);
}
