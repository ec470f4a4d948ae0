/**
 * One swarm's peer list (docs/architecture.md, Tracker services and the broadcast): the peers we
 * know of, which of them to dial now, the back-off after a failed dial, and the `ut_pex`
 * broadcast of the list to the connected peers; and the limits on connections, dialled or
 * offered. Pure apart from the log: the time and the connections are arguments; the dialling
 * itself is peer-dialler.ts's.
 */
import type { Settings } from '../../io/settings.js';
import type { Logger } from '../logger.js';
import { encodePex, type PexPeer } from '../wire/ut-pex.js';
import type { WireMessage } from '../wire/wire-messages.js';
import type { PexSender } from './pex-broadcast.js';

/**
 * Where a known peer came from: a tracker's reply (or its announce to our tracker), a peer's
 * ut_pex, the DHT, local service discovery, its own connection to us, the magnet link's `x.pe`,
 * or the peer list saved by the last run.
 */
export type PeerSource = 'tracker' | 'pex' | 'dht' | 'lsd' | 'incoming' | 'magnet' | 'saved';

/** What became of a connection offered to the swarm. */
export type Admission = 'admitted' | 'duplicate' | 'refused';

interface Entry {
  /** "ip:port", its key in the list. */
  readonly address: string;
  readonly ip: string;
  readonly port: number;
  /** How we first heard of it. */
  readonly source: PeerSource;
  /** Consecutive failed dials. */
  failures: number;
  nextAttemptAt: number;
  /** The peer id it answered with, once it did (hex). */
  peerId?: string;
}

/** A peer of the list; only the list changes it. */
export type KnownPeer = Readonly<Entry>;

/** An open connection, as the dial limits count it. */
export interface OpenConnection {
  readonly remoteIp: string;
  /** "ip:port", with the port it listens on when known. */
  readonly address: string;
}

/** A connected peer that may be told of the list. */
export interface PexRecipient {
  readonly remoteIp: string;
  readonly listenPort: number | undefined;
  readonly extensions: { readonly m: { readonly ut_pex?: number } } | null;
  /** Null unless it speaks ut_pex and the torrent is not private (BEP 27): such a peer is never told. */
  readonly pex: Pick<PexSender, 'next'> | null;
  send(message: WireMessage): void;
}

export interface PeerListSetup {
  settings: Pick<Settings, 'maxKnownPeersPerSwarm' | 'maxPeersPerSwarm' | 'maxPeersPerAddress'>;
  /** Whether ip:port is this very peer. */
  isSelf(ip: string, port: number): boolean;
  isBanned(ip: string, port: number): boolean;
  log: Pick<Logger, 'debug'>;
}

/** A connection to a peer, as the admission limits count it. */
export interface AdmittedConnection {
  readonly remoteIp: string;
  readonly handshake: { readonly peerId: Buffer };
}

/**
 * Why a connection to the peer `peerId` at `ip` is refused, or null when the limits admit it:
 * one connection per peer (a second is a duplicate), maxPeersPerSwarm and maxPeersPerAddress.
 */
export function admissionLimit(
  peerId: Buffer,
  ip: string,
  open: ReadonlySet<AdmittedConnection>,
  limits: Pick<Settings, 'maxPeersPerSwarm' | 'maxPeersPerAddress'>,
): { reason: string; admission: Admission } | null {
  let sameIp = 0;
  for (const peer of open) {
    if (peer.handshake.peerId.equals(peerId)) return { reason: 'already connected to that peer', admission: 'duplicate' };
    if (peer.remoteIp === ip) sameIp++;
  }
  const { maxPeersPerSwarm, maxPeersPerAddress } = limits;
  if (open.size >= maxPeersPerSwarm) return { reason: `${maxPeersPerSwarm} peers are connected in this swarm already (maxPeersPerSwarm)`, admission: 'refused' };
  if (sameIp >= maxPeersPerAddress) return { reason: `${maxPeersPerAddress} peers from ${ip} are connected in this swarm already (maxPeersPerAddress)`, admission: 'refused' };
  return null;
}

/** Delay before a failed connection to a known peer is tried again; doubles per failure. */
export const RECONNECT_BASE_MS = 2_000;
const RECONNECT_MAX_MS = 120_000;
/** Consecutive failed connections after which a peer leaves the peer list. */
export const MAX_CONNECT_FAILURES = 5;

export class PeerList {
  // Both made when first written: a seeder that no peer is heard of never has either.
  private known: Map<string, Entry> | undefined;
  /** Addresses being dialled, until the handshake or the failure. */
  private dialling: Set<string> | undefined;

  constructor(private readonly setup: PeerListSetup) {}

  /** Adds a peer heard of from `source`; returns whether it was new. Not this peer itself, not a banned one, and not past maxKnownPeersPerSwarm. */
  learn(ip: string, port: number, source: PeerSource): boolean {
    if (this.setup.isSelf(ip, port)) return false;
    const address = `${ip}:${port}`;
    const known = (this.known ??= new Map());
    if (known.has(address) || known.size >= this.setup.settings.maxKnownPeersPerSwarm || this.setup.isBanned(ip, port)) return false;
    known.set(address, { address, ip, port, source, failures: 0, nextAttemptAt: 0 });
    this.setup.log.debug(`learned of peer ${address} (${source})`);
    return true;
  }

  /** Takes a peer off the list; returns whether it was there. */
  remove(address: string): boolean {
    return this.known?.delete(address) ?? false;
  }

  /** The list, as "ip:port". */
  addresses(): string[] {
    return [...(this.known?.keys() ?? [])];
  }

  /** The list with where each peer came from. */
  sources(): { address: string; source: PeerSource }[] {
    return [...(this.known?.values() ?? [])].map(({ address, source }) => ({ address, source }));
  }

  /**
   * The known peers to dial now, within maxPeersPerSwarm and maxPeersPerAddress (counting the
   * `open` connections and those being dialled) and while `sessionRoom` allows one more
   * connection to a swarm that has that many. Lazy: the caller starts each dial (dialStarted)
   * before asking for the next, so that the limits count it.
   */
  *toDial(now: number, open: ReadonlySet<OpenConnection>, sessionRoom: (swarmConnections: number) => boolean): Generator<KnownPeer> {
    const { maxPeersPerSwarm, maxPeersPerAddress } = this.setup.settings;
    let perIp: Map<string, number> | null = null;
    for (const [address, known] of this.known ?? []) {
      const connections = open.size + (this.dialling?.size ?? 0);
      if (connections >= maxPeersPerSwarm || !sessionRoom(connections)) return;
      if (known.nextAttemptAt > now || this.dialling?.has(address) || isConnectedTo(open, address)) continue;
      perIp ??= this.connectionsPerIp(open);
      const sameIp = perIp.get(known.ip) ?? 0;
      if (sameIp >= maxPeersPerAddress) continue;
      perIp.set(known.ip, sameIp + 1);
      yield known;
    }
  }

  /** Connections open or being dialled, by remote IP. */
  private connectionsPerIp(open: ReadonlySet<OpenConnection>): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (ip: string): void => void counts.set(ip, (counts.get(ip) ?? 0) + 1);
    for (const peer of open) add(peer.remoteIp);
    for (const address of this.dialling ?? []) add(address.slice(0, address.lastIndexOf(':')));
    return counts;
  }

  dialStarted(known: KnownPeer): void {
    (this.dialling ??= new Set()).add(known.address);
  }

  /** The peer answered our handshake for this torrent, as `peerIdHex`. */
  answered(known: KnownPeer, peerIdHex: string): void {
    const entry: Entry = known;
    this.dialling?.delete(entry.address);
    entry.failures = 0;
    entry.peerId = peerIdHex;
  }

  /** What the swarm made of the connection: one refused is tried again after a while. */
  admitted(known: KnownPeer, admission: Admission, now: number): void {
    const entry: Entry = known;
    // Already connected the other way: not tried again until that connection ends.
    if (admission === 'duplicate') entry.nextAttemptAt = Infinity;
    else if (admission === 'refused') entry.nextAttemptAt = now + RECONNECT_BASE_MS;
  }

  /**
   * The dial failed: the peer is tried again after a back-off that doubles per failure, or,
   * after MAX_CONNECT_FAILURES in a row, leaves the list. Returns whether it left, for the
   * broadcast to tell the swarm.
   */
  dialFailed(known: KnownPeer, now: number): boolean {
    const entry: Entry = known;
    this.dialling?.delete(entry.address);
    entry.failures++;
    entry.nextAttemptAt = now + Math.min(RECONNECT_BASE_MS * 2 ** (entry.failures - 1), RECONNECT_MAX_MS);
    if (entry.failures < MAX_CONNECT_FAILURES) return false;
    // Gone, as far as we can tell: ut_pex tells the swarm it dropped.
    this.known?.delete(entry.address);
    return true;
  }

  /** A connection to the peer with this id ended: a known peer not dialled because of it may be dialled again soon. */
  connectionClosed(peerIdHex: string, now: number): void {
    for (const known of this.known?.values() ?? []) {
      if (known.peerId === peerIdHex) known.nextAttemptAt = Math.min(known.nextAttemptAt, now + RECONNECT_BASE_MS);
    }
  }

  /**
   * Tells every connected peer that speaks ut_pex what changed in the list (not its own
   * address). Each connection's PexSender paces the messages: about a second apart for shoal
   * peers, a minute for other clients.
   */
  broadcast(peers: Iterable<PexRecipient>, now: number): void {
    const list: PexPeer[] = [...(this.known?.values() ?? [])].map(({ ip, port }) => ({ ip, port }));
    for (const peer of peers) {
      const extId = peer.extensions?.m.ut_pex;
      if (!peer.pex || !extId) continue;
      const others = list.filter((entry) => !(entry.ip === peer.remoteIp && entry.port === peer.listenPort));
      const message = peer.pex.next(others, now);
      if (message) peer.send({ kind: 'extended', extId, payload: encodePex(message) });
    }
  }
}

function isConnectedTo(open: ReadonlySet<OpenConnection>, address: string): boolean {
  for (const peer of open) if (peer.address === address) return true;
  return false;
}
