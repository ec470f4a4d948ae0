/**
 * One open peer-wire connection after the handshake: the socket, the parser, the four
 * choke/interest flags, the pieces the peer has, its requests to us, and the bytes moved.
 * Decisions (what to request, whom to unchoke) are the swarm's; our requests to the peer are
 * the request pipeline's (request-pipeline.ts).
 */
import type { Socket } from 'node:net';
import type { FairLimiter } from '../net/fair-limiter.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import { Bitfield } from '../wire/bitfield.js';
import { encodeMessage, encodePieceHeader, encodeRequests } from '../wire/wire-codec.js';
import type { Handshake, WireMessage } from '../wire/wire-messages.js';
import type { WireParser } from '../wire/wire-parser.js';
import type { ExtensionHandshake } from '../wire/extension-handshake.js';
import type { PexSender } from './pex-broadcast.js';
import type { BlockRef } from './piece-picker.js';
import { RateMeter } from './rate-meter.js';
import { RequestGate } from './request-gate.js';

export interface PeerHandler {
  onMessage(peer: PeerConnection, message: WireMessage): void;
  onClose(peer: PeerConnection, reason: string): void;
  /** The socket can take more data: a good time to serve queued requests. */
  onWritable(peer: PeerConnection): void;
}

/** Where a connection comes from and what it runs with. */
export interface ConnectionSetup {
  /** We dialled it. */
  outgoing: boolean;
  pieceCount: number;
  remoteIp: string;
  remotePort: number;
  settings: Settings;
  clock: Clock;
}

/** Above this many bytes waiting in the socket, uploads wait for 'drain'. */
const SOCKET_HIGH_WATER = 1024 * 1024;

let connectionCount = 0;

export class PeerConnection {
  /** Unique within this process: addresses may repeat (a peer reconnecting). */
  readonly id = `c${++connectionCount}`;
  readonly connectedAt: number;
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  readonly peerPieces: Bitfield;
  /** The peer's requests to us, in arrival order. */
  readonly incoming: BlockRef[] = [];
  /** Reads from disk under way for the peer's requests. */
  readsInFlight = 0;
  extensions: ExtensionHandshake | null = null;
  /** What we have told the peer of our peer list (ut_pex), when it speaks ut_pex. */
  pex: PexSender | null = null;
  /** The port the peer accepts connections on, when known (outgoing connection, or BEP 10 `p`). */
  listenPort: number | undefined;
  downloaded = 0;
  uploaded = 0;
  /** What the peer gives us and what we send it, in bytes per second (choker, request depth). */
  readonly downloadRate: RateMeter;
  readonly uploadRate: RateMeter;
  lastReceivedAt: number;
  lastSentAt: number;
  /** Judges the peer's requests against our choke and its queue at us. */
  readonly requestGate: RequestGate;
  /** Callbacks of blocks still in the socket, run at close so their slab memory is freed. */
  private readonly pendingSends = new Set<() => void>();
  /** Set while reading pauses for the download limit, waiting for its turn. */
  private readPaused = false;
  /** Bytes of the download limit paid for when reading resumed, not yet received. */
  private prepaid = 0;
  /** Set while serving requests waits for its turn under the upload limit. */
  uploadWait = false;
  private closed = false;
  private handler: PeerHandler | null = null;

  readonly outgoing: boolean;
  readonly remoteIp: string;
  readonly remotePort: number;
  private readonly settings: Settings;
  private readonly clock: Clock;

  constructor(
    readonly socket: Socket,
    readonly parser: WireParser,
    readonly handshake: Handshake,
    setup: ConnectionSetup,
  ) {
    ({ outgoing: this.outgoing, remoteIp: this.remoteIp, remotePort: this.remotePort, settings: this.settings, clock: this.clock } = setup);
    const now = this.clock.now();
    this.connectedAt = this.lastReceivedAt = this.lastSentAt = now;
    this.peerPieces = new Bitfield(setup.pieceCount);
    this.listenPort = this.outgoing ? this.remotePort : undefined;
    this.downloadRate = new RateMeter(this.settings.rateWindowMs, this.settings.rateBucketMs);
    this.uploadRate = new RateMeter(this.settings.rateWindowMs, this.settings.rateBucketMs);
    this.requestGate = new RequestGate(now, this.settings);
    parser.setPieceCount(setup.pieceCount);
  }

  /** The peer id of its handshake, in hex: what a ban names besides the address. */
  get peerIdHex(): string {
    return this.handshake.peerId.toString('hex');
  }

  /** Address shown in /status: the listening port when known, else the connection's port. */
  get address(): string {
    return `${this.remoteIp}:${this.listenPort ?? this.remotePort}`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get writable(): boolean {
    return !this.closed && this.socket.writableLength < SOCKET_HIGH_WATER;
  }

  /**
   * Starts delivering messages to `handler`, beginning with those already buffered. Reading
   * pauses while the download limit's bucket is dry, and resumes on this peer's turn.
   */
  attach(handler: PeerHandler, download: { limiter: FairLimiter; owner: object }): void {
    this.handler = handler;
    const { limiter, owner } = download;
    this.socket.on('data', (chunk: Buffer) => {
      this.deliver(this.parser.push(chunk));
      if (limiter.unlimited) return;
      // A turn paid for one block in advance; only what goes beyond it is spent now.
      limiter.take(Math.max(0, chunk.length - this.prepaid));
      this.prepaid = Math.max(0, this.prepaid - chunk.length);
      if (limiter.open() || this.closed || this.readPaused) return;
      this.readPaused = true;
      this.socket.pause();
      limiter.wait(owner, () => {
        this.readPaused = false;
        if (this.closed) return;
        this.prepaid = this.settings.blockLength;
        limiter.take(this.prepaid);
        this.socket.resume();
      });
    });
    this.socket.on('drain', () => {
      if (!this.closed) this.handler?.onWritable(this);
    });
    this.socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    this.socket.on('close', () => this.close('connection closed by peer'));
    this.socket.on('end', () => this.close('connection ended by peer'));
    this.deliver(this.parser.drain());
    this.socket.resume();
  }

  private deliver(result: ReturnType<WireParser['push']>): void {
    if (result.events.length > 0) this.lastReceivedAt = this.clock.now();
    for (const event of result.events) {
      if (this.closed) return;
      if (event.kind === 'handshake') {
        this.close('a second handshake');
        return;
      }
      this.handler?.onMessage(this, event);
    }
    if (result.error && !this.closed) this.close(result.error.message);
  }

  send(message: WireMessage): void {
    if (this.closed) return;
    switch (message.kind) {
      case 'choke':
        this.amChoking = true;
        this.requestGate.choked(this.clock.now());
        break;
      case 'unchoke':
        this.amChoking = false;
        this.requestGate.unchoked();
        break;
      case 'interested':
        this.amInterested = true;
        break;
      case 'not-interested':
        this.amInterested = false;
        break;
      default:
        break;
    }
    this.lastSentAt = this.clock.now();
    this.socket.write(encodeMessage(message));
  }

  /** Sends a batch of requests in one write. */
  sendRequests(blocks: readonly BlockRef[]): void {
    if (this.closed || blocks.length === 0) return;
    this.lastSentAt = this.clock.now();
    this.socket.write(encodeRequests(blocks));
  }

  /**
   * Sends a block without copying it into a frame: the header, then the block's views (slab
   * memory). `onSent` runs once the socket is done with them, or the connection closed.
   */
  sendBlock(index: number, begin: number, views: readonly Buffer[], onSent: () => void): void {
    if (this.closed) return onSent();
    let length = 0;
    for (const view of views) length += view.length;
    this.lastSentAt = this.clock.now();
    this.pendingSends.add(onSent);
    const done = (): void => {
      if (this.pendingSends.delete(onSent)) onSent();
    };
    this.socket.cork();
    this.socket.write(encodePieceHeader(index, begin, length));
    views.forEach((view, i) => this.socket.write(view, i === views.length - 1 ? done : undefined));
    this.socket.uncork();
    this.uploaded += length;
    this.uploadRate.add(length, this.clock.now());
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const onSent of this.pendingSends) onSent();
    this.pendingSends.clear();
    this.handler?.onClose(this, reason);
  }
}
