/**
 * One open peer-wire connection after the handshake: the socket, the parser, the four
 * choke/interest flags, the pieces the peer has, what its extension handshake said, the
 * allowed-fast sets and suggestions of BEP 6 both ways, and the bytes moved. It keeps its own
 * state: the swarm tells it what the peer said and what we want, and it sends a CHOKE or an
 * INTERESTED only when that changes something. Decisions (what to request, whom to unchoke)
 * are the swarm's; our requests to the peer are the request pipeline's (request-pipeline.ts),
 * the peer's requests to us the uploader's (uploader.ts).
 */
import type { FairLimiter } from '../net/fair-limiter.js';
import type { PeerEncryption } from '../net/mse/encryption-policy.js';
import type { PeerSocket } from '../net/peer-socket.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import { Bitfield } from '../wire/bitfield.js';
import { encodeMessage, encodePieceHeader, encodeRequests } from '../wire/wire-codec.js';
import { isFastMessage, supportsExtensionProtocol, supportsFast, type Handshake, type WireMessage } from '../wire/wire-messages.js';
import type { WireParser } from '../wire/wire-parser.js';
import { encodeExtensionHandshake, LOCAL_EXTENSION_IDS, type ExtensionHandshake } from '../wire/extension-handshake.js';
import { allowedFastSet } from './allowed-fast.js';
import { isShoalClient, PexSender } from './pex-broadcast.js';
import type { BlockRef } from './piece-picker.js';
import { RateMeter } from './rate-meter.js';
import { RequestGate } from './request-gate.js';
import type { PeerStatus } from './swarm-status.js';

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
  /** The torrent's pieces; null while a magnet's metadata is being fetched and nobody knows how many. */
  pieceCount: number | null;
  remoteIp: string;
  remotePort: number;
  /** Whether its handshake was encrypted and its payload is (net/mse/), as /status shows it. */
  encryption: PeerEncryption;
  settings: Settings;
  clock: Clock;
  /**
   * Whether ut_pex may be spoken on it: false for a private torrent (BEP 27), whose peers come
   * from its trackers only, so ut_pex is neither offered in our extension handshake nor sent.
   */
  pexAllowed: boolean;
  /** Bytes of the info dictionary we give out with ut_metadata (BEP 9); absent while we lack it ourselves. */
  metadataSize?: number;
}

/** The peer's pieces as the swarm may read them; the connection alone changes them. */
export type PeerPieces = Pick<Bitfield, 'has' | 'isComplete' | 'count'>;

/** Above this many bytes waiting in the socket, uploads wait for 'drain'. */
const SOCKET_HIGH_WATER = 1024 * 1024;

let connectionCount = 0;

export class PeerConnection {
  /** Unique within this process: addresses may repeat (a peer reconnecting). */
  readonly id = `c${++connectionCount}`;
  readonly connectedAt: number;
  private choking = true;
  private interested = false;
  private peerChokingUs = true;
  private peerInterestedInUs = false;
  private readonly pieces: Bitfield;
  private extensionHandshake: ExtensionHandshake | null = null;
  private pexSender: PexSender | null = null;
  private port: number | undefined;
  private downloadedBytes = 0;
  private uploadedBytes = 0;
  /** What the peer gives us and what we send it, in bytes per second (choker, request depth). */
  readonly downloadRate: RateMeter;
  readonly uploadRate: RateMeter;
  lastReceivedAt: number;
  lastSentAt: number;
  /** Judges the peer's requests against our choke and its queue at us. */
  readonly requestGate: RequestGate;
  /** Callbacks of blocks still in the socket, run at close so their slab memory is freed. */
  private readonly pendingSends = new Set<() => void>();
  /** What is sent in this tick is held back (corked) until it ends, to leave in one writev. */
  private corked = false;
  /** Set while reading pauses for the download limit, waiting for its turn. */
  private readPaused = false;
  /** Bytes of the download limit paid for when reading resumed, not yet received. */
  private prepaid = 0;
  private closed = false;
  private handler: PeerHandler | null = null;
  /** Both handshakes set BEP 6's Fast bit (ours always does), so the Fast messages may be used. */
  readonly fast: boolean;
  /** The allowed-fast set we give the peer (BEP 6): pieces it is served while we choke it. */
  private readonly fastSetForPeer: ReadonlySet<number>;
  /** Pieces the peer lets us request while it chokes us (its ALLOWED_FAST messages). */
  private readonly fastSetFromPeer = new Set<number>();
  /** The peer's latest SUGGEST_PIECEs, newest first, at most settings.maxSuggestions. */
  private readonly suggestions: number[] = [];

  readonly outgoing: boolean;
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly encryption: PeerEncryption;
  private readonly settings: Settings;
  private readonly clock: Clock;
  private readonly pexAllowed: boolean;
  private readonly metadataSize: number | undefined;

  constructor(
    readonly socket: PeerSocket,
    readonly parser: WireParser,
    readonly handshake: Handshake,
    setup: ConnectionSetup,
  ) {
    ({ outgoing: this.outgoing, remoteIp: this.remoteIp, remotePort: this.remotePort, encryption: this.encryption, settings: this.settings, clock: this.clock, pexAllowed: this.pexAllowed, metadataSize: this.metadataSize } = setup);
    const now = this.clock.now();
    this.connectedAt = this.lastReceivedAt = this.lastSentAt = now;
    this.pieces = new Bitfield(setup.pieceCount ?? 0);
    this.port = this.outgoing ? this.remotePort : undefined;
    this.downloadRate = new RateMeter(this.settings.rateWindowMs, this.settings.rateBucketMs);
    this.uploadRate = new RateMeter(this.settings.rateWindowMs, this.settings.rateBucketMs);
    this.requestGate = new RequestGate(now, this.settings);
    this.fast = supportsFast(handshake);
    const fastSet = this.fast && setup.pieceCount !== null ? allowedFastSet(this.remoteIp, handshake.infoHash, setup.pieceCount, this.settings.allowedFastCount) : [];
    this.fastSetForPeer = new Set(fastSet);
    if (setup.pieceCount === null) parser.parseWithoutPieceCount();
    else parser.setPieceCount(setup.pieceCount);
  }

  /** Whether we choke the peer: its requests are not served. */
  get amChoking(): boolean {
    return this.choking;
  }

  get amInterested(): boolean {
    return this.interested;
  }

  /** Whether the peer chokes us: our requests will not be answered. */
  get peerChoking(): boolean {
    return this.peerChokingUs;
  }

  get peerInterested(): boolean {
    return this.peerInterestedInUs;
  }

  get peerPieces(): PeerPieces {
    return this.pieces;
  }

  /** Its BEP 10 handshake, once it sent one. */
  get extensions(): ExtensionHandshake | null {
    return this.extensionHandshake;
  }

  /** Whether the peer is served blocks of `index` while we choke it: the piece is in its allowed-fast set. */
  weAllowFast(index: number): boolean {
    return this.fastSetForPeer.has(index);
  }

  /** Whether we may request blocks of `index` while the peer chokes us: it sent ALLOWED_FAST for it. */
  peerAllowsFast(index: number): boolean {
    return this.fastSetFromPeer.has(index);
  }

  /** Whether the peer lets us request any piece while it chokes us. */
  get peerAllowsAnyFast(): boolean {
    return this.fastSetFromPeer.size > 0;
  }

  /** The pieces the peer suggested (SUGGEST_PIECE), newest first: the likeliest still in its cache. */
  get suggestedPieces(): readonly number[] {
    return this.suggestions;
  }

  /** What we have told the peer of our peer list (ut_pex), when it speaks ut_pex and the torrent is not private. */
  get pex(): PexSender | null {
    return this.pexSender;
  }

  /** The port the peer accepts connections on, when known (outgoing connection, or BEP 10 `p`). */
  get listenPort(): number | undefined {
    return this.port;
  }

  /** Payload bytes of the blocks it sent us, and of those we sent it. */
  get downloaded(): number {
    return this.downloadedBytes;
  }

  get uploaded(): number {
    return this.uploadedBytes;
  }

  /** The connection as /status shows it; rates rounded to bytes per second. */
  status(now: number): PeerStatus {
    return {
      address: this.address,
      downloaded: this.downloadedBytes,
      uploaded: this.uploadedBytes,
      downloadRate: Math.round(this.downloadRate.rate(now)),
      uploadRate: Math.round(this.uploadRate.rate(now)),
      encryption: this.encryption,
    };
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
      if (!this.fast && isFastMessage(event)) {
        this.close(`it sent a ${event.kind} message (BEP 6) without setting the Fast extension bit in its handshake`);
        return;
      }
      this.handler?.onMessage(this, event);
    }
    if (result.error && !this.closed) this.close(result.error.message);
  }

  /**
   * The first messages after the handshake: our pieces (`bitfield`, null when we have none); then
   * our BEP 10 handshake, when the peer speaks BEP 10, whose `m` leaves ut_pex out unless
   * pexAllowed; then, to a Fast peer, ALLOWED_FAST for the pieces of its allowed-fast set that we
   * have. Our pieces go first, as BEP 3 and BEP 6 ask: to a Fast peer as HAVE_ALL, HAVE_NONE or
   * a bitfield (BEP 6 wants exactly one of them); to another peer as a bitfield, or nothing.
   */
  greet(bitfield: Buffer | null, listenPort: number): void {
    const ours = new Bitfield(this.pieces.length, bitfield ?? undefined);
    // HAVE_NONE first: while a magnet's metadata is fetched there are no pieces, which is also "all" of them.
    if (this.fast && ours.count === 0) this.send({ kind: 'have-none' });
    else if (this.fast && ours.isComplete()) this.send({ kind: 'have-all' });
    else if (ours.count > 0) this.send({ kind: 'bitfield', bits: ours.toBuffer() });
    if (supportsExtensionProtocol(this.handshake)) this.sendExtensionHandshake(listenPort);
    for (const index of this.fastSetForPeer) if (ours.has(index)) this.send({ kind: 'allowed-fast', index });
  }

  private sendExtensionHandshake(listenPort: number): void {
    const m: Record<string, number> = { ...LOCAL_EXTENSION_IDS };
    if (!this.pexAllowed) delete m.ut_pex;
    const payload = encodeExtensionHandshake({
      m,
      p: listenPort,
      v: this.settings.clientName,
      reqq: this.settings.maxIncomingRequests,
      metadata_size: this.metadataSize,
    });
    this.send({ kind: 'extended', extId: 0, payload });
  }

  /** Chokes the peer unless it is choked already; returns whether a CHOKE went out. */
  choke(): boolean {
    if (this.choking || this.closed) return false;
    this.send({ kind: 'choke' });
    return true;
  }

  /** Unchokes the peer unless it is unchoked already; returns whether an UNCHOKE went out. */
  unchoke(): boolean {
    if (!this.choking || this.closed) return false;
    this.send({ kind: 'unchoke' });
    return true;
  }

  /** Sends INTERESTED or NOT_INTERESTED when `interested` is not what the peer was last told. */
  wantInterest(interested: boolean): void {
    if (interested !== this.interested) this.send({ kind: interested ? 'interested' : 'not-interested' });
  }

  /** The peer sent CHOKE. */
  peerChoked(): void {
    this.peerChokingUs = true;
  }

  /** The peer sent UNCHOKE. */
  peerUnchoked(): void {
    this.peerChokingUs = false;
  }

  /** The peer sent INTERESTED (true) or NOT_INTERESTED (false). */
  peerInterestChanged(interested: boolean): void {
    this.peerInterestedInUs = interested;
  }

  /**
   * We have a new piece: HAVE, and to a Fast peer whose allowed-fast set holds it, ALLOWED_FAST,
   * since we can serve it now (greet offered only the pieces we had then).
   */
  announcePiece(index: number): void {
    this.send({ kind: 'have', index });
    if (this.fastSetForPeer.has(index)) this.send({ kind: 'allowed-fast', index });
  }

  /** The peer sent HAVE; returns whether the piece is new to what we knew of it. */
  peerHasPiece(index: number): boolean {
    if (this.pieces.has(index)) return false;
    this.pieces.set(index);
    return true;
  }

  /**
   * The peer sent a BITFIELD. BEP 3 puts it first, but real clients (aria2 1.36) send it later,
   * after requests, and more than once: each one replaces what we knew of the peer's pieces.
   * Returns the pieces it now has that it had not, and those it no longer has.
   */
  applyBitfield(bits: Buffer): { gained: number[]; lost: number[] } {
    return this.replacePieces((i) => (bits[i >> 3] & (0x80 >> (i & 7))) !== 0);
  }

  /**
   * The peer sent HAVE_ALL (`all`) or HAVE_NONE (BEP 6). Like a bitfield they belong first, and
   * like a late bitfield (applyBitfield) a late one is taken rather than refused: it replaces what
   * we knew of the peer's pieces.
   */
  applyHaveAllOrNone(all: boolean): { gained: number[]; lost: number[] } {
    return this.replacePieces(() => all);
  }

  private replacePieces(hasPiece: (index: number) => boolean): { gained: number[]; lost: number[] } {
    const gained: number[] = [];
    const lost: number[] = [];
    for (let i = 0; i < this.pieces.length; i++) {
      const has = hasPiece(i);
      if (has === this.pieces.has(i)) continue;
      if (has) {
        this.pieces.set(i);
        gained.push(i);
      } else {
        this.pieces.clear(i);
        lost.push(i);
      }
    }
    return { gained, lost };
  }

  /**
   * The peer's BEP 10 handshake (each one replaces the last); with ut_pex, and pexAllowed, our
   * peer list is shared with it from now on.
   */
  extensionsReceived(extensions: ExtensionHandshake): void {
    this.extensionHandshake = extensions;
    if (extensions.m.ut_pex && this.pexAllowed) this.pexSender = new PexSender({ shoalPeer: isShoalClient(extensions.v), settings: this.settings });
  }

  /** The peer sent ALLOWED_FAST: we may request the piece while it chokes us. */
  allowedFastReceived(index: number): void {
    this.fastSetFromPeer.add(index);
  }

  /**
   * The peer rejected a request of ours for a block of `index`. While it chokes us, that is how
   * BEP 6 lets it take back an allowed-fast piece (libtorrent does the same): we stop asking.
   */
  requestRejected(index: number): void {
    if (this.peerChokingUs) this.fastSetFromPeer.delete(index);
  }

  /** The peer sent SUGGEST_PIECE; the oldest suggestion goes when more than settings.maxSuggestions are kept. */
  suggestionReceived(index: number): void {
    const known = this.suggestions.indexOf(index);
    if (known >= 0) this.suggestions.splice(known, 1);
    this.suggestions.unshift(index);
    if (this.suggestions.length > this.settings.maxSuggestions) this.suggestions.pop();
  }

  /** The port the peer said it accepts connections on (BEP 10 `p`). */
  listensOn(port: number): void {
    this.port = port;
  }

  /** Counts the payload of a block the peer sent. */
  countDownloaded(bytes: number): void {
    this.downloadedBytes += bytes;
    this.downloadRate.add(bytes, this.clock.now());
  }

  send(message: WireMessage): void {
    if (this.closed) return;
    // The flags follow what goes on the wire, whoever sends it.
    switch (message.kind) {
      case 'choke':
        this.choking = true;
        this.requestGate.choked(this.clock.now());
        break;
      case 'unchoke':
        this.choking = false;
        this.requestGate.unchoked();
        break;
      case 'interested':
        this.interested = true;
        break;
      case 'not-interested':
        this.interested = false;
        break;
      default:
        break;
    }
    this.lastSentAt = this.clock.now();
    this.corkForTick();
    this.socket.write(encodeMessage(message));
  }

  /** Sends a batch of requests in one write. */
  sendRequests(blocks: readonly BlockRef[]): void {
    if (this.closed || blocks.length === 0) return;
    this.lastSentAt = this.clock.now();
    this.corkForTick();
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
    this.corkForTick();
    this.socket.write(encodePieceHeader(index, begin, length));
    views.forEach((view, i) => this.socket.write(view, i === views.length - 1 ? done : undefined));
    this.uploadedBytes += length;
    this.uploadRate.add(length, this.clock.now());
  }

  /**
   * Holds writes back until this tick ends: the reads of a piece resolve together, so a tick often
   * sends several of the peer's blocks, and a finished piece's HAVE goes with the requests that
   * follow it. One system call for all of them, not one each.
   */
  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
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
