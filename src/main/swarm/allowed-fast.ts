/**
 * BEP 6's canonical allowed-fast set: the pieces a peer may request while we choke it. It
 * depends only on the peer's address (its /24), the info hash and the piece count, so every
 * client computes the same set for a peer, and a peer gains nothing by reconnecting or by
 * opening connections from several addresses of one /24.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';

/** An IPv4-mapped IPv6 address, as a dual-stack socket reports an IPv4 peer. */
const MAPPED_PREFIX = '::ffff:';

/** The peer's IPv4 address as 4 bytes, or null for an IPv6 peer. */
function ipv4Bytes(ip: string): Buffer | null {
  const v4 = ip.toLowerCase().startsWith(MAPPED_PREFIX) ? ip.slice(MAPPED_PREFIX.length) : ip;
  if (!net.isIPv4(v4)) return null;
  return Buffer.from(v4.split('.').map(Number));
}

/**
 * Up to `k` distinct piece indexes, in the order BEP 6 draws them: the address masked to its
 * /24, then the info hash, hashed with SHA-1 again and again, each digest read as five 4-byte
 * big-endian words taken modulo the piece count. BEP 6 defines the set for IPv4 only; an IPv6
 * peer gets none (it is served only while unchoked), rather than a set of our own invention
 * that no other client would agree on.
 */
export function allowedFastSet(ip: string, infoHash: Buffer, pieceCount: number, k: number): number[] {
  const address = ipv4Bytes(ip);
  const wanted = Math.min(k, pieceCount);
  if (address === null || wanted <= 0) return [];
  address[3] = 0;
  const set: number[] = [];
  let x = Buffer.concat([address, infoHash]);
  while (set.length < wanted) {
    x = createHash('sha1').update(x).digest();
    for (let at = 0; at < 20 && set.length < wanted; at += 4) {
      const index = x.readUInt32BE(at) % pieceCount;
      if (!set.includes(index)) set.push(index);
    }
  }
  return set;
}
