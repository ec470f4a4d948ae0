/**
 * .torrent metainfo (BEP 3, with BEP 12 announce lists): reading, validating, creating and
 * re-pointing at another tracker.
 *
 * A .torrent comes from anyone, so every field that decides what is written to disk is checked
 * here, once, and everything past this module can trust a Metainfo: lengths and counts agree,
 * and every path component is a plain file name that cannot leave the download folder.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, open, opendir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import {
  BencodeError,
  asBytes,
  asInteger,
  asList,
  asText,
  decodeBencodeWithSpans,
  encodeBencode,
  isDict,
  type BencodeDict,
  type BencodeInput,
  type BencodeValue,
} from './bencode.js';
import { KiB, MiB, defaultSettings } from './settings.js';

/** Bytes of one SHA-1 piece hash in `pieces`. */
const HASH_LENGTH = 20;
/**
 * Bounds of the piece length we create. Below 16 KiB a piece is smaller than one request
 * block and libtorrent refuses it; above 16 MiB one piece would take a large share of the
 * shared-memory slab that holds pieces in flight.
 */
export const minCreatePieceLength = 16 * KiB;
export const maxCreatePieceLength = 16 * MiB;
/** The default piece length is the smallest power of two giving at most this many pieces. */
export const targetMaxPieceCount = 2000;

export interface TorrentFile {
  /** Path components below the torrent's name; empty for a single-file torrent. */
  path: string[];
  length: number;
  /** Where the file starts in the torrent's byte stream (the concatenation of all files). */
  offset: number;
  /**
   * A pad file (BEP 47, `attr` holding "p"): zeros that align the next file to a piece, as
   * libtorrent 2 and qBittorrent put in every hybrid v1/v2 torrent. It is part of the pieces but
   * never of the disk: nothing is written for it, and it reads as zeros.
   */
  pad: boolean;
}

export interface Metainfo {
  announce?: string;
  /** BEP 12 tiers; empty when the torrent has none. */
  announceList: string[][];
  /** SHA-1 of the info dictionary's bytes as they stand in the file. */
  infoHash: Buffer;
  infoHashHex: string;
  name: string;
  pieceLength: number;
  /** The concatenated 20-byte SHA-1 hashes, one per piece. */
  pieceHashes: Buffer;
  pieceCount: number;
  totalLength: number;
  files: TorrentFile[];
  multiFile: boolean;
  private: boolean;
  comment?: string;
  createdBy?: string;
  /** Seconds since the Unix epoch. */
  creationDate?: number;
  /** The info dictionary exactly as it stands in the file; infoHash is its SHA-1. */
  infoBytes: Buffer;
}

/** A .torrent that cannot be used, or a torrent that cannot be made, and why. */
export class MetainfoError extends Error {
  constructor(
    readonly reason: string,
    /** The .torrent file or the source being made into one, when there is one. */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(file === undefined ? reason : `${file}: ${reason}`, options);
    this.name = 'MetainfoError';
  }
}

/** Relative on-disk path components of a file of the torrent: the name comes first. */
export function filePath(meta: Metainfo, file: TorrentFile): string[] {
  return meta.multiFile ? [meta.name, ...file.path] : [meta.name];
}

export function pieceHash(meta: Metainfo, index: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index >= meta.pieceCount) {
    throw new RangeError(`piece ${index} is out of range (the torrent has ${meta.pieceCount} pieces)`);
  }
  return meta.pieceHashes.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
}

/**
 * Why `component` (a file or folder name from a torrent) is unsafe to use on disk, or
 * undefined when it is a plain name. Separators are refused outright, so no component can be
 * absolute or climb out; a drive prefix such as `C:` would be resolved against a drive on Windows.
 */
function unsafeComponentReason(component: string): string | undefined {
  if (component.length === 0) return 'is empty';
  if (component === '.' || component === '..') return `is "${component}"`;
  if (component.includes('/') || component.includes('\\')) return 'contains a path separator';
  if (component.includes('\0')) return 'contains a NUL character';
  if (/^[A-Za-z]:/.test(component)) return 'starts with a drive letter';
  if (Buffer.byteLength(component, 'utf8') > defaultSettings.maxFileNameBytes) return `is longer than ${defaultSettings.maxFileNameBytes} bytes, more than file systems allow`;
  return undefined;
}

/** `text` for an error message, cut short when a hostile torrent made it long. */
function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

function checkComponent(component: string, where: string): void {
  const reason = unsafeComponentReason(component);
  if (reason !== undefined) {
    throw new MetainfoError(`${where} ${shown(component)} ${reason}; refusing an unsafe file name`);
  }
}

function requireNonNegativeLength(value: BencodeValue | undefined, where: string): number {
  const n = asInteger(value);
  if (n === undefined) throw new MetainfoError(`${where} is missing or not an integer`);
  if (n < 0) throw new MetainfoError(`${where} is negative (${n})`);
  return n;
}

function optionalText(dict: BencodeDict, key: string): string | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  const text = asText(value);
  if (text === undefined) throw new MetainfoError(`"${key}" is not a string`);
  return text;
}

function parseAnnounceList(value: BencodeValue | undefined): string[][] {
  if (value === undefined) return [];
  const tiers = asList(value);
  if (tiers === undefined) throw new MetainfoError('"announce-list" is not a list of tiers');
  const out: string[][] = [];
  for (const [i, tierValue] of tiers.entries()) {
    const tier = asList(tierValue);
    if (tier === undefined) throw new MetainfoError(`"announce-list" tier ${i + 1} is not a list`);
    const urls = tier.map((url, j) => {
      const text = asText(url);
      if (text === undefined) throw new MetainfoError(`"announce-list" tier ${i + 1} entry ${j + 1} is not a string`);
      return text;
    });
    // An empty tier says nothing, and some creators write one; keeping it would only give
    // every reader a case to skip.
    if (urls.length > 0) out.push(urls);
  }
  return out;
}

/** A folder of the torrent's tree, by entry name; null stands for a file. */
type TreeFolder = Map<string, TreeFolder | null>;

/** BEP 47: a file's `attr` is a string of flags, "p" for padding; anything else there is ignored. */
function isPadFile(attr: BencodeValue | undefined): boolean {
  const flags = attr === undefined ? undefined : asText(attr);
  return flags !== undefined && flags.includes('p');
}

/**
 * Checks that a file of the torrent can be stored at `parts` below the torrent's folder: within
 * the path length, and not where another file is or where another one needs a folder. Records it
 * in the tree of paths seen so far.
 */
function claimPath(root: TreeFolder, parts: string[], nameBytes: number, where: string): void {
  const joined = parts.join('/');
  if (nameBytes + 1 + Buffer.byteLength(joined, 'utf8') > defaultSettings.maxFilePathBytes) {
    throw new MetainfoError(`${where} path ${shown(joined)} is longer than ${defaultSettings.maxFilePathBytes} bytes with the torrent's name, more than file systems allow`);
  }
  // Two entries for one path, or a file where another entry needs a folder, cannot both be
  // stored; undecodable names collapse to U+FFFD, so this also catches names that only
  // differed in invalid bytes.
  let folder = root;
  for (let k = 0; k < parts.length - 1; k++) {
    const next = folder.get(parts[k]);
    if (next === null) {
      throw new MetainfoError(`${where} path ${shown(joined)} needs ${shown(parts.slice(0, k + 1).join('/'))} as a folder, but it is a file`);
    }
    if (next !== undefined) {
      folder = next;
    } else {
      const created: TreeFolder = new Map();
      folder.set(parts[k], created);
      folder = created;
    }
  }
  const last = parts[parts.length - 1];
  if (folder.has(last)) throw new MetainfoError(`${where} path ${shown(joined)} collides with another file of the torrent`);
  folder.set(last, null);
}

function parseFiles(value: BencodeValue, name: string): TorrentFile[] {
  const list = asList(value);
  if (list === undefined) throw new MetainfoError('info "files" is not a list');
  if (list.length === 0) throw new MetainfoError('info "files" is empty: a multi-file torrent needs at least one file');
  const files: TorrentFile[] = [];
  // Each path is walked down this tree once, so that checking every file against every other
  // costs one step per component; joining every prefix of every path cost hours for one
  // .torrent of a few MiB.
  const root: TreeFolder = new Map();
  const nameBytes = Buffer.byteLength(name, 'utf8');
  let offset = 0;
  for (const [i, entry] of list.entries()) {
    const where = `file ${i + 1}`;
    if (!isDict(entry)) throw new MetainfoError(`${where} of info "files" is not a dictionary`);
    const length = requireNonNegativeLength(entry['length'], `${where} "length"`);
    const components = asList(entry['path']);
    if (components === undefined) throw new MetainfoError(`${where} "path" is missing or not a list`);
    if (components.length === 0) throw new MetainfoError(`${where} "path" is empty`);
    const parts = components.map((c) => {
      const text = asText(c);
      if (text === undefined) throw new MetainfoError(`${where} "path" has a component that is not a string`);
      checkComponent(text, `${where} path component`);
      return text;
    });
    const pad = isPadFile(entry['attr']);
    // A pad file is never stored, so its path may repeat: libtorrent names them by their length.
    if (!pad) claimPath(root, parts, nameBytes, where);
    files.push({ path: parts, length, offset, pad });
    offset += length;
    if (!Number.isSafeInteger(offset)) throw new MetainfoError('the total length of the files is too large');
  }
  return files;
}

/** Parses and validates a .torrent; throws MetainfoError, naming the field, for anything unusable. */
export function parseMetainfo(data: Uint8Array): Metainfo {
  // One private copy: the Buffers handed out (info bytes, piece hashes) are views into it and
  // must not change if the caller reuses its buffer.
  const bytes = Buffer.from(data);
  let root: BencodeValue;
  let spans: Map<string, [number, number]>;
  try {
    ({ value: root, spans } = decodeBencodeWithSpans(bytes));
  } catch (err) {
    if (err instanceof BencodeError) throw new MetainfoError(`not a .torrent file (${err.message})`, undefined, { cause: err });
    throw err;
  }
  if (!isDict(root)) throw new MetainfoError('not a .torrent file (the top level is not a dictionary)');
  const info = root['info'];
  const infoSpan = spans.get('info');
  if (info === undefined || infoSpan === undefined) throw new MetainfoError('the "info" dictionary is missing');
  if (!isDict(info)) throw new MetainfoError('"info" is not a dictionary');
  const infoBytes = bytes.subarray(infoSpan[0], infoSpan[1]);
  const infoHash = createHash('sha1').update(infoBytes).digest();

  const name = asText(info['name']);
  if (name === undefined) throw new MetainfoError('info "name" is missing or not a string');
  checkComponent(name, 'info "name"');

  const pieceLength = asInteger(info['piece length']);
  if (pieceLength === undefined) throw new MetainfoError('info "piece length" is missing or not an integer');
  if (pieceLength <= 0) throw new MetainfoError(`info "piece length" must be positive, got ${pieceLength}`);

  const pieceHashes = asBytes(info['pieces']);
  if (info['pieces'] === undefined && asInteger(info['meta version']) === 2) {
    throw new MetainfoError('this is a BitTorrent v2-only torrent (BEP 52, no v1 "pieces"); shoal reads v1 and hybrid v1 + v2 torrents');
  }
  if (pieceHashes === undefined) throw new MetainfoError('info "pieces" is missing or not a byte string');
  if (pieceHashes.length % HASH_LENGTH !== 0) {
    throw new MetainfoError(`info "pieces" is ${pieceHashes.length} bytes, not a multiple of ${HASH_LENGTH}`);
  }

  let files: TorrentFile[];
  const multiFile = info['files'] !== undefined;
  if (multiFile) {
    if (info['length'] !== undefined) throw new MetainfoError('info has both "length" and "files"; it must have one');
    files = parseFiles(info['files'], name);
  } else {
    if (info['length'] === undefined) throw new MetainfoError('info has neither "length" nor "files"');
    files = [{ path: [], length: requireNonNegativeLength(info['length'], 'info "length"'), offset: 0, pad: false }];
  }
  const last = files[files.length - 1];
  const totalLength = last.offset + last.length;

  const pieceCount = pieceHashes.length / HASH_LENGTH;
  const expected = totalLength === 0 ? 0 : Math.ceil(totalLength / pieceLength);
  if (pieceCount !== expected) {
    throw new MetainfoError(
      `info "pieces" holds ${pieceCount} hashes but ${totalLength} bytes in pieces of ${pieceLength} need ${expected}`,
    );
  }

  const announce = optionalText(root, 'announce');
  // Informational fields do not change what is downloaded, so a wrongly typed one is ignored
  // rather than making the torrent unusable.
  const comment = asText(root['comment']);
  const createdBy = asText(root['created by']);
  const creationDate = asInteger(root['creation date']);
  return {
    ...(announce !== undefined && { announce }),
    announceList: parseAnnounceList(root['announce-list']),
    infoHash,
    infoHashHex: infoHash.toString('hex'),
    name,
    pieceLength,
    pieceHashes,
    pieceCount,
    totalLength,
    files,
    multiFile,
    private: asInteger(info['private']) === 1,
    ...(comment !== undefined && { comment }),
    ...(createdBy !== undefined && { createdBy }),
    ...(creationDate !== undefined && { creationDate }),
    infoBytes,
  };
}

/** The bytes of a .torrent file, refusing what is not a regular file or is too large; errors name the file. */
export async function readTorrentFile(file: string): Promise<Buffer> {
  try {
    const handle = await open(file, 'r');
    try {
      const info = await handle.stat();
      // A FIFO or a device would have no size to check and might never end.
      if (!info.isFile()) throw new MetainfoError('not a regular file', file);
      if (info.size > defaultSettings.maxTorrentFileLength) {
        throw new MetainfoError(
          `is ${info.size} bytes, larger than the ${defaultSettings.maxTorrentFileLength} bytes allowed for a .torrent`,
          file,
        );
      }
      const data = Buffer.alloc(info.size);
      await readFully(handle, data, file);
      return data;
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof MetainfoError) throw err;
    throw new MetainfoError(`cannot read: ${systemReason(err)}`, file, { cause: err });
  }
}

/** Reads and parses a .torrent file; errors name the file. */
export async function readMetainfoFile(file: string): Promise<Metainfo> {
  const data = await readTorrentFile(file);
  try {
    return parseMetainfo(data);
  } catch (err) {
    if (err instanceof MetainfoError) throw new MetainfoError(err.reason, file, { cause: err });
    throw err;
  }
}

/**
 * The message of a system error without Node's "ENOENT: ..., open 'path'" decoration (callers
 * name the path themselves). Duck-typed, since errors from Node's realm fail `instanceof Error`
 * under jest's module sandbox.
 */
export function systemReason(err: unknown): string {
  const { code, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return String(err);
  const match = /^[A-Z]+: ([^,]+)/.exec(message);
  return typeof code === 'string' && match ? `${match[1]} (${code})` : message;
}

/** Fills `target` from the start of the file; a file shorter than that is an error. */
async function readFully(handle: FileHandle, target: Buffer, file: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, done);
    if (bytesRead === 0) throw new MetainfoError('the file became shorter while it was read', file);
    done += bytesRead;
  }
}

export interface CreateTorrentOptions {
  announce: string;
  /** A power of two between minCreatePieceLength and maxCreatePieceLength; chosen from the size when absent. */
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

function checkTrackerUrl(url: string, where: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MetainfoError(`${where} ${JSON.stringify(url)} is not a valid URL`);
  }
  if (!['http:', 'https:', 'udp:'].includes(parsed.protocol)) {
    throw new MetainfoError(`${where} ${JSON.stringify(url)} must be an http, https or udp URL`);
  }
}

/** The smallest power of two in bounds that keeps the piece count at or below the target. */
export function defaultPieceLength(totalLength: number): number {
  let length = minCreatePieceLength;
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

/**
 * Points a .torrent at another tracker. The info dictionary and every other top-level value are
 * copied byte for byte from their spans, never re-encoded, so the info hash stays the same even
 * for a torrent whose info dictionary is not in canonical form.
 *
 * `announce-list` is dropped rather than set to [[url]]: BEP 12 clients use the list instead of
 * `announce` when there is one, so an old list would silently override the new URL, and a list
 * holding just the URL would repeat `announce` for nothing.
 */
export function setAnnounce(torrent: Buffer, url: string): Buffer {
  checkTrackerUrl(url, 'announce URL');
  // Validating first means a damaged .torrent is reported as such instead of being rewritten.
  parseMetainfo(torrent);
  const { spans } = decodeBencodeWithSpans(torrent);
  const values = new Map<string, Buffer>();
  for (const [key, [start, end]] of spans) values.set(key, torrent.subarray(start, end));
  values.delete('announce-list');
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
