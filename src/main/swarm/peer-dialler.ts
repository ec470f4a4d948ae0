/**
 * Outgoing connections to the peers of the peer list, those it picks (peer-list.ts): the dial,
 * counted against the session's connections from its start, the connect time-out, the
 * handshake, then admission by the swarm. Each outcome goes back to the peer list, which
 * decides when to try again.
 *
 * The handshake follows --encryption (net/mse/encryption-policy.ts): under `prefer` and
 * `require` an encrypted (MSE) handshake comes first, carrying our BitTorrent handshake as its
 * initial payload. Under `prefer`, a peer that closes the connection on it instead of answering
 * with its key is taken not to speak MSE: it is dialled again at once in plain, and dialled in
 * plain from then on.
 */
import type net from 'node:net';
import type { Logger } from '../logger.js';
import { readHandshake } from '../net/handshake-exchange.js';
import { allowsMse, allowsPlain, cryptoProvide, peerEncryption, type PeerEncryption } from '../net/mse/encryption-policy.js';
import { exchangeMse, MseRefusedError, payloadStream } from '../net/mse/mse-exchange.js';
import { MseInitiator } from '../net/mse/mse-handshake.js';
import type { PeerSocket } from '../net/peer-socket.js';
import { encodeHandshake } from '../wire/wire-codec.js';
import type { Handshake } from '../wire/wire-messages.js';
import { WireParser } from '../wire/wire-parser.js';
import type { Admission, KnownPeer, OpenConnection, PeerList } from './peer-list.js';
import type { SwarmContext } from './swarm-context.js';

export interface DiallerSetup {
  context: Pick<SwarmContext, 'dial' | 'connections' | 'hasConnectionRoom' | 'peerId' | 'settings' | 'clock' | 'encryption'>;
  infoHash: Buffer;
  log: Logger;
  peerList: PeerList;
  /** The swarm's connections. */
  open: ReadonlySet<OpenConnection>;
  /** Whether our handshake says we run a DHT node (swarm-discovery.ts). */
  offersDht: boolean;
  /** Whether the swarm looks for peers: a leecher still missing pieces. */
  wantsPeers(): boolean;
  isStopped(): boolean;
  /** Offers the swarm a connection whose handshake named its torrent; `encryption` is what its handshake chose. */
  admit(socket: PeerSocket, parser: WireParser, handshake: Handshake, ip: string, port: number, encryption: PeerEncryption): Admission;
  /** A peer left the peer list: the swarm is told (ut_pex). */
  peerDropped(): void;
}

/** A connection whose BitTorrent handshake is read. */
interface Handshaken {
  stream: PeerSocket;
  parser: WireParser;
  handshake: Handshake;
  encryption: PeerEncryption;
}

export class PeerDialler {
  /**
   * Addresses that closed on our encrypted handshake (under `prefer`), dialled in plain. Bounded
   * as the peer list is; the oldest are forgotten first, and only cost one more try if they return.
   * Made at the first such peer.
   */
  private plainOnly: Set<string> | undefined;

  constructor(private readonly setup: DiallerSetup) {}

  /** Dials the known peers that the peer list picks now. */
  dialKnownPeers(): void {
    if (!this.setup.wantsPeers()) return;
    const { peerList, open, context } = this.setup;
    const room = (swarmConnections: number): boolean => context.hasConnectionRoom(swarmConnections);
    for (const known of peerList.toDial(context.clock.now(), open, room)) void this.connect(known);
  }

  /** Dials a new connection, counted by the session; null when it has none to spare. */
  private dial(known: KnownPeer): net.Socket | null {
    const { context } = this.setup;
    const socket = context.dial(known.ip, known.port);
    if (!context.connections.claim(socket)) {
      socket.destroy();
      return null;
    }
    socket.setNoDelay(true);
    return socket;
  }

  /** Dials a known peer, unless the session has no connection to spare. */
  private async connect(known: KnownPeer): Promise<void> {
    const { peerList, context } = this.setup;
    const policy = context.encryption;
    let socket = this.dial(known);
    if (!socket) return;
    peerList.dialStarted(known);
    try {
      let connection: Handshaken;
      const encrypted = allowsMse(policy) && !this.plainOnly?.has(known.address);
      try {
        connection = await this.handshake(socket, encrypted, known);
      } catch (error) {
        if (!(error instanceof MseRefusedError) || !allowsPlain(policy)) throw error;
        socket.destroy();
        this.rememberPlain(known.address);
        this.setup.log.debug(`${known.address} ${error.message}: dialling it again in plain (--encryption prefer)`);
        socket = this.dial(known);
        if (!socket) throw new Error(`${error.message}, and no connection is left to spare for a plain one`);
        connection = await this.handshake(socket, false, known);
      }
      const { stream, parser, handshake, encryption } = connection;
      if (!handshake.infoHash.equals(this.setup.infoHash)) throw new Error('it answered for another torrent');
      peerList.answered(known, handshake.peerId.toString('hex'));
      if (this.setup.isStopped()) throw new Error('swarm stopped');
      peerList.admitted(known, this.setup.admit(stream, parser, handshake, known.ip, known.port, encryption), context.clock.now());
    } catch (error) {
      socket?.destroy();
      const dropped = peerList.dialFailed(known, context.clock.now());
      this.setup.log.debug(`could not connect to ${known.address}: ${(error as Error).message}`);
      if (dropped) this.setup.peerDropped();
    }
  }

  /** Waits for the connection, then exchanges handshakes, encrypted or plain, within handshakeTimeoutMs in all. */
  private async handshake(socket: net.Socket, encrypted: boolean, known: KnownPeer): Promise<Handshaken> {
    const { context, infoHash } = this.setup;
    const { settings } = context;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection timed out')), settings.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const startedAt = Date.now();
    const timing = (): { leftMs: number; limitMs: number } => ({ leftMs: settings.handshakeTimeoutMs - (Date.now() - startedAt), limitMs: settings.handshakeTimeoutMs });
    const ours = encodeHandshake(infoHash, context.peerId, { dht: this.setup.offersDht });
    const parser = new WireParser({ expectHandshake: true, maxFrameLength: settings.maxFrameLength });
    if (!encrypted) {
      socket.write(ours);
      return { stream: socket, parser, handshake: await readHandshake(socket, parser, timing()), encryption: peerEncryption(null) };
    }
    const initiator = new MseInitiator({ infoHash, provide: cryptoProvide(context.encryption), initialPayload: ours });
    socket.write(initiator.start());
    const established = await exchangeMse(socket, initiator, timing());
    this.setup.log.debug(`encrypted handshake with ${known.address}: payload in ${established.method}`);
    const stream = payloadStream(socket, established);
    const handshake = await readHandshake(stream, parser, timing(), established.payload.length > 0 ? established.payload : undefined);
    return { stream, parser, handshake, encryption: peerEncryption(established.method) };
  }

  private rememberPlain(address: string): void {
    const plainOnly = (this.plainOnly ??= new Set());
    plainOnly.delete(address);
    plainOnly.add(address);
    if (plainOnly.size > this.setup.context.settings.maxKnownPeersPerSwarm) plainOnly.delete(plainOnly.values().next().value!);
  }
}
