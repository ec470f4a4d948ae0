/**
 * One torrent's swarm as seen by this peer: its data, its role (seeder or leecher), the peers
 * it is connected to, the peer list it knows, and the traffic between them.
 */
import type net from 'node:net';
import type { BlockSlab, SlabPiece } from '../../io/block-slab.js';
import { type Metainfo } from '../../io/metainfo.js';
import type { PieceReader, ReadCache } from '../../io/read-cache.js';
import { TorrentData } from '../../io/torrent-data.js';
import type { Logger } from '../logger.js';
import type { ConnectionBudget } from '../net/connection-budget.js';
import { readHandshake } from '../net/handshake-exchange.js';
import type { FairLimiter } from '../net/fair-limiter.js';
import type { SlabShares } from './slab-shares.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Dialler } from '../net/dialler.js';
import { Announcer, type PeerAddress, type TrackerStatus } from '../tracker/announce-client.js';
import { decodeExtensionHandshake, encodeExtensionHandshake, LOCAL_EXTENSION_IDS } from '../wire/extension-handshake.js';
import { decodePex, encodePex, type PexPeer } from '../wire/ut-pex.js';
import { checkRequest } from '../wire/message-rules.js';
import { encodeHandshake } from '../wire/wire-codec.js';
import { supportsExtensionProtocol, type Handshake, type WireMessage } from '../wire/wire-messages.js';
import { WireParser } from '../wire/wire-parser.js';
import { BanList } from './ban-list.js';
import { Choker, type ChokeDecision, type ChokerPeer } from './choker.js';
import { livenessAction } from './liveness.js';
import { PeerConnection, type PeerHandler } from './peer-connection.js';
import { isShoalClient, PexSender } from './pex-broadcast.js';
import { PiecePicker } from './piece-picker.js';
import { RateMeter } from './rate-meter.js';
import { RequestPipeline } from './request-pipeline.js';
import { describeSwarmEvent, type StartedFrom, type SwarmEvent } from './swarm-events.js';
import { SmartBan, type FailureVerdict } from './smart-ban.js';
import type { Role } from './role.js';

export type { Role } from './role.js';

/** What became of a connection offered to the swarm. */
export type Admission = 'admitted' | 'duplicate' | 'refused';

/** What a swarm needs from the session that holds it. */
export interface SwarmContext {
  settings: Settings;
  clock: Clock;
  /** Opens outgoing connections (tcpDialler, or a test's). */
  dial: Dialler;
  peerId: Buffer;
  port: number;
  log: Logger;
  /** Whether ip:port is this very peer (one of our addresses, our port). */
  isSelf(ip: string, port: number): boolean;
  /** Whether one more connection of a swarm that has `swarmConnections` fits the session-wide limit. */
  hasConnectionRoom(swarmConnections: number): boolean;
  /** Peer-wire connections of the whole session (settings.maxConnections): outgoing ones are claimed as they are dialled. */
  connections: ConnectionBudget;
  /** Shared by every swarm: --upload-limit and --download-limit. */
  uploadLimiter: FairLimiter;
  downloadLimiter: FairLimiter;
  /** Shared block buffers for pieces being downloaded. */
  slab: BlockSlab;
  /** Each swarm's fair share of `slab`: pieces are allocated through it. */
  slabShares: SlabShares;
  /** Pieces read for uploading. */
  readCache: ReadCache;
  /** Whether the previous run of this peer stopped cleanly (run-marker.ts): only then is fast resume allowed. */
  previousRunClean: boolean;
  /** Called once when the swarm's data becomes complete. */
  onComplete(swarm: Swarm): void;
}

export interface SwarmOptions {
  /** Whether this peer is the torrent's announce address: it serves the tracker and does not announce. */
  announcer: boolean;
}

interface KnownPeer {
  ip: string;
  port: number;
  failures: number;
  nextAttemptAt: number;
  /** The peer id it answered with, once it did (hex). */
  peerId?: string;
}

export interface PeerStatus {
  address: string;
  downloaded: number;
  uploaded: number;
  /** Bytes per second over the last few seconds. */
  downloadRate: number;
  uploadRate: number;
}

export interface SwarmStatus {
  infoHash: string;
  name: string;
  role: Role;
  announcer: boolean;
  pieces: number;
  have: number;
  size: number;
  downloaded: number;
  uploaded: number;
  /** Bytes still to download. */
  left: number;
  /** Payload bytes per second over the last few seconds, all peers together. */
  downloadRate: number;
  uploadRate: number;
  peers: PeerStatus[];
  known: string[];
  /** Addresses banned for sending data that failed its hash check. */
  banned: string[];
  tracker?: TrackerStatus;
  /** How the pieces had at start were known: fast resume, resume data after a crash plus a check, or a full check. */
  startedFrom: StartedFrom;
}

/** Reads of blocks under way for one peer at a time. */
const MAX_READS_PER_PEER = 4;
/** Requests of a peer's queue looked through for pieces to read ahead: a few pieces' worth. */
const READ_AHEAD_SCAN = 256;
/** Period of the swarm's housekeeping: time-outs, keep-alives, new connections. */
const TICK_MS = 1000;
/** Delay before a failed connection to a known peer is tried again; doubles per failure. */
const RECONNECT_BASE_MS = 2_000;
const RECONNECT_MAX_MS = 120_000;
/** Consecutive failed connections after which a peer leaves the peer list. */
const MAX_CONNECT_FAILURES = 5;

export class Swarm implements PeerHandler {
  readonly data: TorrentData;
  readonly picker: PiecePicker;
  readonly peers = new Set<PeerConnection>();
  private readonly known = new Map<string, KnownPeer>();
  private readonly connecting = new Set<string>();
  /** Pieces being hashed and written; stopping waits for them. */
  private readonly pendingPieces = new Set<Promise<void>>();
  /** Pieces verified since the resume data was last saved. */
  private resumeDirty = false;
  private resumeSaving: Promise<void> | null = null;
  private readonly choker: Choker;
  private readonly bans: BanList;
  /** Who sent each block, and the pieces downloaded from one peer at a time after bad data. */
  private readonly smartBan = new SmartBan<PeerConnection>();
  /** Our requests to the peers, and the slab slots their blocks land in. */
  private readonly pipeline: RequestPipeline<PeerConnection>;
  private announcer: Announcer | null = null;
  private stopTicking: (() => void) | null = null;
  private roleNow: Role = 'leecher';
  private startedFrom: SwarmStatus['startedFrom'] = 'checked';
  private stopped = false;
  private downloadedBytes = 0;
  private uploadedBytes = 0;
  private readonly downloadRate: RateMeter;
  private readonly uploadRate: RateMeter;
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
    this.log = context.log.child(meta.name);
    this.settings = context.settings;
    this.clock = context.clock;
    this.bans = new BanList(this.settings.maxBansPerSwarm);
    this.choker = new Choker(this.settings);
    this.downloadRate = new RateMeter(this.settings.rateWindowMs, this.settings.rateBucketMs);
    this.uploadRate = new RateMeter(this.settings.rateWindowMs, this.settings.rateBucketMs);
    this.pipeline = new RequestPipeline({
      picker: this.picker,
      slabShares: context.slabShares,
      smartBan: this.smartBan,
      settings: this.settings,
      clock: this.clock,
      isDownloading: () => this.roleNow === 'leecher',
    });
  }

  get role(): Role {
    return this.roleNow;
  }

  get infoHashHex(): string {
    return this.meta.infoHashHex;
  }

  get isAnnouncer(): boolean {
    return this.options.announcer;
  }

  /** Checks the data on disk, takes the role it allows, and joins the swarm. */
  async start(): Promise<void> {
    const { pieces, resumed } = await this.data.open(this.context.previousRunClean);
    this.startedFrom = resumed;
    for (const index of pieces) this.picker.markHave(index);
    // Complete in cache/: the last piece verified as the previous run stopped, before the move.
    const move = this.picker.complete && this.data.location === 'cache';
    if (move) await this.data.moveToShareable();
    this.roleNow = this.picker.complete ? 'seeder' : 'leecher';
    this.reportEvent({ kind: 'joined', role: this.roleNow, have: pieces.length, pieces: this.meta.pieceCount, from: resumed, location: this.data.location });
    // What a check found is saved at once, so a restart need not find it again. After a fast
    // resume there is nothing new to save: the session's run marker already tells a restart that
    // this run may not stop cleanly.
    if (resumed !== 'fast' || move) await this.saveResume(false);
    if (this.options.announcer) {
      this.log.info('this peer is the announce address: serving the tracker');
    } else if (this.meta.announce) {
      this.announcer = new Announcer({
        url: this.meta.announce,
        infoHash: this.meta.infoHash,
        peerId: this.context.peerId,
        port: this.context.port,
        settings: this.settings,
        stats: () => ({ uploaded: this.uploadedBytes, downloaded: this.downloadedBytes, left: this.picker.bytesLeft() }),
        onPeers: (peers) => this.learnPeers(peers),
        log: (line) => this.log.info(line),
        onFailure: (failure) => this.reportEvent({ kind: 'tracker-error', ...failure }),
      });
      this.announcer.start();
    }
    this.stopTicking = this.clock.every(TICK_MS, () => this.housekeeping());
  }

  /** Logs one of the swarm's events (see swarm-events.ts); whatever bans a peer reports it here. */
  reportEvent(event: SwarmEvent): void {
    const { level, text } = describeSwarmEvent(event);
    this.log[level](text);
  }

  /** Adds peers to the peer list (the tracker's answer, or peers that announced to us). */
  learnPeers(peers: readonly PeerAddress[]): void {
    let learned = false;
    for (const { ip, port } of peers) learned = this.learnPeer(ip, port) || learned;
    if (learned) this.broadcastPeerList();
    this.connectToKnownPeers();
  }

  /** Adds a peer to the peer list; returns whether it was new. */
  private learnPeer(ip: string, port: number): boolean {
    if (this.context.isSelf(ip, port)) return false;
    const address = `${ip}:${port}`;
    if (this.known.has(address) || this.known.size >= this.settings.maxKnownPeersPerSwarm || this.bans.isBannedAddress(ip, port)) return false;
    this.known.set(address, { ip, port, failures: 0, nextAttemptAt: 0 });
    this.log.debug(`learned of peer ${address}`);
    return true;
  }

  private isConnectedTo(address: string): boolean {
    for (const peer of this.peers) if (peer.address === address) return true;
    return false;
  }

  private connectToKnownPeers(): void {
    if (this.roleNow !== 'leecher' || this.picker.complete || this.stopped) return;
    const now = this.clock.now();
    let perIp: Map<string, number> | null = null;
    for (const [address, known] of this.known) {
      const connections = this.peers.size + this.connecting.size;
      if (connections >= this.settings.maxPeersPerSwarm || !this.context.hasConnectionRoom(connections)) return;
      if (known.nextAttemptAt > now || this.connecting.has(address) || this.isConnectedTo(address)) continue;
      perIp ??= this.connectionsPerIp();
      const sameIp = perIp.get(known.ip) ?? 0;
      if (sameIp >= this.settings.maxPeersPerAddress) continue;
      perIp.set(known.ip, sameIp + 1);
      void this.connect(known);
    }
  }

  /** Connections open or being dialled, by remote IP. */
  private connectionsPerIp(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (ip: string): void => void counts.set(ip, (counts.get(ip) ?? 0) + 1);
    for (const peer of this.peers) add(peer.remoteIp);
    for (const address of this.connecting) add(address.slice(0, address.lastIndexOf(':')));
    return counts;
  }

  private async connect(known: KnownPeer): Promise<void> {
    const address = `${known.ip}:${known.port}`;
    const socket = this.context.dial(known.ip, known.port);
    if (!this.context.connections.claim(socket)) {
      socket.destroy();
      return;
    }
    this.connecting.add(address);
    socket.setNoDelay(true);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('connection timed out')), this.settings.connectTimeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      socket.write(encodeHandshake(this.meta.infoHash, this.context.peerId));
      const parser = new WireParser({ expectHandshake: true, maxFrameLength: this.settings.maxFrameLength });
      const handshake = await readHandshake(socket, parser, this.settings.handshakeTimeoutMs);
      if (!handshake.infoHash.equals(this.meta.infoHash)) throw new Error('it answered for another torrent');
      this.connecting.delete(address);
      known.failures = 0;
      if (this.stopped) throw new Error('swarm stopped');
      known.peerId = handshake.peerId.toString('hex');
      const admission = this.admit(socket, parser, handshake, true, known.ip, known.port);
      // Already connected the other way: not tried again until that connection ends.
      if (admission === 'duplicate') known.nextAttemptAt = Infinity;
      else if (admission === 'refused') known.nextAttemptAt = this.clock.now() + RECONNECT_BASE_MS;
    } catch (error) {
      this.connecting.delete(address);
      socket.destroy();
      known.failures++;
      known.nextAttemptAt = this.clock.now() + Math.min(RECONNECT_BASE_MS * 2 ** (known.failures - 1), RECONNECT_MAX_MS);
      this.log.debug(`could not connect to ${address}: ${(error as Error).message}`);
      if (known.failures >= MAX_CONNECT_FAILURES) {
        // Gone, as far as we can tell: off the peer list, and ut_pex tells the swarm it dropped.
        this.known.delete(address);
        this.broadcastPeerList();
      }
    }
  }

  /**
   * Takes a connection whose handshake named this torrent (incoming connections arrive here
   * from the session). Answers the handshake when it was not ours to start.
   */
  admit(socket: net.Socket, parser: WireParser, handshake: Handshake, outgoing: boolean, ip: string, port: number): Admission {
    const refuse = (reason: string, admission: Admission = 'refused'): Admission => {
      this.log.debug(`refused ${ip}:${port}: ${reason}`);
      socket.destroy();
      return admission;
    };
    if (this.stopped) return refuse('swarm stopped');
    if (handshake.peerId.equals(this.context.peerId)) return refuse('that is this peer itself');
    if (this.bans.isBannedPeerId(handshake.peerId.toString('hex')) || this.bans.isBannedAddress(ip, port)) return refuse('banned for sending bad data');
    let sameIp = 0;
    for (const peer of this.peers) {
      if (peer.handshake.peerId.equals(handshake.peerId)) return refuse('already connected to that peer', 'duplicate');
      if (peer.remoteIp === ip) sameIp++;
    }
    if (this.peers.size >= this.settings.maxPeersPerSwarm) return refuse(`${this.settings.maxPeersPerSwarm} peers are connected in this swarm already (maxPeersPerSwarm)`);
    if (sameIp >= this.settings.maxPeersPerAddress) return refuse(`${this.settings.maxPeersPerAddress} peers from ${ip} are connected in this swarm already (maxPeersPerAddress)`);
    if (!outgoing) socket.write(encodeHandshake(this.meta.infoHash, this.context.peerId));
    const peer = new PeerConnection(socket, parser, handshake, { outgoing, pieceCount: this.meta.pieceCount, remoteIp: ip, remotePort: port, settings: this.settings, clock: this.clock });
    parser.setBlockDestination((index, begin, length) => this.pipeline.slotFor(peer, index, begin, length));
    this.peers.add(peer);
    this.pipeline.join(peer);
    this.log.debug(`connected to ${peer.address} (${outgoing ? 'outgoing' : 'incoming'})`);
    // BEP 3: a bitfield is only ever the first message after the handshake.
    if (this.picker.piecesHad > 0) peer.send({ kind: 'bitfield', bits: this.data.geometry.bitfield((i) => this.picker.hasPiece(i)) });
    if (supportsExtensionProtocol(handshake)) {
      const payload = encodeExtensionHandshake({
        m: { ...LOCAL_EXTENSION_IDS },
        p: this.context.port,
        v: this.settings.clientName,
        reqq: this.settings.maxIncomingRequests,
      });
      peer.send({ kind: 'extended', extId: 0, payload });
    }
    peer.attach(this, { limiter: this.context.downloadLimiter, owner: this });
    return 'admitted';
  }

  onMessage(peer: PeerConnection, message: WireMessage): void {
    switch (message.kind) {
      case 'keep-alive':
      case 'port':
        return;
      case 'choke':
        peer.peerChoking = true;
        this.pipeline.choked(peer);
        return;
      case 'unchoke':
        peer.peerChoking = false;
        this.pipeline.fill(peer);
        return;
      case 'interested':
        peer.peerInterested = true;
        this.applyChoking(this.choker.admit(this.roleNow, this.chokerView(), this.clock.now()));
        return;
      case 'not-interested':
        peer.peerInterested = false;
        this.applyChoking(this.choker.admit(this.roleNow, this.chokerView(), this.clock.now()));
        return;
      case 'have':
        if (!peer.peerPieces.has(message.index)) {
          peer.peerPieces.set(message.index);
          this.picker.peerHasPiece(message.index);
        }
        this.updateInterest(peer);
        return;
      case 'bitfield':
        this.onBitfield(peer, message.bits);
        return;
      case 'request':
        this.onRequest(peer, message);
        return;
      case 'cancel': {
        const at = peer.incoming.findIndex((r) => r.index === message.index && r.begin === message.begin && r.length === message.length);
        if (at >= 0) peer.incoming.splice(at, 1);
        return;
      }
      case 'piece':
        this.onBlock(peer, message);
        return;
      case 'extended':
        if (message.extId === 0) this.onExtensionHandshake(peer, message.payload);
        else if (message.extId === LOCAL_EXTENSION_IDS.ut_pex) this.onPex(peer, message.payload);
        return;
    }
  }

  /**
   * BEP 3 puts the bitfield first, but real clients (aria2 1.36) send it later, after requests,
   * and more than once: each one replaces what we knew of the peer's pieces.
   */
  private onBitfield(peer: PeerConnection, bits: Buffer): void {
    for (let i = 0; i < this.meta.pieceCount; i++) {
      const has = (bits[i >> 3] & (0x80 >> (i & 7))) !== 0;
      if (has === peer.peerPieces.has(i)) continue;
      if (has) {
        peer.peerPieces.set(i);
        this.picker.peerHasPiece(i);
      } else {
        peer.peerPieces.clear(i);
        this.picker.peerLostPiece(i);
      }
    }
    if (this.roleNow === 'seeder' && peer.peerPieces.isComplete()) return peer.close('both sides are seeders');
    this.updateInterest(peer);
  }

  private onExtensionHandshake(peer: PeerConnection, payload: Buffer): void {
    try {
      peer.extensions = decodeExtensionHandshake(payload);
    } catch (error) {
      return peer.close((error as Error).message);
    }
    const port = peer.extensions.p;
    if (!peer.outgoing && port !== undefined) {
      if (this.bans.isBannedAddress(peer.remoteIp, port)) return peer.close(`${peer.remoteIp}:${port} is banned for sending bad data`);
      peer.listenPort = port;
      // Tracker service: a peer that reached us joins the peer list with the port it listens on,
      // and the change is broadcast to the swarm.
      if (!this.context.isSelf(peer.remoteIp, port)) this.learnPeer(peer.remoteIp, port);
    }
    if (peer.extensions.m.ut_pex) peer.pex = new PexSender({ shoalPeer: isShoalClient(peer.extensions.v), settings: this.settings });
    this.broadcastPeerList();
  }

  /** A peer's ut_pex: the addresses it adds are peers we may connect to. */
  private onPex(peer: PeerConnection, payload: Buffer): void {
    let added: PexPeer[];
    try {
      added = decodePex(payload, this.settings.pexMaxReceivedPeers).added;
    } catch (error) {
      return peer.close((error as Error).message);
    }
    this.log.debug(`ut_pex from ${peer.address}: ${added.length} peer(s)`);
    this.learnPeers(added);
  }

  /** The peer list as ut_pex shares it: every known peer still thought reachable. */
  private pexPeerList(): PexPeer[] {
    return [...this.known.values()].map(({ ip, port }) => ({ ip, port }));
  }

  /**
   * Tells every connected peer that speaks ut_pex what changed in the peer list (not its own
   * address). Each connection's PexSender paces the messages: about a second apart for shoal
   * peers, a minute for other clients.
   */
  private broadcastPeerList(): void {
    const now = this.clock.now();
    const list = this.pexPeerList();
    for (const peer of this.peers) {
      const extId = peer.extensions?.m.ut_pex;
      if (!peer.pex || !extId) continue;
      const others = list.filter((entry) => !(entry.ip === peer.remoteIp && entry.port === peer.listenPort));
      const message = peer.pex.next(others, now);
      if (message) peer.send({ kind: 'extended', extId, payload: encodePex(message) });
    }
  }

  private onRequest(peer: PeerConnection, request: { index: number; begin: number; length: number }): void {
    const problem = checkRequest(request, this.data.geometry, this.settings.maxRequestLength);
    if (problem) return peer.close(`bad request: ${problem}`);
    if (!this.picker.hasPiece(request.index)) return peer.close(`requested piece ${request.index}, which we never announced (we do not have it)`);
    const verdict = peer.requestGate.judge(peer.amChoking, peer.incoming.length, this.clock.now());
    if (verdict.action === 'drop') return peer.close(verdict.reason);
    if (verdict.action === 'ignore') return;
    peer.incoming.push({ index: request.index, begin: request.begin, length: request.length });
    this.serveRequests(peer);
  }

  onWritable(peer: PeerConnection): void {
    this.serveRequests(peer);
  }

  private canServe(peer: PeerConnection): boolean {
    return peer.incoming.length > 0 && peer.readsInFlight < MAX_READS_PER_PEER && peer.writable && !peer.amChoking;
  }

  private serveRequests(peer: PeerConnection): void {
    const limiter = this.context.uploadLimiter;
    while (!peer.uploadWait && this.canServe(peer)) {
      if (!limiter.open()) {
        // In line with every other swarm's peers for the upload limit; one block per turn.
        peer.uploadWait = true;
        limiter.wait(this, () => {
          peer.uploadWait = false;
          if (peer.isClosed || !this.canServe(peer)) return;
          this.serveOne(peer);
          this.serveRequests(peer);
        });
        return;
      }
      this.serveOne(peer);
    }
  }

  /** Reads the peer's oldest request (through the read cache) and sends the block. */
  private serveOne(peer: PeerConnection): void {
    const request = peer.incoming.shift()!;
    this.context.uploadLimiter.take(request.length);
    peer.readsInFlight++;
    const key = this.readKey(request.index);
    const miss = !this.context.readCache.has(key);
    this.context.readCache
      .lease(key, this.data.geometry.pieceSize(request.index), request.begin, request.length, this.pieceReader(request.index))
      .then((lease) => {
        peer.readsInFlight--;
        if (peer.isClosed || peer.amChoking) return lease.release();
        peer.sendBlock(request.index, request.begin, lease.views, lease.release);
        this.uploadedBytes += request.length;
        this.uploadRate.add(request.length, this.clock.now());
        this.serveRequests(peer);
      })
      .catch((error: Error) => {
        peer.readsInFlight--;
        this.log.warn(`cannot read piece ${request.index} for ${peer.address}: ${error.message}`);
        peer.close('our data could not be read');
      });
    if (miss) this.readAhead(peer, request.index);
  }

  /**
   * After a read-cache miss, starts reading the next pieces the peer asked for too
   * (settings.readAheadPieces), so that they share the miss's worker task.
   */
  private readAhead(peer: PeerConnection, current: number): void {
    const cache = this.context.readCache;
    const seen = new Set([current]);
    const scanned = Math.min(peer.incoming.length, READ_AHEAD_SCAN);
    for (let i = 0; i < scanned && seen.size <= this.settings.readAheadPieces; i++) {
      const { index } = peer.incoming[i];
      if (seen.has(index)) continue;
      seen.add(index);
      cache.prefetch(this.readKey(index), this.data.geometry.pieceSize(index), this.pieceReader(index));
    }
  }

  private readKey(index: number): string {
    return `${this.meta.infoHashHex}:${index}`;
  }

  private pieceReader(index: number): PieceReader {
    return (piece) => this.data.readPiece(index, piece);
  }

  private onBlock(peer: PeerConnection, message: { index: number; begin: number; block: Buffer }): void {
    const outcome = this.pipeline.blockArrived(peer, message.index, message.begin, message.block);
    if (outcome.kind === 'late') return;
    if (outcome.kind === 'unrequested') return peer.close(`sent piece ${message.index} offset ${message.begin}, which nobody requested`);
    if (outcome.kind === 'malformed') return peer.close(`bad block: ${outcome.reason}`);
    const now = this.clock.now();
    peer.downloaded += message.block.length;
    peer.downloadRate.add(message.block.length, now);
    this.downloadRate.add(message.block.length, now);
    if (outcome.kind === 'accepted' && outcome.piece) {
      const pending = this.finishPiece(message.index, outcome.piece).finally(() => this.pendingPieces.delete(pending));
      this.pendingPieces.add(pending);
    }
    this.pipeline.fill(peer);
  }

  /** Hashes and writes a piece the pipeline reported complete, then judges its senders. */
  private async finishPiece(index: number, piece: SlabPiece): Promise<void> {
    let outcome: 'good' | 'bad' | 'unwritten';
    try {
      outcome = (await this.data.verifyAndWrite(index, piece)) ? 'good' : 'bad';
    } catch (error) {
      this.log.warn(`cannot write piece ${index}: ${(error as Error).message}`);
      outcome = 'unwritten';
    }
    const failure = outcome === 'bad' ? this.smartBan.pieceFailed(index) : null;
    // Blocks are hashed one by one only when that can tell who sent bad data: a failed attempt
    // from several peers, and the good data of a piece that had one.
    const wantDigests = failure?.kind === 'restrict' || (outcome === 'good' && this.smartBan.hasSuspects(index));
    const digests = wantDigests ? await this.blockDigests(index, piece) : undefined;
    this.pipeline.pieceDone(index);
    if (outcome !== 'good') {
      this.picker.pieceFailed(index);
      if (failure) this.judgeFailure(index, failure, digests);
      else this.smartBan.restart(index);
      if (this.stopped) return;
      for (const peer of this.peers) this.pipeline.fill(peer);
      return;
    }
    for (const culprit of this.smartBan.piecePassed(index, digests)) {
      this.ban(culprit, `blocks it sent of piece ${index} differ from the data that verified`);
    }
    // Counted even while stopping: it is on disk, and the clean stop's resume data must say so.
    this.picker.markHave(index);
    this.resumeDirty = true;
    this.downloadedBytes += this.data.geometry.pieceSize(index);
    if (this.stopped) return;
    for (const peer of this.peers) {
      peer.send({ kind: 'have', index });
      this.updateInterest(peer);
    }
    if (this.picker.complete) await this.becomeSeeder();
  }

  private async blockDigests(index: number, piece: SlabPiece): Promise<Buffer[] | undefined> {
    try {
      return await this.data.hashBlocks(piece);
    } catch (error) {
      this.log.warn(`cannot hash the blocks of piece ${index} to find who sent bad data: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** A piece failed its hash check: one sender is banned; several, and the piece is taken from one peer at a time. */
  private judgeFailure(index: number, failure: FailureVerdict<PeerConnection>, digests: Buffer[] | undefined): void {
    if (failure.kind === 'ban') {
      this.log.warn(`piece ${index} failed its hash check; every block came from ${failure.peer.address}`);
      this.ban(failure.peer, `it sent piece ${index}, which failed its hash check`);
      return;
    }
    const senders = [...new Set(failure.blockSenders.map((peer) => peer.address))].join(', ');
    this.log.warn(`piece ${index} failed its hash check with blocks from ${senders}; downloading it again from one peer at a time`);
    if (digests) this.smartBan.recordFailure(index, failure.blockSenders, digests);
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
    if (this.known.delete(address)) this.broadcastPeerList();
  }

  /**
   * Called once the last piece verified: nothing more is requested (the picker has every piece),
   * the data moves into shareable/, and only then is this peer a seeder (DESIGN.md, Roles).
   */
  private async becomeSeeder(): Promise<void> {
    this.pipeline.releaseAll();
    for (const peer of this.peers) if (peer.amInterested) peer.send({ kind: 'not-interested' });
    try {
      await this.data.moveToShareable();
    } catch (error) {
      this.log.warn(`download complete, but moving it into shareable/ failed: ${(error as Error).message}`);
      return;
    }
    this.roleNow = 'seeder';
    this.reportEvent({ kind: 'completed', pieces: this.meta.pieceCount, path: this.data.shareablePath });
    this.reportEvent({ kind: 'role-changed', from: 'leecher', to: 'seeder' });
    await this.saveResume(false);
    for (const peer of [...this.peers]) if (peer.peerPieces.isComplete()) peer.close('both sides are seeders');
    this.announcer?.completed();
    this.context.onComplete(this);
  }

  /** Sends INTERESTED or NOT_INTERESTED when our need for the peer's pieces changed. */
  private updateInterest(peer: PeerConnection): void {
    const wanted = this.roleNow === 'leecher' && this.picker.wants((i) => peer.peerPieces.has(i));
    if (wanted && !peer.amInterested) peer.send({ kind: 'interested' });
    else if (!wanted && peer.amInterested) peer.send({ kind: 'not-interested' });
    if (wanted) this.pipeline.fill(peer);
  }

  /** The peers as the choker sees them. */
  private chokerView(): ChokerPeer[] {
    const now = this.clock.now();
    return [...this.peers].map((peer) => ({
      id: peer.id,
      interested: peer.peerInterested,
      unchoked: !peer.amChoking,
      downloadRate: peer.downloadRate.rate(now),
      uploadRate: peer.uploadRate.rate(now),
      connectedAt: peer.connectedAt,
      snubbed: this.pipeline.isSnubbed(peer),
    }));
  }

  /** Sends CHOKE or UNCHOKE to the peers whose state the choker changed. */
  private applyChoking(decision: ChokeDecision): void {
    for (const peer of this.peers) {
      const unchoke = decision.unchoke.has(peer.id);
      if (unchoke && peer.amChoking) peer.send({ kind: 'unchoke' });
      if (!unchoke && !peer.amChoking) {
        peer.send({ kind: 'choke' });
        // BEP 3: a choke discards the requests the peer had queued at us.
        peer.incoming.length = 0;
      }
    }
  }

  onClose(peer: PeerConnection, reason: string): void {
    this.peers.delete(peer);
    this.pipeline.peerLeft(peer);
    for (let i = 0; i < this.meta.pieceCount; i++) if (peer.peerPieces.has(i)) this.picker.peerLostPiece(i);
    this.log.debug(`disconnected from ${peer.address}: ${reason}`);
    // A peer we did not dial because this connection existed may be dialled again.
    const peerId = peer.handshake.peerId.toString('hex');
    for (const known of this.known.values()) {
      if (known.peerId === peerId) known.nextAttemptAt = Math.min(known.nextAttemptAt, this.clock.now() + RECONNECT_BASE_MS);
    }
    if (!peer.amChoking) this.applyChoking(this.choker.admit(this.roleNow, this.chokerView(), this.clock.now()));
    for (const other of this.peers) this.pipeline.fill(other);
  }

  /** Saves the resume data (one save at a time); a failure is logged, and retried at the next tick. */
  private async saveResume(cleanStop: boolean): Promise<void> {
    while (this.resumeSaving) await this.resumeSaving;
    this.resumeDirty = false;
    this.resumeSaving = this.data
      .saveResume((i) => this.picker.hasPiece(i), cleanStop)
      .catch((error: Error) => {
        this.resumeDirty = true;
        this.log.warn(`cannot save resume data: ${error.message}`);
      })
      .finally(() => {
        this.resumeSaving = null;
      });
    await this.resumeSaving;
  }

  private housekeeping(): void {
    const now = this.clock.now();
    if (this.resumeDirty && !this.resumeSaving) void this.saveResume(false);
    this.pipeline.timeOuts(now);
    const idle: PeerConnection[] = [];
    for (const peer of this.peers) {
      const liveness = livenessAction(peer.lastReceivedAt, peer.lastSentAt, now, this.settings);
      if (liveness === 'drop') idle.push(peer);
      else if (liveness === 'keep-alive') peer.send({ kind: 'keep-alive' });
    }
    for (const peer of idle) peer.close(`nothing received for ${Math.round((now - peer.lastReceivedAt) / 1000)} s (idleTimeoutMs)`);
    this.broadcastPeerList();
    if (this.choker.due(now)) this.applyChoking(this.choker.round(this.roleNow, this.chokerView(), now));
    for (const peer of this.peers) this.pipeline.fill(peer);
    this.connectToKnownPeers();
  }

  /** The peer list, as "ip:port". */
  knownAddresses(): string[] {
    return [...this.known.keys()];
  }

  status(): SwarmStatus {
    const now = this.clock.now();
    return {
      infoHash: this.meta.infoHashHex,
      name: this.meta.name,
      role: this.roleNow,
      announcer: this.options.announcer,
      pieces: this.meta.pieceCount,
      have: this.picker.piecesHad,
      size: this.meta.totalLength,
      downloaded: this.downloadedBytes,
      uploaded: this.uploadedBytes,
      left: this.picker.bytesLeft(),
      downloadRate: Math.round(this.downloadRate.rate(now)),
      uploadRate: Math.round(this.uploadRate.rate(now)),
      peers: [...this.peers].map((p) => ({
        address: p.address,
        downloaded: p.downloaded,
        uploaded: p.uploaded,
        downloadRate: Math.round(p.downloadRate.rate(now)),
        uploadRate: Math.round(p.uploadRate.rate(now)),
      })),
      known: this.knownAddresses(),
      banned: this.bans.addresses(),
      tracker: this.announcer?.status(),
      startedFrom: this.startedFrom,
    };
  }

  /** Leaves the swarm: tells the tracker, closes connections, finishes writes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTicking?.();
    for (const peer of [...this.peers]) peer.close('shutting down');
    await Promise.all(this.pendingPieces);
    this.pipeline.stop();
    this.context.uploadLimiter.forget(this);
    this.context.downloadLimiter.forget(this);
    await this.announcer?.stop();
    await this.data.close();
    await this.saveResume(true);
  }
}
