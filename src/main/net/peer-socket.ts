/**
 * What a peer-wire connection runs on: a net.Socket, or an RC4 stream over one
 * (mse/encrypted-stream.ts), which behaves the same as a Duplex and tells the same remote address.
 */
import type { Duplex } from 'node:stream';

export type PeerSocket = Duplex & {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
};
