/**
 * Our DHT node (BEP 5; DESIGN.md, Discovery beyond the tracker): the rest of the program sees
 * "peers for this info hash", "announce this swarm", "a peer's DHT node" (the PORT message) and
 * how many nodes the routing table holds. Underneath is the bittorrent-dht engine on k-rpc,
 * which speaks through the peer's one UDP port (krpc-socket.ts) behind the guard
 * (krpc-guard.ts). What the engine leaves to us, this does:
 * - bootstrap: each --dht-bootstrap node is resolved here (IPv4) and asked find_node for our own
 *   id; one that does not resolve or answer is logged once, and while the routing table stays
 *   empty the round is tried again with a doubling delay (the engine would resolve the public
 *   routers at every lookup and never say so);
 * - the routing table's good nodes and our node id are kept in cache/dht.json (io/dht-state.ts)
 *   and pinged at the next start, so a restart joins through them without any bootstrap node;
 * - each search delivers at most dhtMaxPeersPerLookup distinct IPv4 peers, in batches.
 */
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import DHT from 'bittorrent-dht';
import krpc, { type Krpc } from 'k-rpc';
import { readDhtState, writeDhtState, type DhtNodeAddress, type DhtState } from '../../io/dht-state.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { PeerAddress } from '../tracker/announce-client.js';
import type { HostAndPort } from './bootstrap-nodes.js';
import { KrpcGuard, type KrpcGuardCounters } from './krpc-guard.js';
import { KrpcSocket, type DatagramSource, type DhtDatagrams } from './krpc-socket.js';

export type DhtNodeSettings = ConstructorParameters<typeof KrpcGuard>[0] &
  Pick<
    Settings,
    | 'dhtBootstrapRetryBaseMs'
    | 'dhtBootstrapRetryMaxMs'
    | 'dhtMaxPeersPerLookup'
    | 'dhtMaxStoredPeers'
    | 'dhtStoredPeerLifetimeMs'
    | 'dhtSaveIntervalMs'
    | 'dhtSavedNodes'
    | 'dhtGoodNodeMs'
  >;

export interface DhtNodeSetup {
  datagrams: DhtDatagrams;
  /** Our listening port, which announce_peer tells (the TCP and UDP port share it). */
  peerPort: number;
  bootstrap: readonly HostAndPort[];
  cacheFolder: string;
  settings: DhtNodeSettings;
  clock: Clock;
  log: Logger;
  /** A host name's IPv4 address (dns.lookup); tests give their own. */
  resolve?: (host: string) => Promise<string>;
}

/** How often the node checks whether it must bootstrap again. */
const TICK_MS = 1_000;
const NODE_ID_BYTES = 20;

interface BootstrapNode extends HostAndPort {
  /** Whether its last failure was logged (once, until it answers). */
  reported: boolean;
}

/** One search in progress: whom to tell, the peers told so far, and how it ends (once). */
interface Search {
  onPeers: (peers: PeerAddress[]) => void;
  seen: Set<string>;
  batch: PeerAddress[];
  finish: (error: Error | null) => void;
}

async function resolveIpv4(host: string): Promise<string> {
  return (await dnsLookup(host, { family: 4 })).address;
}

export class DhtNode {
  private readonly guard: KrpcGuard;
  private readonly socket: KrpcSocket;
  private readonly rpc: Krpc;
  private readonly dht: DHT;
  private readonly bootstrapNodes: BootstrapNode[];
  private readonly searches = new Map<string, Set<Search>>();
  private readonly stopTimers: (() => void)[] = [];
  private bootstrapping = false;
  private nextBootstrapAt = Infinity;
  private retryDelayMs: number;
  /** Whether the routing table had a node at the last tick. */
  private joined = false;
  private closing: Promise<void> | null = null;

  /** Reads the saved state (a bad file is logged and replaced), then starts the node on the port. */
  static async open(setup: DhtNodeSetup): Promise<DhtNode> {
    let saved: DhtState | null = null;
    try {
      saved = await readDhtState(setup.cacheFolder);
    } catch (error) {
      setup.log.warn(`${(error as Error).message}; the DHT starts with a new node id and no saved nodes`);
    }
    return new DhtNode(setup, saved);
  }

  private constructor(
    private readonly setup: DhtNodeSetup,
    private readonly saved: DhtState | null,
  ) {
    const { settings, clock } = setup;
    this.guard = new KrpcGuard(settings, clock.now());
    this.socket = new KrpcSocket(setup.datagrams, this.guard, clock);
    const id = saved ? Buffer.from(saved.nodeId, 'hex') : randomBytes(NODE_ID_BYTES);
    this.rpc = krpc({ id, idLength: NODE_ID_BYTES, socket: this.socket, bootstrap: false });
    // The store keeps two generations of announced peers (record-cache): each holds half.
    this.dht = new DHT({ krpc: this.rpc, bootstrap: false, maxPeers: Math.ceil(settings.dhtMaxStoredPeers / 2), maxAge: settings.dhtStoredPeerLifetimeMs });
    this.dht.on('peer', (peer: { host: string; port: number }, infoHash: Buffer) => this.peerFound(peer, infoHash));
    // The engine reports strangers' nonsense as warnings; none of it is ours to act on.
    this.dht.on('warning', (error: Error) => setup.log.debug(`DHT: ${error.message}`));
    this.dht.on('error', (error: Error) => setup.log.warn(`DHT: ${error.message}`));
    this.dht.listen();
    this.retryDelayMs = settings.dhtBootstrapRetryBaseMs;
    this.bootstrapNodes = setup.bootstrap.map((node) => ({ ...node, reported: false }));
    for (const node of saved?.nodes ?? []) this.dht.addNode(node);
    this.stopTimers.push(clock.every(TICK_MS, () => this.tick()));
    this.stopTimers.push(clock.every(settings.dhtSaveIntervalMs, () => void this.save().catch((error: Error) => setup.log.warn(`cannot save the DHT's nodes: ${error.message}`))));
    void this.bootstrapRound();
  }

  /** Nodes in the routing table. */
  get nodes(): number {
    return this.dht.nodes.count();
  }

  get nodeId(): Buffer {
    return this.dht.nodeId;
  }

  /** What the guard let through and dropped. */
  get counters(): KrpcGuardCounters {
    return this.guard.counters;
  }

  /** A datagram of the DHT that came to the UDP port (UdpPort.onDhtPacket). */
  receive(packet: Buffer, from: DatagramSource): void {
    this.socket.deliver(packet, from);
  }

  /** get_peers for `infoHash`: resolves with the number of distinct peers given to `onPeers`. */
  lookup(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<number> {
    return this.search(infoHash, onPeers, (done) => this.dht.lookup(infoHash, (error) => done(error)));
  }

  /** get_peers (unless done in the last 5 minutes), then announce_peer of our port to the closest nodes. */
  announce(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<number> {
    return this.search(infoHash, onPeers, (done) => this.dht.announce(infoHash, this.setup.peerPort, done));
  }

  /** A peer's DHT node (its PORT message, BEP 5): pinged, and added to the table if it answers. */
  addNode(host: string, port: number): void {
    if (this.closing || !isIPv4(host) || !Number.isInteger(port) || port < 1 || port > 65535) return;
    this.dht.addNode({ host, port });
  }

  private search(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void, run: (done: (error: Error | null) => void) => void): Promise<number> {
    if (this.closing) return Promise.reject(new Error('the DHT is closed'));
    const key = infoHash.toString('hex');
    const searches = this.searches.get(key) ?? new Set<Search>();
    this.searches.set(key, searches);
    return new Promise((resolve, reject) => {
      const search: Search = {
        onPeers,
        seen: new Set(),
        batch: [],
        finish: (error) => {
          if (!searches.delete(search)) return;
          if (searches.size === 0 && this.searches.get(key) === searches) this.searches.delete(key);
          this.flush(search);
          if (error && search.seen.size === 0) reject(error);
          else resolve(search.seen.size);
        },
      };
      searches.add(search);
      run(search.finish);
    });
  }

  private peerFound(peer: { host: string; port: number }, infoHash: Buffer): void {
    const searches = this.searches.get(infoHash.toString('hex'));
    if (!searches || !isIPv4(peer.host) || peer.host === '0.0.0.0' || !(peer.port >= 1 && peer.port <= 65535)) return;
    const address = `${peer.host}:${peer.port}`;
    for (const search of searches) {
      if (search.seen.size >= this.setup.settings.dhtMaxPeersPerLookup || search.seen.has(address)) continue;
      search.seen.add(address);
      // The engine gives one peer at a time, a reply's worth in one go: they reach the swarm together.
      if (search.batch.push({ ip: peer.host, port: peer.port }) === 1) queueMicrotask(() => this.flush(search));
    }
  }

  private flush(search: Search): void {
    if (search.batch.length === 0) return;
    const peers = search.batch;
    search.batch = [];
    search.onPeers(peers);
  }

  private tick(): void {
    const count = this.nodes;
    if (count > 0 && !this.joined) {
      this.joined = true;
      this.retryDelayMs = this.setup.settings.dhtBootstrapRetryBaseMs;
      this.nextBootstrapAt = Infinity;
      this.setup.log.info(`joined the DHT through ${count} node(s)`);
      // Our own id's neighbourhood fills the table: a get_peers for it visits the nodes closest to us.
      this.dht.lookup(this.dht.nodeId, () => undefined);
    } else if (count === 0 && this.joined) {
      this.joined = false;
      this.setup.log.info('the DHT routing table is empty: bootstrapping again');
      this.nextBootstrapAt = this.setup.clock.now();
    }
    if (count === 0 && !this.bootstrapping && this.setup.clock.now() >= this.nextBootstrapAt) void this.bootstrapRound();
  }

  /** Asks every bootstrap node for the nodes near our id; when none answered, plans the next round. */
  private async bootstrapRound(): Promise<void> {
    if (this.bootstrapping || this.closing) return;
    this.bootstrapping = true;
    try {
      await Promise.all(this.bootstrapNodes.map((node) => this.askBootstrapNode(node)));
    } finally {
      this.bootstrapping = false;
    }
    if (this.closing || this.nodes > 0) return;
    this.nextBootstrapAt = this.setup.clock.now() + this.retryDelayMs;
    this.setup.log.debug(`the DHT has no node yet; bootstrapping again in ${Math.round(this.retryDelayMs / 1000)} s`);
    this.retryDelayMs = Math.min(2 * this.retryDelayMs, this.setup.settings.dhtBootstrapRetryMaxMs);
  }

  private async askBootstrapNode(node: BootstrapNode): Promise<void> {
    const name = `${node.host}:${node.port}`;
    const failed = (why: string): void => {
      if (node.reported) return this.setup.log.debug(`DHT bootstrap node ${name} ${why}`);
      node.reported = true;
      this.setup.log.warn(`DHT bootstrap node ${name} ${why}; trying again with back-off while no node is known`);
    };
    let address: string;
    try {
      address = isIPv4(node.host) ? node.host : await (this.setup.resolve ?? resolveIpv4)(node.host);
    } catch (error) {
      return failed(`does not resolve to an IPv4 address (${(error as Error).message})`);
    }
    if (this.closing) return;
    const answered = await new Promise<boolean>((resolve) => {
      const id = this.dht.nodeId;
      // A node that answers joins the routing table (k-rpc adds every node that replies).
      this.rpc.query({ host: address, port: node.port }, { q: 'find_node', a: { id, target: id } }, (error) => resolve(error === null));
    });
    if (!answered) return failed(`(${address}) did not answer`);
    if (node.reported) this.setup.log.info(`DHT bootstrap node ${name} answers now`);
    node.reported = false;
  }

  /**
   * Writes the node id and the table's good nodes (answered within dhtGoodNodeMs), the most
   * recent first. A run that has none keeps the nodes saved before, for the next start to try.
   */
  async save(): Promise<void> {
    const now = this.setup.clock.now();
    const { dhtGoodNodeMs, dhtSavedNodes } = this.setup.settings;
    const good = this.dht.nodes
      .toArray()
      .map(({ host, port }) => ({ host, port, at: this.guard.answeredAt(host, port) }))
      .filter((node): node is DhtNodeAddress & { at: number } => node.at !== undefined && now - node.at <= dhtGoodNodeMs)
      .sort((a, b) => b.at - a.at)
      .slice(0, dhtSavedNodes)
      .map(({ host, port }) => ({ host, port }));
    const nodes = good.length > 0 ? good : (this.saved?.nodes ?? []);
    await writeDhtState(this.setup.cacheFolder, { version: 1, nodeId: this.dht.nodeId.toString('hex'), nodes });
  }

  /** Saves the state and stops the engine; searches in progress end with what they found. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const stop of this.stopTimers) stop();
      // The engine forgets its searches when destroyed, without a word to their callers.
      for (const searches of [...this.searches.values()]) for (const search of [...searches]) search.finish(null);
      await this.save().catch((error: Error) => this.setup.log.warn(`cannot save the DHT's nodes: ${error.message}`));
      await new Promise<void>((resolve) => this.dht.destroy(() => resolve()));
    })();
    return this.closing;
  }
}
