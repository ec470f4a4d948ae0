/**
 * The BEP 11 `ut_pex` payload: the bencoded dictionary carried in a BEP 10 extended message,
 * listing peers added to and dropped from the sender's swarm in compact form (BEP 23 layout:
 * address bytes then the port, big-endian; 6 bytes for IPv4, 18 for IPv6).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { asBytes, decodeBencode, encodeBencode, isDict, type BencodeDict, type BencodeValue } from '../../io/bencode.js';
import { defaultSettings } from '../../io/settings.js';
import { WireProtocolError } from './wire-messages.js';

export interface PexPeer {
  ip: string;
  port: number;
  /** Bits of PexFlag; sent for added peers only. */
  flags?: number;
}

export interface PexMessage {
  added: PexPeer[];
  dropped: PexPeer[];
}

/** The bits of `added.f` / `added6.f`, one byte per added peer. */
export const PexFlag = {
  prefersEncryption: 0x01,
  /** Seed, or upload-only. */
  seed: 0x02,
  utp: 0x04,
  holepunch: 0x08,
  /** The sender reached this peer with an outgoing connection, so it accepts connections. */
  reachable: 0x10,
} as const;

const IPV4_ENTRY = 6;
const IPV6_ENTRY = 18;
const MAX_PORT = 65535;
const MAX_FLAGS = 0xff;

function isV4Mapped(bytes: Buffer): boolean {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** `ip` must already be a valid IPv6 address without a zone. */
function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  // A trailing dotted quad spells the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/**
 * 4 or 16 bytes. An IPv4-mapped IPv6 address (what a dual-stack socket reports for an IPv4
 * peer) is the IPv4 address, and goes in the IPv4 lists where every client looks for it.
 */
function addressBytes(ip: string): Buffer {
  if (isIPv4(ip)) {
    const out = Buffer.alloc(4);
    ip.split('.').forEach((octet, i) => (out[i] = Number(octet)));
    return out;
  }
  // A zone (fe80::1%eth0) means nothing to another host and has no place in the compact form.
  if (isIPv6(ip) && !ip.includes('%')) {
    const bytes = ipv6Bytes(ip);
    return isV4Mapped(bytes) ? bytes.subarray(12) : bytes;
  }
  throw new TypeError(`${JSON.stringify(ip)} is not an IPv4 or IPv6 address a compact peer entry can carry`);
}

/** Canonical text (RFC 5952 for IPv6), so that one address read twice compares equal. */
function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return bytes.join('.');
  if (isV4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(i * 2));
  // The longest run of two or more zero groups, the first of equal runs, becomes '::'.
  let runStart = -1;
  let runLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > runLength) {
      runStart = i;
      runLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (runStart < 0) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`;
}

function checkPort(peer: PexPeer): void {
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > MAX_PORT) {
    throw new RangeError(`port ${peer.port} of ${peer.ip} is out of range`);
  }
}

/** The 6- or 18-byte compact entry; throws on what it cannot represent rather than send garbage. */
function compactPeer(peer: PexPeer): Buffer {
  checkPort(peer);
  const address = addressBytes(peer.ip);
  const entry = Buffer.alloc(address.length + 2);
  address.copy(entry);
  entry.writeUInt16BE(peer.port, address.length);
  return entry;
}

/**
 * A peer's identity on the wire, as `a.b.c.d:port` or `[v6]:port`: two spellings of one address
 * (upper-case hex, an IPv4-mapped IPv6 address) give one key. Flags are not part of it. Throws,
 * as encodePex would, on what cannot be sent. Cheap for IPv4, since the broadcast keys every
 * peer of a swarm for every connection.
 */
export function pexPeerKey(peer: PexPeer): string {
  checkPort(peer);
  // Node's isIPv4 refuses leading zeros, so a valid IPv4 text is already canonical.
  const ip = isIPv4(peer.ip) ? peer.ip : formatAddress(addressBytes(peer.ip));
  return ip.includes(':') ? `[${ip}]:${peer.port}` : `${ip}:${peer.port}`;
}

export function encodePex(message: PexMessage): Buffer {
  const added4: Buffer[] = [];
  const flags4: number[] = [];
  const added6: Buffer[] = [];
  const flags6: number[] = [];
  const dropped4: Buffer[] = [];
  const dropped6: Buffer[] = [];
  for (const peer of message.added) {
    const flags = peer.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || flags > MAX_FLAGS) {
      throw new RangeError(`flags ${flags} of ${peer.ip} are out of range`);
    }
    const entry = compactPeer(peer);
    if (entry.length === IPV4_ENTRY) {
      added4.push(entry);
      flags4.push(flags);
    } else {
      added6.push(entry);
      flags6.push(flags);
    }
  }
  for (const peer of message.dropped) {
    const entry = compactPeer(peer);
    (entry.length === IPV4_ENTRY ? dropped4 : dropped6).push(entry);
  }
  // All six keys, empty or not, as libtorrent sends them; and always the flags, because
  // libtorrent ignores an `added` list whose `added.f` is missing or of another length.
  return encodeBencode({
    added: Buffer.concat(added4),
    'added.f': Buffer.from(flags4),
    added6: Buffer.concat(added6),
    'added6.f': Buffer.from(flags6),
    dropped: Buffer.concat(dropped4),
    dropped6: Buffer.concat(dropped6),
  });
}

function refuse(detail: string): never {
  throw new WireProtocolError('bad-pex', `The peer's ut_pex message ${detail}.`);
}

function byteString(dict: BencodeDict, key: string): Buffer | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  return asBytes(value) ?? refuse(`has a '${key}' that is not a byte string`);
}

/**
 * Up to `limit` usable entries of one compact list. The whole string is checked even when the
 * limit is reached, so a malformed message is refused whatever the order of its lists.
 */
function readEntries(
  dict: BencodeDict,
  key: string,
  entrySize: number,
  flagsKey: string | undefined,
  limit: number,
): PexPeer[] {
  const bytes = byteString(dict, key);
  const flagBytes = flagsKey === undefined ? undefined : byteString(dict, flagsKey);
  if (bytes === undefined) return [];
  if (bytes.length % entrySize !== 0) {
    refuse(`has a '${key}' of ${bytes.length} bytes, not a multiple of ${entrySize}`);
  }
  const count = bytes.length / entrySize;
  // Flags are advisory: with a count that does not match they are dropped, the addresses kept.
  const flags = flagBytes !== undefined && flagBytes.length === count ? flagBytes : undefined;
  const out: PexPeer[] = [];
  for (let i = 0; i < count && out.length < limit; i++) {
    const entry = bytes.subarray(i * entrySize, (i + 1) * entrySize);
    const address = entry.subarray(0, entrySize - 2);
    const port = entry.readUInt16BE(entrySize - 2);
    // Neither port 0 nor the unspecified address can be connected to (0.0.0.0 would reach ourselves).
    if (port === 0 || address.every((b) => b === 0)) continue;
    const peer: PexPeer = { ip: formatAddress(address), port };
    if (flags !== undefined) peer.flags = flags[i];
    out.push(peer);
  }
  return out;
}

/** Unknown keys are ignored; a known key of the wrong type or length is a malformed message. */
export function decodePex(payload: Buffer, maxReceived: number = defaultSettings.pexMaxReceivedPeers): PexMessage {
  let dict: BencodeValue;
  try {
    dict = decodeBencode(payload);
  } catch (e) {
    refuse(`is not valid bencode (${(e as Error).message})`);
  }
  if (!isDict(dict)) refuse('is not a bencoded dictionary');
  const added = readEntries(dict, 'added', IPV4_ENTRY, 'added.f', maxReceived);
  added.push(...readEntries(dict, 'added6', IPV6_ENTRY, 'added6.f', maxReceived - added.length));
  const dropped = readEntries(dict, 'dropped', IPV4_ENTRY, undefined, maxReceived);
  dropped.push(...readEntries(dict, 'dropped6', IPV6_ENTRY, undefined, maxReceived - dropped.length));
  return { added, dropped };
}
