/**
 * What a connection to our one port is, from its first bytes (docs/architecture.md, One port per
 * peer): a BitTorrent handshake starts with 19 and "BitTorrent protocol", HTTP with a method and
 * a space, and anything else is taken for an encrypted (MSE) handshake, whose first 96 bytes are a
 * random-looking public key. Whole prefixes are compared, not the first byte: one MSE key in
 * ten starts with an ASCII capital and one in 256 with 19, and must not be taken for HTTP or a
 * plain handshake. A few bytes settle it: the longest prefix compared is 20 bytes.
 */
import http from 'node:http';

export type ConnectionKind = 'bittorrent' | 'http' | 'other';

const STARTS: readonly { kind: ConnectionKind; prefix: Buffer }[] = [
  { kind: 'bittorrent', prefix: Buffer.from('\x13BitTorrent protocol', 'latin1') },
  ...http.METHODS.map((method) => ({ kind: 'http' as const, prefix: Buffer.from(`${method} `, 'latin1') })),
];

/** The kind the bytes received so far show, or null while they could still start more than one kind. */
export function connectionKind(bytes: Buffer): ConnectionKind | null {
  let undecided = false;
  for (const { kind, prefix } of STARTS) {
    const shared = Math.min(bytes.length, prefix.length);
    if (!bytes.subarray(0, shared).equals(prefix.subarray(0, shared))) continue;
    if (bytes.length >= prefix.length) return kind;
    undecided = true;
  }
  return undecided || bytes.length === 0 ? null : 'other';
}
