/**
 * .torrent metainfo (BEP 3, with BEP 12 announce lists): reading and validating. Making a torrent
 * and re-pointing one at another tracker are in torrent-maker.ts.
 *
 * A .torrent comes from anyone, so every field that decides what is written to disk is checked
 * here, once, and everything past this module can trust a Metainfo: lengths and counts agree,
 * and every path component is a plain file name that cannot leave the download folder.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
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
  type BencodeValue,
} from './bencode.js';
import { defaultSettings } from './settings.js';
import { systemReason } from './system-error.js';

/** Bytes of one SHA-1 piece hash in `pieces`. */
const HASH_LENGTH = 20;

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
export function unsafeComponentReason(component: string): string | undefined {
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
  // The optional fields go last: V8 (Node 20) gives each object made by a literal that starts
  // with a spread a hidden class of its own, about 600 bytes more per torrent and slow reads of
  // every field, wherever a torrent's metainfo is used.
  return {
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
    infoBytes,
    ...(announce !== undefined && { announce }),
    ...(comment !== undefined && { comment }),
    ...(createdBy !== undefined && { createdBy }),
    ...(creationDate !== undefined && { creationDate }),
  };
}

/**
 * A .torrent made of a bare info dictionary (a magnet's metadata, fetched from peers) and the
 * link's trackers. The info bytes are kept exactly as they are, since the info hash is their
 * SHA-1; `info` must be a bencoded dictionary, which metainfoFromInfo checks.
 */
export function torrentFromInfo(info: Buffer, announceList: string[][]): Buffer {
  const first = announceList.flat()[0];
  const trackers = encodeBencode({
    ...(first !== undefined && { announce: first, 'announce-list': announceList }),
  });
  // "info" sorts after both announce keys, so it goes last: the dictionary minus its closing
  // "e", then the raw info bytes under their key.
  return Buffer.concat([trackers.subarray(0, -1), Buffer.from('4:info', 'latin1'), info, Buffer.from('e', 'latin1')]);
}

/** The Metainfo of a magnet's metadata, with every check a .torrent file gets. */
export function metainfoFromInfo(info: Buffer, announceList: string[][]): Metainfo {
  return parseMetainfo(torrentFromInfo(info, announceList));
}

/** The bytes of a .torrent file, refusing what is not a regular file or is too large; errors name the file. */
export async function readTorrentFile(file: string, maxBytes: number = defaultSettings.maxTorrentFileLength): Promise<Buffer> {
  try {
    const handle = await open(file, 'r');
    try {
      const info = await handle.stat();
      // A FIFO or a device would have no size to check and might never end.
      if (!info.isFile()) throw new MetainfoError('not a regular file', file);
      if (info.size > maxBytes) {
        throw new MetainfoError(
          `is ${info.size} bytes, larger than the ${maxBytes} bytes allowed for a .torrent`,
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

/** Fills `target` from the start of the file; a file shorter than that is an error. */
async function readFully(handle: FileHandle, target: Buffer, file: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, done);
    if (bytesRead === 0) throw new MetainfoError('the file became shorter while it was read', file);
    done += bytesRead;
  }
}
