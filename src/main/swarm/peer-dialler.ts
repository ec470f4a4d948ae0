/**
 * Outgoing connections to the peers of the peer list, those it picks (peer-list.ts): the dial,
 * counted against the session's connections from its start, the connect time-out, the
 * handshake, then admission by the swarm. Each outcome goes back to the peer list, which
 * decides when to try again.
 */
import type net from 'node:net';
import type { Logger } from '../logger.js';
import { readHandshake } from '../net/handshake-exchange.js';
import { encodeHandshake } from '../wire/wire-codec.js';
import type { Handshake } from '../wire/wire-messages.js';
import { WireParser } from '../wire/wire-parser.js';
import type { Admission, KnownPeer, OpenConnection, PeerList } from './peer-list.js';
import type { SwarmContext } from './swarm-context.js';

export interface DiallerSetup {
  context: Pick<SwarmContext, 'dial' | 'connections' | 'hasConnectionRoom' | 'peerId' | 'settings' | 'clock'>;
  infoHash: Buffer;
  log: Logger;
  peerList: PeerList;
  /** The swarm's connections. */
  open: ReadonlySet<OpenConnection>;
  /** Whether the swarm looks for peers: a leecher still missing pieces. */
  wantsPeers(): boolean;
  isStopped(): boolean;
  /** Offers the swarm a connection whose handshake named its torrent. */
  admit(socket: net.Socket, parser: WireParser, handshake: Handshake, ip: string, port: number): Admission;
  /** A peer left the peer list: the swarm is told (ut_pex). */
  peerDropped(): void;
}

export class PeerDialler {
  constructor(private readonly setup: DiallerSetup) {}

  /** Dials the known peers that the peer list picks now. */
  dialKnownPeers(): void {
    if (!this.setup.wantsPeers()) return;
    const { peerList, open, context } = this.setup;
    const room = (swarmConnections: number): boolean => context.hasConnectionRoom(swarmConnections);
    for (const known of peerList.toDial(context.clock.now(), open, room)) void this.connect(known);
  }

  /** Dials a known peer, unless the session has no connection to spare. */
  private async connect(known: KnownPeer): Promise<void> {
    const { peerList, context } = this.setup;
    const { settings } = context;
    const socket = context.dial(known.ip, known.port);
    if (!context.connections.claim(socket)) {
      socket.destroy();
      return;
    }
    peerList.dialStarted(known);
    socket.setNoDelay(true);
    try {
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
      socket.write(encodeHandshake(this.setup.infoHash, context.peerId));
      const parser = new WireParser({ expectHandshake: true, maxFrameLength: settings.maxFrameLength });
      const handshake = await readHandshake(socket, parser, { leftMs: settings.handshakeTimeoutMs, limitMs: settings.handshakeTimeoutMs });
      if (!handshake.infoHash.equals(this.setup.infoHash)) throw new Error('it answered for another torrent');
      peerList.answered(known, handshake.peerId.toString('hex'));
      if (this.setup.isStopped()) throw new Error('swarm stopped');
      peerList.admitted(known, this.setup.admit(socket, parser, handshake, known.ip, known.port), context.clock.now());
    } catch (error) {
      socket.destroy();
      const dropped = peerList.dialFailed(known, context.clock.now());
      this.setup.log.debug(`could not connect to ${known.address}: ${(error as Error).message}`);
      if (dropped) this.setup.peerDropped();
    }
  }
}
