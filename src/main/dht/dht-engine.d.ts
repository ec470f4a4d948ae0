/**
 * Types for the part of bittorrent-dht 11 and k-rpc 5 that dht-node.ts uses: neither package
 * ships its own. Read from their sources; only dht-node.ts imports them.
 */
declare module 'k-rpc' {
  import type { EventEmitter } from 'node:events';

  export interface KrpcContact {
    host: string;
    port: number;
  }

  export interface KrpcMessage {
    q: string;
    a: Record<string, unknown>;
  }

  export interface KrpcReply {
    r?: Record<string, unknown>;
  }

  export interface KrpcOptions {
    /** Our node id. */
    id: Buffer;
    idLength: number;
    /** An object with the part of dgram.Socket that k-rpc-socket uses. */
    socket: EventEmitter;
    /** Nodes queried when the routing table is empty; false: none. */
    bootstrap: false;
  }

  export interface Krpc extends EventEmitter {
    readonly id: Buffer;
    query(node: KrpcContact, message: KrpcMessage, callback: (error: Error | null, reply: KrpcReply | null) => void): void;
  }

  export default function krpc(options: KrpcOptions): Krpc;
}

declare module 'bittorrent-dht' {
  import type { EventEmitter } from 'node:events';
  import type { Krpc } from 'k-rpc';

  export interface DhtOptions {
    krpc: Krpc;
    bootstrap: false;
    /** Peers announced to us kept, all info hashes together, and for how long (ms). */
    maxPeers: number;
    maxAge: number;
  }

  export interface DhtContact {
    host: string;
    port: number;
  }

  export interface RoutingTable {
    count(): number;
    toArray(): DhtContact[];
  }

  export default class DHT extends EventEmitter {
    constructor(options: DhtOptions);
    readonly nodeId: Buffer;
    readonly nodes: RoutingTable;
    listen(callback?: () => void): void;
    /** Pings the node and adds it to the routing table when it answers. */
    addNode(node: DhtContact): void;
    /** get_peers towards `infoHash`; each peer found is a 'peer' event (peer, infoHash, from). */
    lookup(infoHash: Buffer, callback: (error: Error | null, nodesAnswered: number) => void): () => void;
    /** announce_peer of `port` to the nodes closest to `infoHash` (after a lookup when the last one is older than 5 minutes). */
    announce(infoHash: Buffer, port: number, callback: (error: Error | null) => void): void;
    destroy(callback?: () => void): void;
  }
}
