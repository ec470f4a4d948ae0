/**
 * The swarm of a magnet link before its metadata is known (BEP 9): it finds peers (the link's
 * `x.pe`, its trackers, ut_pex, incoming connections, the DHT and local discovery: a link with
 * neither `tr` nor `x.pe` is found through the DHT), asks those that offer ut_metadata for the
 * info dictionary in 16 KiB pieces, several peers at once (metadata-assembly.ts), and hands the
 * dictionary on once its SHA-1 is the info hash. The session then saves it and starts the
 * torrent's real swarm (swarm.ts), which dials the peers met here again: without the piece count
 * these connections could not carry pieces, and clients such as aria2 start over the same way.
 */
import type { MagnetLink } from '../../io/magnet-link.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { PeerEncryption } from '../net/mse/encryption-policy.js';
import type { PeerSocket } from '../net/peer-socket.js';
import type { Announcer, PeerAddress } from '../tracker/announce-client.js';
import type { ExtensionHandshake } from '../wire/extension-handshake.js';
import { encodeMetadataMessage, type MetadataMessage, type ReceivedMetadataMessage } from '../wire/ut-metadata.js';
import { encodeHandshake } from '../wire/wire-codec.js';
import { supportsExtensionProtocol, type Handshake, type WireMessage } from '../wire/wire-messages.js';
import type { WireParser } from '../wire/wire-parser.js';
import { ExtensionMessages } from './extension-messages.js';
import { tendLiveness } from './liveness.js';
import { MetadataAssembly } from './metadata-assembly.js';
import { PeerConnection, type PeerHandler } from './peer-connection.js';
import { PeerDialler } from './peer-dialler.js';
import { startAnnouncer } from './swarm-announcer.js';
import { admissionLimit, PeerList, type Admission, type PeerSource } from './peer-list.js';
import type { SwarmContext } from './swarm-context.js';
import { SwarmDiscovery } from './swarm-discovery.js';
import type { SwarmStatus } from './swarm-status.js';

/**
 * What a tracker is told is left while the size is unknown: not 0, which would make us a seeder
 * to it and get us no seeders back. libtorrent sends the same.
 */
const UNKNOWN_LEFT = 16 * 1024;

export interface MagnetSwarmSetup {
  link: MagnetLink;
  context: SwarmContext;
  /**
   * The info dictionary arrived and its hash is the info hash; `peers` are those met meanwhile,
   * with the ports they listen on and where they came from, for the real swarm to dial.
   */
  onMetadata(info: Buffer, peers: (PeerAddress & { source: PeerSource })[]): void;
}

export class MagnetSwarm implements PeerHandler {
  readonly link: MagnetLink;
  readonly peers = new Set<PeerConnection>();
  private readonly context: SwarmContext;
  private readonly assembly: MetadataAssembly<PeerConnection>;
  private readonly peerList: PeerList;
  private readonly dialler: PeerDialler;
  /** The peers' BEP 10 messages: extension handshakes, ut_pex, ut_metadata. */
  private readonly extensions: ExtensionMessages;
  /**
   * The DHT and local discovery. Whether the torrent is private (BEP 27) is in the metadata we
   * do not have yet: like other clients, we look for its first peers there all the same.
   */
  private readonly discovery: SwarmDiscovery;
  private announcer: Announcer | null = null;
  private stopTicking: (() => void) | null = null;
  private stopped = false;
  private readonly log: Logger;
  private readonly settings: Settings;
  private readonly clock: Clock;

  constructor(private readonly setup: MagnetSwarmSetup) {
    const { link, context } = setup;
    this.link = link;
    this.context = context;
    this.settings = context.settings;
    this.clock = context.clock;
    this.log = context.log.child(link.name ?? link.infoHashHex);
    this.assembly = new MetadataAssembly(link.infoHash, this.settings);
    this.discovery = new SwarmDiscovery(context, false);
    const peerList = (this.peerList = new PeerList({
      settings: this.settings,
      isSelf: (ip, port) => context.isSelf(ip, port),
      isBanned: () => false,
      log: this.log,
    }));
    this.dialler = new PeerDialler({
      context, infoHash: link.infoHash, log: this.log, peerList, open: this.peers, offersDht: this.discovery.offersDht,
      wantsPeers: () => !this.stopped,
      isStopped: () => this.stopped,
      admit: (socket, parser, handshake, ip, port, encryption) => this.admit(socket, parser, handshake, true, ip, port, encryption),
      peerDropped: () => undefined,
    });
    this.extensions = new ExtensionMessages({
      isPrivate: false, pexMaxReceivedPeers: this.settings.pexMaxReceivedPeers, log: this.log,
      isBannedAddress: () => false,
      learnIncoming: (ip, port) => this.peerList.learn(ip, port, 'incoming'),
      learnFromPex: (peers) => this.learnPeers(peers, 'pex'),
      handshakeReceived: (peer, extensions) => this.onExtensionHandshake(peer, extensions),
      metadataReceived: (peer, message) => this.onMetadata(peer, message),
    });
  }

  /** Dials the link's peers and asks its trackers for more. */
  start(): void {
    this.log.info(`fetching the metadata of ${this.link.infoHashHex} from peers (magnet link)`);
    this.announcer = startAnnouncer(this.context, {
      tiers: this.link.announceList,
      infoHash: this.link.infoHash,
      stats: () => ({ uploaded: 0, downloaded: 0, left: UNKNOWN_LEFT }),
      onPeers: (peers) => this.learnPeers(peers, 'tracker'),
      log: this.log,
      // Counts of a swarm whose torrent we do not know yet would say little; its own swarm scrapes.
      scrape: false,
    });
    this.learnPeers(this.link.peers, 'magnet');
    this.discovery.join(this.link.infoHash, () => !this.stopped, (peers, source) => this.learnPeers(peers, source));
    this.stopTicking = this.context.housekeeping.join(this.log, () => this.housekeeping());
  }

  /** Adds peers heard of from `source` to the peer list, and dials them. */
  learnPeers(peers: readonly PeerAddress[], source: PeerSource): void {
    for (const { ip, port } of peers) this.peerList.learn(ip, port, source);
    this.dialler.dialKnownPeers();
  }

  /** Takes a connection whose handshake named this torrent; answers the handshake when it was not ours to start. */
  admit(socket: PeerSocket, parser: WireParser, handshake: Handshake, outgoing: boolean, ip: string, port: number, encryption: PeerEncryption): Admission {
    const refuse = (reason: string, admission: Admission = 'refused'): Admission => {
      this.log.debug(`refused ${ip}:${port}: ${reason}`);
      socket.destroy();
      return admission;
    };
    if (this.stopped) return refuse('swarm stopped');
    if (handshake.peerId.equals(this.context.peerId)) return refuse('that is this peer itself');
    // Without the extension protocol a peer cannot give metadata, and without metadata we have nothing to trade.
    if (!supportsExtensionProtocol(handshake)) return refuse('it does not speak the extension protocol (BEP 10), so it cannot give metadata');
    const limit = admissionLimit(handshake.peerId, ip, this.peers, this.settings);
    if (limit) return refuse(limit.reason, limit.admission);
    if (!outgoing) socket.write(encodeHandshake(this.link.infoHash, this.context.peerId, { dht: this.discovery.offersDht }));
    const peer = new PeerConnection(socket, parser, handshake, {
      outgoing, pieceCount: null, remoteIp: ip, remotePort: port, encryption, settings: this.settings, clock: this.clock, pexAllowed: true,
    });
    this.peers.add(peer);
    this.log.debug(`connected to ${peer.address} (${outgoing ? 'outgoing' : 'incoming'}) for metadata`);
    peer.greet(null, this.context.port);
    const portMessage = this.discovery.portMessageFor(handshake);
    if (portMessage) peer.send(portMessage);
    peer.attach(this, { limiter: this.context.downloadLimiter, owner: this });
    return 'admitted';
  }

  onMessage(peer: PeerConnection, message: WireMessage): void {
    if (message.kind === 'port') return this.discovery.portReceived(peer, peer.remoteIp, message.port);
    if (message.kind !== 'extended') return;
    this.extensions.received(peer, message.extId, message.payload);
  }

  private onExtensionHandshake(peer: PeerConnection, extensions: ExtensionHandshake): void {
    const size = extensions.metadata_size;
    if (!extensions.m.ut_metadata || size === undefined) return peer.close('it offers no metadata (no ut_metadata with a metadata_size)');
    const offer = this.assembly.offered(peer, size);
    if (!offer.ok) return this.drop(peer, offer.reason);
    this.ask(peer);
  }

  private onMetadata(peer: PeerConnection, message: ReceivedMetadataMessage): void {
    switch (message.type) {
      case 'request':
        // We have no metadata to give yet.
        return this.send(peer, { type: 'reject', piece: message.piece });
      case 'reject':
        this.assembly.rejected(peer, message.piece);
        return this.askEveryone();
      case 'unknown':
        // BEP 9: a message type we do not know is ignored, for later extensions of the protocol.
        return;
      case 'data':
        break;
    }
    const arrival = this.assembly.received(peer, message.piece, message.totalSize, message.data, this.clock.now());
    switch (arrival.kind) {
      case 'stored':
        return this.ask(peer);
      case 'drop':
        return this.drop(peer, arrival.reason);
      case 'bad-hash':
        this.log.warn(`the metadata received does not match the info hash: ${arrival.reason}; asking other peers`);
        for (const sender of arrival.senders) this.drop(sender, 'it sent metadata that does not match the info hash');
        return this.askEveryone();
      case 'complete':
        return this.complete(arrival.info);
    }
  }

  /** A peer that broke the rules of the metadata exchange: closed, and not dialled again. */
  private drop(peer: PeerConnection, reason: string): void {
    this.peerList.remove(peer.address);
    peer.close(reason);
  }

  private complete(info: Buffer): void {
    if (this.stopped) return;
    this.log.info(`metadata received (${info.length} bytes from ${this.peers.size} peer(s)) and matches the info hash`);
    const peers = this.peerList.sources().map(({ address, source }) => {
      const at = address.lastIndexOf(':');
      return { ip: address.slice(0, at), port: Number(address.slice(at + 1)), source };
    });
    this.setup.onMetadata(info, peers);
  }

  private ask(peer: PeerConnection): void {
    const id = peer.extensions?.m.ut_metadata;
    if (!id || peer.isClosed) return;
    for (const piece of this.assembly.nextRequests(peer, this.clock.now())) this.send(peer, { type: 'request', piece });
  }

  private askEveryone(): void {
    for (const peer of this.peers) this.ask(peer);
  }

  private send(peer: PeerConnection, message: MetadataMessage): void {
    const id = peer.extensions?.m.ut_metadata;
    if (id) peer.send({ kind: 'extended', extId: id, payload: encodeMetadataMessage(message) });
  }

  onClose(peer: PeerConnection, reason: string): void {
    this.peers.delete(peer);
    this.assembly.peerLeft(peer);
    this.log.debug(`disconnected from ${peer.address}: ${reason}`);
    this.peerList.connectionClosed(peer.peerIdHex, this.clock.now());
    this.askEveryone();
  }

  onWritable(): void {
    // Nothing waits for the socket: metadata pieces are small and sent at once.
  }

  /** Ticked every second by the session (housekeeping.ts). */
  private housekeeping(): void {
    if (this.peers.size > 0) {
      tendLiveness(this.peers, this.clock.now(), this.settings);
      // Requests that timed out go to other peers.
      this.askEveryone();
    }
    this.dialler.dialKnownPeers();
  }

  knownAddresses(): string[] {
    return this.peerList.addresses();
  }

  status(): SwarmStatus {
    const now = this.clock.now();
    return {
      infoHash: this.link.infoHashHex,
      name: this.link.name ?? this.link.infoHashHex,
      role: 'leecher',
      announcer: false,
      private: false,
      metadata: false,
      pieces: 0,
      have: 0,
      size: 0,
      downloaded: 0,
      received: 0,
      uploaded: 0,
      left: 0,
      downloadRate: 0,
      uploadRate: 0,
      peers: [...this.peers].map((peer) => peer.status(now)),
      known: this.knownAddresses(),
      knownFrom: this.peerList.sources(),
      banned: [],
      tracker: this.announcer?.announcing ? this.announcer.status() : undefined,
      trackers: this.announcer?.trackerList() ?? [],
      startedFrom: null,
      error: null,
    };
  }

  /** Closes every connection and leaves the trackers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTicking?.();
    this.discovery.stop();
    for (const peer of [...this.peers]) peer.close('shutting down');
    this.context.downloadLimiter.forget(this);
    await this.announcer?.stop();
  }
}
