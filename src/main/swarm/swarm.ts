/**
 * One torrent's swarm as seen by this peer: its data, its role (seeder or leecher), the peers
 * it is connected to, the peer list it knows, and the traffic between them. It coordinates:
 * whom to dial is the peer list's (peer-list.ts, peer-dialler.ts), what to ask for the request
 * pipeline's, what to serve the uploader's, whether a piece is good and whom that bans the piece
 * verifier's, becoming a seeder role-change.ts's, whom to unchoke the choker's.
 */
import { type Metainfo } from '../../io/metainfo.js';
import type { Settings } from '../../io/settings.js';
import { TorrentData } from '../../io/torrent-data.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { PeerEncryption } from '../net/mse/encryption-policy.js';
import type { PeerSocket } from '../net/peer-socket.js';
import type { Announcer, PeerAddress } from '../tracker/announce-client.js';
import { torrentTiers } from '../tracker/tracker-tiers.js';
import { encodeMetadataMessage } from '../wire/ut-metadata.js';
import { encodeHandshake } from '../wire/wire-codec.js';
import type { Handshake, WireMessage } from '../wire/wire-messages.js';
import type { WireParser } from '../wire/wire-parser.js';
import { BanList } from './ban-list.js';
import { Choker } from './choker.js';
import { ExtensionMessages } from './extension-messages.js';
import { tendLiveness } from './liveness.js';
import { PeerConnection, type PeerHandler } from './peer-connection.js';
import { PeerDialler } from './peer-dialler.js';
import { admissionLimit, PeerList, type Admission, type PeerSource } from './peer-list.js';
import { PieceVerifier } from './piece-verifier.js';
import { PiecePicker } from './piece-picker.js';
import { FileSelection } from './file-selection.js';
import { RateMeter } from './rate-meter.js';
import { RequestPipeline } from './request-pipeline.js';
import { ResumeSaver } from './resume-saver.js';
import { SwarmRole } from './role-change.js';
import { ChangedData } from './changed-data.js';
import { describeSwarmEvent, type SwarmEvent } from './swarm-events.js';
import type { SwarmContext, SwarmOptions } from './swarm-context.js';
import { startAnnouncer } from './swarm-announcer.js';
import { SwarmDiscovery } from './swarm-discovery.js';
import type { SwarmStatus } from './swarm-status.js';
import { MetadataServer } from './metadata-server.js';
import { SmartBan } from './smart-ban.js';
import { StorageWatch } from './storage-check.js';
import { Uploader } from './uploader.js';
import type { Role } from './role.js';

export class Swarm implements PeerHandler {
  readonly data: TorrentData;
  readonly picker: PiecePicker;
  /** The files wanted and their order, a stream's urgent pieces, wanted files moved when complete. */
  readonly selection: FileSelection;
  /** Whether the swarm said it is done with every file wanted but not all (some skipped). */
  private wantedDoneSaid = false;
  readonly peers = new Set<PeerConnection>();
  private readonly bans: BanList;
  /** Who sent each block, and the pieces downloaded from one peer at a time after bad data. */
  private readonly smartBan = new SmartBan<PeerConnection>();
  /** Our requests to the peers, and the slab slots their blocks land in. */
  private readonly pipeline: RequestPipeline<PeerConnection>;
  private readonly peerList: PeerList;
  private readonly dialler: PeerDialler;
  /** The peers' requests to us. */
  private readonly uploader: Uploader<PeerConnection>;
  private readonly verifier: PieceVerifier<PeerConnection>;
  private readonly roles: SwarmRole;
  private readonly resume: ResumeSaver;
  /** A storage error that holds up downloading, its log lines and its recovery (storage-check.ts). */
  private readonly storage: StorageWatch;
  /** Pieces whose data changed on disk under us, withheld from uploading (changed-data.ts). */
  private readonly changed: ChangedData;
  /** Our info dictionary, for the peers that ask with ut_metadata. */
  private readonly metadata: MetadataServer<PeerConnection>;
  /** The peers' BEP 10 messages: extension handshakes, ut_pex, ut_metadata requests. */
  private readonly extensions: ExtensionMessages;
  /** The DHT and local discovery, unless the torrent is private. */
  private readonly discovery: SwarmDiscovery;
  private announcer: Announcer | null = null;
  private stopTicking: (() => void) | null = null;
  private startedFrom: SwarmStatus['startedFrom'] = 'checked';
  private stopped = false;
  private readonly downloadRate: RateMeter;
  /** Payload bytes of every PIECE message that came in, duplicates and blocks of failed pieces included (SwarmStatus.received). */
  private received = 0;
  private readonly log: Logger;
  private readonly settings: Settings;
  private readonly clock: Clock;

  constructor(
    readonly meta: Metainfo,
    data: TorrentData,
    private readonly context: SwarmContext,
    private readonly options: SwarmOptions,
  ) {
    this.data = data;
    this.picker = new PiecePicker(data.geometry);
    this.metadata = new MetadataServer(meta.infoBytes);
    this.discovery = new SwarmDiscovery(context, meta.private);
    const log = (this.log = context.log.child(meta.name));
    const settings = (this.settings = context.settings);
    const clock = (this.clock = context.clock);
    this.storage = new StorageWatch({
      data, settings, clock, log,
      onFault: () => this.pipeline.cancelAll(),
      onRecovered: async () => {
        if (this.role === 'leecher' && this.picker.complete) return this.roles.becomeSeeder();
        await this.selection.moveComplete();
        for (const peer of this.peers) this.pipeline.fill(peer);
      },
      isStopped: () => this.stopped,
    });
    this.selection = new FileSelection({
      data, picker: this.picker, priorities: options.priorities, sequential: options.sequential, sequentialWindow: settings.sequentialWindowPieces, log,
      changed: () => this.wantedChanged(),
      storageFailed: (what, error, causeGone) => this.storage.failed(what, error, causeGone),
    });
    this.bans = new BanList(settings.maxBansPerSwarm);
    this.downloadRate = new RateMeter(settings.rateWindowMs, settings.rateBucketMs);
    this.pipeline = new RequestPipeline({
      picker: this.picker,
      slabShares: context.slabShares,
      smartBan: this.smartBan,
      settings,
      clock,
      isDownloading: () => this.role === 'leecher' && !this.storage.active,
    });
    const isBanned = (ip: string, port: number): boolean => this.bans.isBannedAddress(ip, port);
    const peerList = (this.peerList = new PeerList({ settings, isSelf: (ip, port) => context.isSelf(ip, port), isBanned, log }));
    this.extensions = new ExtensionMessages({
      isPrivate: meta.private, pexMaxReceivedPeers: settings.pexMaxReceivedPeers, log, isBannedAddress: isBanned,
      // Tracker service: a peer that reached us joins the peer list with the port it listens on,
      // and the change is broadcast to the swarm.
      learnIncoming: (ip, port) => this.peerList.learn(ip, port, 'incoming'),
      learnFromPex: (peers) => this.learnPeers(peers, 'pex'),
      handshakeReceived: () => this.broadcastPeerList(),
      // Requests are answered from our info dictionary; we asked this peer for nothing, so the rest is ignored.
      metadataReceived: (peer, message) => {
        const id = peer.extensions?.m.ut_metadata;
        if (message.type !== 'request' || !id) return;
        peer.send({ kind: 'extended', extId: id, payload: encodeMetadataMessage(this.metadata.answer(peer, message.piece)) });
      },
    });
    this.dialler = new PeerDialler({
      context, infoHash: meta.infoHash, log, peerList, open: this.peers, offersDht: this.discovery.offersDht,
      wantsPeers: () => this.role === 'leecher' && !this.picker.wantedComplete && !this.stopped && !this.storage.active,
      isStopped: () => this.stopped,
      admit: (socket, parser, handshake, ip, port, encryption) => this.admit(socket, parser, handshake, true, ip, port, encryption),
      peerDropped: () => this.broadcastPeerList(),
    });
    const hasPiece = (index: number): boolean => this.picker.hasPiece(index);
    this.changed = new ChangedData({
      data, hasPiece, log,
      storageFailed: (what, error, causeGone) => this.storage.failed(what, error, causeGone),
    });
    this.uploader = new Uploader({
      choker: new Choker(settings), geometry: data.geometry, infoHashHex: meta.infoHashHex, hasPiece,
      readCache: context.readCache, limiter: context.uploadLimiter, settings, clock,
      role: () => this.role,
      isSnubbed: (peer) => this.pipeline.isSnubbed(peer),
      readPiece: (index, piece) => data.readPiece(index, piece),
      readFailed: (index, error) => void this.changed.readFailed(index, error),
      withheld: (index) => this.changed.withheld(index),
    });
    this.verifier = new PieceVerifier({
      data, picker: this.picker, smartBan: this.smartBan, log,
      pieceDone: (index) => this.pipeline.pieceDone(index),
      storageFailed: (index, error) => this.storage.failed(`cannot write piece ${index}`, error),
      ban: (peer, reason) => this.ban(peer, reason),
      pieceFailed: () => this.refillAfterFailure(),
      pieceVerified: (index) => this.pieceVerified(index),
    });
    this.resume = new ResumeSaver((cleanStop) => data.saveResume(hasPiece, cleanStop), (error) => this.storage.failed('cannot save resume data', error), context.resumeSaves);
    this.roles = new SwarmRole({
      peers: this.peers, data, pieceCount: meta.pieceCount,
      storageFailed: (what, error, causeGone) => this.storage.failed(what, error, causeGone),
      releaseRequests: () => this.pipeline.releaseAll(),
      saveResume: () => this.resume.save(false),
      reportEvent: (event) => this.reportEvent(event),
      completed: () => {
        this.announcer?.completed();
        context.onComplete(this);
      },
    });
  }

  get role(): Role {
    return this.roles.role;
  }

  /** Checks the data on disk, takes the role it allows, and joins the swarm. */
  async start(): Promise<void> {
    const { pieces, resumed } = await this.data.open(this.context.previousRunClean);
    this.startedFrom = resumed;
    for (const index of pieces) this.picker.markHave(index);
    const moved = await this.roles.start(this.picker.complete);
    // Wanted files that were complete when the last run stopped, before their move.
    await this.selection.moveComplete();
    this.reportEvent({ kind: 'joined', role: this.role, have: pieces.length, pieces: this.meta.pieceCount, from: resumed, location: this.data.location });
    // What a check found is saved at once, so a restart need not find it again. After a fast
    // resume there is nothing new to save: the session's run marker already tells a restart that
    // this run may not stop cleanly.
    if (resumed !== 'fast' || moved) await this.resume.save(false);
    if (this.options.paused) return this.stop();
    if (this.options.announcer) this.log.info('this peer is the announce address: serving the tracker');
    this.announcer = startAnnouncer(this.context, {
      tiers: torrentTiers(this.meta.announce, this.meta.announceList),
      infoHash: this.meta.infoHash,
      stats: () => ({ uploaded: this.uploader.uploaded, downloaded: this.verifier.downloaded, left: this.picker.bytesLeft() }),
      onPeers: (peers) => this.learnPeers(peers, 'tracker'),
      log: this.log,
      onFailure: (failure) => this.reportEvent({ kind: 'tracker-error', ...failure }),
      scrape: true,
    });
    this.discovery.join(this.meta.infoHash, () => this.role === 'leecher' && !this.picker.wantedComplete && !this.stopped, (peers, source) => this.learnPeers(peers, source));
    this.stopTicking = this.context.housekeeping.join(this.log, () => this.housekeeping());
  }

  /** Logs one of the swarm's events (see swarm-events.ts); whatever bans a peer reports it here. */
  reportEvent(event: SwarmEvent): void {
    const { level, text } = describeSwarmEvent(event);
    this.log[level](text);
  }

  /** Adds peers heard of from `source` to the peer list (a tracker's answer, peers that announced to us, the DHT...). */
  learnPeers(peers: readonly PeerAddress[], source: PeerSource): void {
    let learned = false;
    for (const { ip, port } of peers) learned = this.peerList.learn(ip, port, source) || learned;
    if (learned) this.broadcastPeerList();
    this.dialler.dialKnownPeers();
  }

  /** Tells the connected peers what changed in the peer list (ut_pex). */
  private broadcastPeerList(): void {
    this.peerList.broadcast(this.peers, this.clock.now());
  }

  /**
   * Takes a connection whose handshake named this torrent (incoming connections arrive here
   * from the session). Answers the handshake when it was not ours to start.
   */
  admit(socket: PeerSocket, parser: WireParser, handshake: Handshake, outgoing: boolean, ip: string, port: number, encryption: PeerEncryption): Admission {
    const refuse = (reason: string, admission: Admission = 'refused'): Admission => {
      this.log.debug(`refused ${ip}:${port}: ${reason}`);
      socket.destroy();
      return admission;
    };
    if (this.stopped) return refuse('swarm stopped');
    if (handshake.peerId.equals(this.context.peerId)) return refuse('that is this peer itself');
    if (this.bans.isBannedPeerId(handshake.peerId.toString('hex')) || this.bans.isBannedAddress(ip, port)) return refuse('banned for sending bad data');
    const limit = admissionLimit(handshake.peerId, ip, this.peers, this.settings);
    if (limit) return refuse(limit.reason, limit.admission);
    if (!outgoing) socket.write(encodeHandshake(this.meta.infoHash, this.context.peerId, { dht: this.discovery.offersDht }));
    const peer = new PeerConnection(socket, parser, handshake, { outgoing, pieceCount: this.meta.pieceCount, remoteIp: ip, remotePort: port, encryption, settings: this.settings, clock: this.clock, pexAllowed: !this.meta.private, metadataSize: this.metadata.size });
    parser.setBlockDestination((index, begin, length) => this.pipeline.slotFor(peer, index, begin, length));
    this.peers.add(peer);
    this.pipeline.join(peer);
    this.uploader.join(peer);
    this.log.debug(`connected to ${peer.address} (${outgoing ? 'outgoing' : 'incoming'})`);
    peer.greet(this.picker.piecesHad > 0 ? this.data.geometry.bitfield((i) => this.picker.hasPiece(i)) : null, this.context.port);
    const portMessage = this.discovery.portMessageFor(handshake);
    if (portMessage) peer.send(portMessage);
    peer.attach(this, { limiter: this.context.downloadLimiter, owner: this });
    return 'admitted';
  }

  onMessage(peer: PeerConnection, message: WireMessage): void {
    switch (message.kind) {
      case 'keep-alive':
        return;
      case 'port':
        this.discovery.portReceived(peer, peer.remoteIp, message.port);
        return;
      case 'choke':
        peer.peerChoked();
        this.pipeline.choked(peer);
        return;
      case 'unchoke':
        peer.peerUnchoked();
        this.pipeline.fill(peer);
        return;
      case 'interested':
      case 'not-interested':
        peer.peerInterestChanged(message.kind === 'interested');
        this.uploader.interestChanged();
        if (message.kind === 'interested') this.uploader.suggest(peer);
        return;
      case 'have':
        if (peer.peerHasPiece(message.index)) this.picker.peerHasPiece(message.index);
        this.updateInterest(peer);
        return;
      case 'bitfield':
        this.onPieces(peer, peer.applyBitfield(message.bits));
        return;
      case 'have-all':
      case 'have-none':
        this.onPieces(peer, peer.applyHaveAllOrNone(message.kind === 'have-all'));
        return;
      case 'reject':
        this.onReject(peer, message);
        return;
      case 'allowed-fast':
        peer.allowedFastReceived(message.index);
        this.pipeline.fill(peer);
        return;
      case 'suggest':
        peer.suggestionReceived(message.index);
        return;
      case 'request':
        this.uploader.request(peer, message);
        return;
      case 'cancel':
        this.uploader.cancel(peer, message);
        return;
      case 'piece':
        this.onBlock(peer, message);
        return;
      case 'extended':
        this.extensions.received(peer, message.extId, message.payload);
        return;
    }
  }

  /** The peer told all its pieces at once: a bitfield, or BEP 6's HAVE_ALL or HAVE_NONE. */
  private onPieces(peer: PeerConnection, { gained, lost }: { gained: number[]; lost: number[] }): void {
    for (const index of gained) this.picker.peerHasPiece(index);
    for (const index of lost) this.picker.peerLostPiece(index);
    if (this.role === 'seeder' && peer.peerPieces.isComplete()) return peer.close('both sides are seeders');
    this.updateInterest(peer);
  }

  /** A Fast peer rejected a request of ours: the other peers may be asked for the block at once. */
  private onReject(peer: PeerConnection, message: { index: number; begin: number; length: number }): void {
    peer.requestRejected(message.index);
    if (!this.pipeline.rejected(peer, message)) {
      return this.log.debug(`ignored a REJECT_REQUEST from ${peer.address} for piece ${message.index} offset ${message.begin}: no such request outstanding`);
    }
    for (const other of this.peers) if (other !== peer) this.pipeline.fill(other);
  }

  onWritable(peer: PeerConnection): void {
    this.uploader.serve(peer);
  }

  private onBlock(peer: PeerConnection, message: { index: number; begin: number; block: Buffer }): void {
    // Counted before its fate is known: a dropped duplicate cost as much bandwidth as a kept block.
    this.received += message.block.length;
    const outcome = this.pipeline.blockArrived(peer, message.index, message.begin, message.block);
    if (outcome.kind === 'late') return;
    if (outcome.kind === 'unrequested') return peer.close(`sent piece ${message.index} offset ${message.begin}, which nobody requested`);
    if (outcome.kind === 'malformed') return peer.close(`bad block: ${outcome.reason}`);
    peer.countDownloaded(message.block.length);
    this.downloadRate.add(message.block.length, this.clock.now());
    if (outcome.kind === 'accepted' && outcome.piece) this.verifier.verify(message.index, outcome.piece);
    this.pipeline.fill(peer);
  }

  /** A piece failed or could not be written: its blocks are asked for again. */
  private refillAfterFailure(): void {
    if (this.stopped) return;
    for (const peer of this.peers) this.pipeline.fill(peer);
  }

  /** A piece is on disk: every peer hears of it, and the last one makes this peer a seeder. */
  private async pieceVerified(index: number): Promise<void> {
    this.resume.markDirty();
    if (this.stopped) return;
    const moves = this.selection.pieceVerified(index);
    for (const peer of this.peers) {
      peer.announcePiece(index);
      this.updateInterest(peer);
    }
    await moves;
    if (this.picker.complete) await this.roles.becomeSeeder();
    else this.sayIfWantedDone();
  }

  /** Complete in every file wanted, but not a seeder: it requests nothing more, and --exit-when-done counts it done. */
  get done(): boolean {
    return this.role === 'seeder' || (this.picker.wantedComplete && this.selection.wantedInShareable);
  }

  private sayIfWantedDone(): void {
    if (!this.done || this.role === 'seeder' || this.wantedDoneSaid) return;
    this.wantedDoneSaid = true;
    this.pipeline.releaseAll();
    this.log.info('every file wanted is complete and in shareable/; the skipped ones are not downloaded');
    this.context.onComplete(this);
  }

  /** Other pieces are wanted now (a new choice of files, a stream): peers are told and asked. */
  private wantedChanged(): void {
    if (this.stopped) return;
    this.wantedDoneSaid = this.wantedDoneSaid && this.done;
    for (const peer of this.peers) this.updateInterest(peer);
    this.dialler.dialKnownPeers();
    this.sayIfWantedDone();
  }

  /**
   * Bans a peer that sent bad data: its connections close, its address and peer id are refused
   * from now on, it leaves the peer list (so it is not dialled again), and the pieces in
   * progress that hold its blocks start over rather than fail.
   */
  private ban(peer: PeerConnection, reason: string): void {
    const peerId = peer.peerIdHex;
    const address = peer.address;
    if (this.bans.ban({ ip: peer.remoteIp, port: peer.listenPort ?? peer.remotePort, peerId })) this.reportEvent({ kind: 'peer-banned', address, reason });
    for (const index of this.smartBan.piecesFrom(peer)) this.pipeline.restartPiece(index);
    // Closing asks the other peers for what is missing, the restarted pieces included.
    for (const other of [...this.peers]) {
      if (other === peer || other.peerIdHex === peerId || other.address === address) other.close(`banned: ${reason}`);
    }
    if (this.peerList.remove(address)) this.broadcastPeerList();
  }

  /** Tells the peer whether we want any of its pieces, and asks for them if so. */
  private updateInterest(peer: PeerConnection): void {
    const wanted = this.role === 'leecher' && this.picker.wants((i) => peer.peerPieces.has(i));
    peer.wantInterest(wanted);
    if (wanted) this.pipeline.fill(peer);
  }

  onClose(peer: PeerConnection, reason: string): void {
    this.peers.delete(peer);
    this.pipeline.peerLeft(peer);
    for (let i = 0; i < this.meta.pieceCount; i++) if (peer.peerPieces.has(i)) this.picker.peerLostPiece(i);
    this.log.debug(`disconnected from ${peer.address}: ${reason}`);
    // A peer we did not dial because this connection existed may be dialled again.
    this.peerList.connectionClosed(peer.peerIdHex, this.clock.now());
    this.uploader.peerLeft(peer);
    for (const other of this.peers) this.pipeline.fill(other);
  }

  /**
   * Ticked every second by the session (housekeeping.ts). Without a connection there is nothing
   * to time out, keep alive or tell of new peers, and ten thousand idle swarms are ticked: those
   * steps are skipped then, not made to walk empty lists.
   */
  private housekeeping(): void {
    const now = this.clock.now();
    this.resume.tick();
    this.storage.tick(now);
    if (this.peers.size > 0) {
      this.pipeline.timeOuts(now);
      tendLiveness(this.peers, now, this.settings);
      this.broadcastPeerList();
    }
    // The choker's rounds keep their pace with no peer: one that connects waits for the next as before.
    this.uploader.tick(now);
    for (const peer of this.peers) this.pipeline.fill(peer);
    this.dialler.dialKnownPeers();
  }

  /** The peer list, as "ip:port". */
  knownAddresses(): string[] {
    return this.peerList.addresses();
  }

  status(): SwarmStatus {
    const now = this.clock.now();
    return {
      infoHash: this.meta.infoHashHex,
      name: this.meta.name,
      role: this.role,
      announcer: this.options.announcer,
      private: this.meta.private,
      metadata: true,
      pieces: this.meta.pieceCount,
      have: this.picker.piecesHad,
      size: this.meta.totalLength,
      downloaded: this.verifier.downloaded,
      received: this.received,
      uploaded: this.uploader.uploaded,
      left: this.picker.bytesLeft(),
      downloadRate: Math.round(this.downloadRate.rate(now)),
      uploadRate: Math.round(this.uploader.rate.rate(now)),
      peers: [...this.peers].map((peer) => peer.status(now)),
      known: this.knownAddresses(),
      knownFrom: this.peerList.sources(),
      banned: this.bans.addresses(),
      tracker: this.announcer?.announcing ? this.announcer.status() : undefined,
      trackers: this.announcer?.trackerList() ?? [],
      startedFrom: this.startedFrom,
      error: this.storage.error,
      files: this.selection.statuses(),
      sequential: this.selection.sequential,
    };
  }

  /** Leaves the swarm: tells the tracker, closes connections, finishes writes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.selection.stop('the torrent stopped (paused, removed, or the peer stopping)');
    this.stopTicking?.();
    this.discovery.stop();
    for (const peer of [...this.peers]) peer.close('shutting down');
    await this.verifier.settled();
    this.pipeline.stop();
    this.uploader.stop();
    this.context.downloadLimiter.forget(this);
    await this.announcer?.stop();
    await this.data.close();
    await this.resume.save(true);
  }
}
