/**
 * Bencoded bodies of tracker replies, and the compact peer formats both sides share:
 * BEP 23 (`peers`, 6 bytes per IPv4 peer) and BEP 7 (`peers6`, 18 bytes per IPv6 peer).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { encodeBencode, type BencodeInput } from '../../io/bencode.js';
import type { AnnounceReply, ScrapeReply } from './tracker-registry.js';

export interface PeerAddress {
  ip: string;
  port: number;
  peerId?: Buffer;
}

function ipv6Bytes(ip: string): Buffer {
  // Expand '::' into the missing zero groups, and an embedded dotted quad into two groups.
  let text = ip;
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const out = Buffer.alloc(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** `peers` holds the IPv4 peers, `peers6` the IPv6 ones; addresses that are neither are left out. */
export function encodeCompactPeers(peers: PeerAddress[]): { peers: Buffer; peers6: Buffer } {
  const v4: Buffer[] = [];
  const v6: Buffer[] = [];
  for (const peer of peers) {
    if (isIPv4(peer.ip)) {
      const entry = Buffer.alloc(6);
      peer.ip.split('.').forEach((octet, i) => (entry[i] = Number(octet)));
      entry.writeUInt16BE(peer.port, 4);
      v4.push(entry);
      continue;
    }
    // A zone index (fe80::1%eth0) names our own interface and means nothing to the receiver.
    const ip6 = peer.ip.replace(/%.*$/, '');
    if (isIPv6(ip6)) {
      const entry = Buffer.alloc(18);
      ipv6Bytes(ip6).copy(entry, 0);
      entry.writeUInt16BE(peer.port, 16);
      v6.push(entry);
    }
  }
  return { peers: Buffer.concat(v4), peers6: Buffer.concat(v6) };
}

/** Decodes a compact list; undefined when its length is not a multiple of the entry size. */
export function decodeCompactPeers(data: Buffer, family: 4 | 6): PeerAddress[] | undefined {
  const size = family === 4 ? 6 : 18;
  if (data.length % size !== 0) return undefined;
  const peers: PeerAddress[] = [];
  for (let offset = 0; offset < data.length; offset += size) {
    const port = data.readUInt16BE(offset + size - 2);
    // Nobody can connect to port 0; some trackers pad their lists with such entries.
    if (port === 0) continue;
    let ip: string;
    if (family === 4) {
      ip = [...data.subarray(offset, offset + 4)].join('.');
    } else {
      const groups: string[] = [];
      for (let g = 0; g < 8; g++) groups.push(data.readUInt16BE(offset + g * 2).toString(16));
      // The URL parser prints the canonical, compressed form that sockets report.
      ip = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
    }
    peers.push({ ip, port });
  }
  return peers;
}

export function encodeAnnounceReply(reply: AnnounceReply, options: { compact: boolean; noPeerId: boolean }): Buffer {
  const body: Record<string, BencodeInput | undefined> = {
    interval: reply.intervalS,
    'min interval': reply.minIntervalS,
    complete: reply.complete,
    incomplete: reply.incomplete,
  };
  if (options.compact) {
    const { peers, peers6 } = encodeCompactPeers(reply.peers);
    body.peers = peers;
    if (peers6.length > 0) body.peers6 = peers6;
  } else {
    body.peers = reply.peers.map((peer) => ({
      'peer id': options.noPeerId ? undefined : peer.peerId,
      ip: peer.ip,
      port: peer.port,
    }));
  }
  return encodeBencode(body);
}

export function encodeScrapeReply(reply: ScrapeReply): Buffer {
  const files: Record<string, BencodeInput> = {};
  for (const file of reply.files) {
    // The bencode codec writes dictionary keys as latin1, so this keeps the raw hash bytes.
    files[file.infoHash.toString('latin1')] = {
      complete: file.complete,
      downloaded: file.downloaded,
      incomplete: file.incomplete,
    };
  }
  return encodeBencode({ files });
}

export function encodeFailure(reason: string): Buffer {
  return encodeBencode({ 'failure reason': reason });
}
