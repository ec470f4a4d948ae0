/**
 * Magnet links (BEP 9): the info hash of a swarm, and hints for finding it (name, trackers,
 * peers), without the info dictionary, which is fetched from peers (ut_metadata).
 *
 * A link comes from anyone (pasted, or a file in torrents/), so only what can be checked is kept:
 * a v1 info hash, trackers of the kinds shoal announces to, peers with a literal address and a
 * port. A hint that is unusable is dropped and noted, since the swarm can be found without it;
 * a link with no usable info hash is refused.
 */
import { open } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { defaultSettings } from './settings.js';
import { systemReason } from './system-error.js';
import { checkTrackerUrl } from './torrent-maker.js';

export interface MagnetPeer {
  ip: string;
  port: number;
}

export interface MagnetLink {
  infoHash: Buffer;
  /** Lower-case hex. */
  infoHashHex: string;
  /** `dn`, the display name: a hint until the info dictionary names the torrent. */
  name?: string;
  /** `tr`, each its own tier (as libtorrent does, since a link cannot say which are alike). */
  announceList: string[][];
  /** `x.pe`: peers to dial at once. */
  peers: MagnetPeer[];
  /**
   * `so` (BEP 53): the indices of the files to download (every file of the info dictionary
   * counts, pad files included), sorted; absent when the link selects none: all are wanted.
   */
  select?: number[];
  /** What the link held that was dropped, and why, for a person reading `torrent info`. */
  ignored?: string[];
}

/** A magnet link that cannot be used, and why. */
export class MagnetError extends Error {
  constructor(
    readonly reason: string,
    /** The .magnet file, when the link came from one. */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(file === undefined ? reason : `${file}: ${reason}`, options);
    this.name = 'MagnetError';
  }
}

const PREFIX = 'magnet:?';
const BTIH = 'urn:btih:';
/** BitTorrent v2 (BEP 52) multihash: shoal speaks v1 only, so such an xt cannot be joined. */
const BTMH = 'urn:btmh:';
const HASH_BYTES = 20;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `text` for a message, cut short when a hostile link made it long. */
function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

/** RFC 4648 base32 without padding, case-insensitive: 32 characters are exactly 20 bytes. */
function base32Hash(text: string): Buffer | undefined {
  const out = Buffer.alloc(HASH_BYTES);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const c of text.toUpperCase()) {
    const digit = BASE32_ALPHABET.indexOf(c);
    if (digit < 0) return undefined;
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function infoHashOf(urn: string): Buffer {
  const text = urn.slice(BTIH.length);
  if (/^[0-9a-fA-F]{40}$/.test(text)) return Buffer.from(text, 'hex');
  const hash = text.length === 32 ? base32Hash(text) : undefined;
  if (hash !== undefined) return hash;
  const problem =
    text.length === 40 ? 'has a character that is not hexadecimal' : text.length === 32 ? 'has a character that is not base32 (A-Z, 2-7)' : `has ${text.length} characters`;
  throw new MagnetError(`xt ${shown(urn)} is not an info hash: after urn:btih: it needs 40 hexadecimal or 32 base32 characters, and it ${problem}`);
}

/** Percent-decoding as in a query string, where `+` stands for a space; undefined for a malformed escape. */
function decoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** A magnet `x.pe`: IPv4 `a.b.c.d:port` or `[v6]:port`; host names are dropped, as they would need a resolver. */
function peerOf(text: string): MagnetPeer | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const ip = match[1] ?? match[2];
  const port = Number(match[3]);
  const literal = match[1] === undefined ? isIPv4(ip) : isIPv6(ip) && !ip.includes('%');
  if (!literal || port < 1 || port > 65535) return undefined;
  return { ip: ip.toLowerCase(), port };
}

/** Files a link's `so` may name at most: far more than any torrent a peer would join has. */
const MAX_SELECTED_FILES = 100_000;

/** BEP 53's `so`: indices and ranges (`0,2,4-6`); undefined when malformed or naming too many. */
function fileIndices(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const match = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part.trim());
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || out.length + (last - first + 1) > MAX_SELECTED_FILES) return undefined;
    for (let index = first; index <= last; index++) out.push(index);
  }
  return out;
}

/** The key without a BEP 9 style index (`tr.1`, `x.pe.2`), lower case. */
function baseKey(key: string): string {
  return key.toLowerCase().replace(/^(xt|dn|tr|x\.pe)\.\d+$/, '$1');
}

/** Parses a magnet URI; throws MagnetError when it is not one or names no usable v1 info hash. */
export function parseMagnet(uri: string): MagnetLink {
  const text = uri.trim();
  if (!text.toLowerCase().startsWith(PREFIX)) {
    throw new MagnetError(`${shown(text)} is not a magnet link: it must start with ${PREFIX}`);
  }
  let infoHash: Buffer | undefined;
  let hasV2Hash = false;
  let name: string | undefined;
  const trackers = new Set<string>();
  const peers = new Map<string, MagnetPeer>();
  const select = new Set<number>();
  const ignored: string[] = [];
  for (const field of text.slice(PREFIX.length).split('&')) {
    if (field === '') continue;
    const equals = field.indexOf('=');
    const key = baseKey(equals < 0 ? field : field.slice(0, equals));
    const raw = equals < 0 ? '' : field.slice(equals + 1);
    const value = decoded(raw);
    switch (key) {
      case 'xt': {
        if (value === undefined) throw new MagnetError(`xt ${shown(raw)} has a malformed percent-escape`);
        const urn = value.toLowerCase();
        if (urn.startsWith(BTMH)) {
          hasV2Hash = true;
        } else if (urn.startsWith(BTIH)) {
          const hash = infoHashOf(value);
          if (infoHash !== undefined && !infoHash.equals(hash)) {
            throw new MagnetError(
              `the link names two different info hashes (${infoHash.toString('hex')} and ${hash.toString('hex')}); which swarm is meant cannot be known`,
            );
          }
          infoHash = hash;
        } else {
          ignored.push(`xt ${shown(value)}: not a BitTorrent info hash`);
        }
        break;
      }
      case 'dn':
        // A name is only a hint, so a malformed escape is kept as written rather than refusing the link.
        if ((value ?? raw) !== '') name = value ?? raw;
        break;
      case 'tr':
        if (value === undefined) {
          ignored.push(`tracker ${shown(raw)}: malformed percent-escape`);
          break;
        }
        try {
          checkTrackerUrl(value, 'tracker');
          trackers.add(value);
        } catch (err) {
          ignored.push(err instanceof Error ? err.message : String(err));
        }
        break;
      case 'x.pe': {
        const peer = value === undefined ? undefined : peerOf(value);
        if (peer === undefined) ignored.push(`peer ${shown(value ?? raw)}: not an IPv4 a.b.c.d:port or [IPv6]:port`);
        else peers.set(`${peer.ip}:${peer.port}`, peer);
        break;
      }
      case 'so': {
        const indices = value === undefined ? undefined : fileIndices(value);
        if (indices === undefined) ignored.push(`so ${shown(value ?? raw)}: not a list of file indices such as 0,2,4-6`);
        else for (const index of indices) select.add(index);
        break;
      }
      default:
      // Other parameters (ws, as, xs, kt, ...) name things shoal does not use.
    }
  }
  if (infoHash === undefined) {
    throw new MagnetError(
      hasV2Hash
        ? 'the link names only a BitTorrent v2 info hash (xt=urn:btmh:); shoal joins v1 swarms and needs xt=urn:btih:'
        : 'the link has no info hash: it needs xt=urn:btih: followed by 40 hexadecimal or 32 base32 characters',
    );
  }
  // A hybrid link carries both; the v1 swarm is the one joined, the same torrent as the v2 one.
  if (hasV2Hash) ignored.push('xt urn:btmh: (BitTorrent v2): the v1 info hash (urn:btih:) is used');
  return {
    infoHash,
    infoHashHex: infoHash.toString('hex'),
    ...(name !== undefined && { name }),
    announceList: [...trackers].map((url) => [url]),
    peers: [...peers.values()],
    ...(select.size > 0 && { select: [...select].sort((a, b) => a - b) }),
    ...(ignored.length > 0 && { ignored }),
  };
}

/**
 * Percent-encodes a value, leaving `:`, `/`, `@`, `[` and `]` readable: they mean nothing to a
 * magnet's query syntax (only `&`, `=`, `+`, `%` and `#` do), and a person reads .magnet files.
 */
function encoded(value: string): string {
  return encodeURIComponent(value).replace(/%(3A|2F|40|5B|5D)/g, (escape) => decodeURIComponent(escape));
}

/** `so` as BEP 53 writes it: runs of consecutive indices as ranges. */
function formatIndices(indices: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indices.length; i++) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(j > i ? `${indices[i]}-${indices[j]}` : `${indices[i]}`);
    i = j;
  }
  return parts.join(',');
}

/** The canonical URI: hex info hash, then `dn`, each tracker as `tr`, each peer as `x.pe`, then `so`. */
export function formatMagnet(link: MagnetLink): string {
  const fields = [`xt=${BTIH}${link.infoHashHex}`];
  if (link.name !== undefined) fields.push(`dn=${encoded(link.name)}`);
  for (const url of new Set(link.announceList.flat())) fields.push(`tr=${encoded(url)}`);
  for (const { ip, port } of link.peers) fields.push(`x.pe=${encoded(isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`)}`);
  if (link.select !== undefined) fields.push(`so=${formatIndices(link.select)}`);
  return `${PREFIX}${fields.join('&')}`;
}

const MAGNET_EXTENSION = '.magnet';

/** The name of the link's file in torrents/: its `dn` made safe (safeFileName), else its info hash. */
export function magnetFileName(link: MagnetLink): string {
  return safeFileName(link.name, link.infoHashHex, MAGNET_EXTENSION);
}

/**
 * A name from a stranger made safe for a file in torrents/, with `extension`; `fallback` when
 * nothing is left of it. Separators, control characters and the characters Windows refuses
 * become "_"; leading dots go, as a hidden file is easily missed (and atomic-file.ts's
 * temporaries start with one); the name is cut to fit NAME_MAX with the extension.
 */
export function safeFileName(name: string | undefined, fallback: string, extension: string): string {
  const cleaned = (name ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f/\\:*?"<>|]/g, '_')
    .trim()
    .replace(/^\.+/, '');
  const limit = defaultSettings.maxFileNameBytes - Buffer.byteLength(extension, 'utf8');
  let stem = '';
  let bytes = 0;
  for (const character of cleaned) {
    bytes += Buffer.byteLength(character, 'utf8');
    if (bytes > limit) break;
    stem += character;
  }
  stem = stem.trim();
  return `${stem === '' ? fallback : stem}${extension}`;
}

/** Reads a .magnet file: its first non-empty line is the link. Errors name the file. */
export async function readMagnetFile(file: string, maxBytes: number = defaultSettings.maxMagnetFileBytes): Promise<MagnetLink> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const stat = await handle.stat();
      // A FIFO or a device would have no size to check and might never end.
      if (!stat.isFile()) throw new MagnetError('not a regular file', file);
      if (stat.size > maxBytes) {
        throw new MagnetError(`is ${stat.size} bytes, larger than the ${maxBytes} bytes allowed for a .magnet file`, file);
      }
      // One byte more than allowed shows a file that grew after the size was checked.
      const data = Buffer.alloc(maxBytes + 1);
      const { bytesRead } = await handle.read(data, 0, data.length, 0);
      if (bytesRead > maxBytes) throw new MagnetError(`grew past the ${maxBytes} bytes allowed for a .magnet file while it was read`, file);
      text = data.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof MagnetError) throw err;
    throw new MagnetError(`cannot read: ${systemReason(err)}`, file, { cause: err });
  }
  const line = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined) throw new MagnetError('is empty; a .magnet file holds a magnet URI (magnet:?xt=urn:btih:...) on its first line', file);
  try {
    return parseMagnet(line);
  } catch (err) {
    if (err instanceof MagnetError) throw new MagnetError(err.reason, file, { cause: err });
    throw err;
  }
}
