/**
 * Whom we upload to and what. The choker's decisions (choker.ts) are sent to the peers whose
 * state they change. Each request is judged (message-rules.ts, request-gate.ts), queued per
 * peer, and served oldest first under the upload limit, which every swarm's peers share fairly
 * (fair-limiter.ts). Blocks come from the read cache, and a cache miss reads ahead the next
 * pieces the peer asked for, so that one worker task reads them all.
 * With a Fast peer (BEP 6) every request gets exactly one answer, the block or a REJECT_REQUEST;
 * the pieces of its allowed-fast set are served even while it is choked; and when it becomes
 * interested it is told (SUGGEST_PIECE) of pieces in the read cache that it lacks.
 */
import type { PieceGeometry } from '../../io/piece-geometry.js';
import type { PieceReader, ReadCache } from '../../io/read-cache.js';
import type { SlabPiece } from '../../io/block-slab.js';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { FairLimiter } from '../net/fair-limiter.js';
import { checkRequest } from '../wire/message-rules.js';
import type { WireMessage } from '../wire/wire-messages.js';
import type { ChokeDecision, Choker, ChokerPeer } from './choker.js';
import type { BlockRef } from './piece-picker.js';
import { RateMeter } from './rate-meter.js';
import type { RequestGate } from './request-gate.js';
import type { Role } from './role.js';

/** What the uploader needs of a connection: PeerConnection, or a plain object in tests. */
export interface UploadPeer {
  /** Unique among the connections: the choker's name for it. */
  readonly id: string;
  readonly address: string;
  readonly connectedAt: number;
  readonly amChoking: boolean;
  readonly peerInterested: boolean;
  /** What it sends us and what we send it, in bytes per second. */
  readonly downloadRate: { rate(now: number): number };
  readonly uploadRate: { rate(now: number): number };
  readonly isClosed: boolean;
  /** Whether its socket takes more data now. */
  readonly writable: boolean;
  readonly requestGate: Pick<RequestGate, 'judge'>;
  /** Both sides speak BEP 6: a request we do not serve is answered with a REJECT_REQUEST. */
  readonly fast: boolean;
  /** Whether the piece is in the allowed-fast set we give the peer: it is served while choked. */
  weAllowFast(index: number): boolean;
  readonly peerPieces: { has(index: number): boolean };
  /** Sends REJECT_REQUEST and SUGGEST_PIECE. */
  send(message: WireMessage): void;
  /** Send CHOKE or UNCHOKE unless the peer is in that state already; return whether they did. */
  choke(): boolean;
  unchoke(): boolean;
  /** Sends a block from the views given; `onSent` runs once the socket is done with them. */
  sendBlock(index: number, begin: number, views: readonly Buffer[], onSent: () => void): void;
  close(reason: string): void;
}

export interface UploaderSetup<P> {
  choker: Pick<Choker, 'due' | 'round' | 'admit'>;
  /** The choker favours whom we download from while leeching, whom we upload to fastest while seeding. */
  role(): Role;
  /** Whether the peer stopped answering our requests (RequestPipeline.isSnubbed). */
  isSnubbed(peer: P): boolean;
  geometry: PieceGeometry;
  /** Whether we have the piece (and so announced it). */
  hasPiece(index: number): boolean;
  /** Names the torrent in the read cache, which every swarm shares. */
  infoHashHex: string;
  /** Reads the piece and checks its hash; rejects when it cannot be read or no longer matches. */
  readPiece(index: number, piece: SlabPiece): Promise<void>;
  /**
   * A piece could not be read for uploading, or no longer matches its hash (its file changed on
   * disk): the request is dropped, and the swarm checks the file again (swarm.ts).
   */
  readFailed(index: number, error: Error): void;
  /** Pieces we announced but no longer serve, their data having changed on disk: requests for them are dropped (rejected, for a Fast peer). */
  withheld(index: number): boolean;
  readCache: Pick<ReadCache, 'has' | 'lease' | 'prefetch'>;
  /** --upload-limit, shared by every swarm. */
  limiter: Pick<FairLimiter, 'open' | 'wait' | 'take' | 'forget'>;
  settings: Settings;
  clock: Clock;
}

/** One peer's requests to us. */
class Queue {
  /** In arrival order. */
  readonly requests: BlockRef[] = [];
  /** Reads from the cache under way, for these requests. */
  reads = 0;
  readonly reading = new Set<BlockRef>();
  /** Set while serving waits for its turn under the upload limit. */
  waiting = false;
  /** Whether the peer was sent its suggestions: once per connection, when it first becomes interested. */
  suggested = false;
}

/** Reads of blocks under way for one peer at a time. */
export const MAX_READS_PER_PEER = 4;
/** Requests of a peer's queue looked through for pieces to read ahead: a few pieces' worth. */
const READ_AHEAD_SCAN = 256;
/**
 * Pieces last read for uploading, newest last: where suggestions are looked for. The read cache
 * cannot list what it holds, and a scan of every piece for each new peer would cost the main
 * thread as much as the torrent is large; the pieces read last are the likeliest to be cached.
 */
const RECENT_READS = 32;
export class Uploader<P extends UploadPeer> {
  // The collections are made when first written: an idle seeder never writes them.
  /** Every connected peer, in the order it joined. */
  private queues: Map<P, Queue> | undefined;
  private uploadedBytes = 0;
  /** RECENT_READS pieces last read, oldest first. */
  private recentReads: number[] | undefined;
  /** Payload bytes per second sent, all peers together. */
  readonly rate: RateMeter;

  constructor(private readonly setup: UploaderSetup<P>) {
    this.rate = new RateMeter(setup.settings.rateWindowMs, setup.settings.rateBucketMs);
  }

  /** Payload bytes sent to all peers. */
  get uploaded(): number {
    return this.uploadedBytes;
  }

  /** A peer connected: from now on it may ask for blocks. */
  join(peer: P): void {
    (this.queues ??= new Map()).set(peer, new Queue());
  }

  /** The peer left; its upload slot, if it had one, goes to another. */
  peerLeft(peer: P): void {
    this.queues?.delete(peer);
    if (!peer.amChoking) this.applyChoking(this.setup.choker.admit(this.setup.role(), this.chokerView(), this.setup.clock.now()));
  }

  /** A peer became interested, or stopped being: the choker may give or take a slot at once. */
  interestChanged(): void {
    this.applyChoking(this.setup.choker.admit(this.setup.role(), this.chokerView(), this.setup.clock.now()));
  }

  /** The swarm's tick: the choker's round, when one is due. */
  tick(now: number): void {
    if (this.setup.choker.due(now)) this.applyChoking(this.setup.choker.round(this.setup.role(), this.chokerView(), now));
  }

  /** The peers as the choker sees them. */
  private chokerView(): ChokerPeer[] {
    const now = this.setup.clock.now();
    return [...(this.queues?.keys() ?? [])].map((peer) => ({
      id: peer.id,
      interested: peer.peerInterested,
      unchoked: !peer.amChoking,
      downloadRate: peer.downloadRate.rate(now),
      uploadRate: peer.uploadRate.rate(now),
      connectedAt: peer.connectedAt,
      snubbed: this.setup.isSnubbed(peer),
    }));
  }

  private applyChoking(decision: ChokeDecision): void {
    for (const [peer, queue] of this.queues ?? []) {
      if (decision.unchoke.has(peer.id)) peer.unchoke();
      else if (peer.choke()) this.dropOnChoke(peer, queue);
    }
  }

  /**
   * BEP 3: a choke discards the requests the peer had queued at us. BEP 6 takes that away: a Fast
   * peer is sent a REJECT for each request we will not serve now, queued or being read (a read
   * rejected here is not sent when it ends), and keeps those of its allowed-fast set.
   */
  private dropOnChoke(peer: P, queue: Queue): void {
    if (!peer.fast) {
      queue.requests.length = 0;
      return;
    }
    const kept: BlockRef[] = [];
    for (const request of queue.requests) {
      if (peer.weAllowFast(request.index)) kept.push(request);
      else this.reject(peer, request);
    }
    queue.requests.splice(0, queue.requests.length, ...kept);
    for (const read of [...queue.reading]) {
      if (peer.weAllowFast(read.index)) continue;
      queue.reading.delete(read);
      this.reject(peer, read);
    }
  }

  /**
   * The peer asked for a block: it is queued, ignored, rejected (a Fast peer), or the peer is
   * closed for breaking the rules. A Fast peer is rejected where another peer would be closed for
   * a piece we lack: it has the REJECT to learn of it, and such a request costs us no more than
   * the REJECT.
   */
  request(peer: P, request: BlockRef): void {
    const { geometry, settings } = this.setup;
    const problem = checkRequest(request, geometry, settings.maxRequestLength);
    if (problem) return peer.close(`bad request: ${problem}`);
    if (!this.setup.hasPiece(request.index)) {
      if (peer.fast) return this.reject(peer, request);
      return peer.close(`requested piece ${request.index}, which we never announced (we do not have it)`);
    }
    // Without a REJECT (no BEP 6), the peer is told nothing and asks someone else.
    if (this.setup.withheld(request.index)) return peer.fast ? this.reject(peer, request) : undefined;
    const queue = this.of(peer);
    const choked = peer.amChoking && !peer.weAllowFast(request.index);
    const verdict = peer.requestGate.judge(choked, queue.requests.length, this.setup.clock.now(), peer.fast);
    switch (verdict.action) {
      case 'drop':
        return peer.close(verdict.reason);
      case 'ignore':
        return;
      case 'reject':
        return this.reject(peer, request);
      case 'serve':
        queue.requests.push({ index: request.index, begin: request.begin, length: request.length });
        this.serve(peer);
    }
  }

  /**
   * The peer withdrew a request. Queued, it is dropped; being read, its block is not sent when
   * the read ends: in the end game the peer cancels the copy it got elsewhere, and sending it
   * anyway would waste the bytes the cancel saves. BEP 6 wants every request answered once, a
   * cancelled one included, so a Fast peer is sent a REJECT for it (libtorrent does the same).
   */
  cancel(peer: P, request: BlockRef): void {
    const { requests, reading } = this.of(peer);
    const same = (r: BlockRef): boolean => r.index === request.index && r.begin === request.begin && r.length === request.length;
    const at = requests.findIndex(same);
    let withdrawn: BlockRef | undefined;
    if (at >= 0) [withdrawn] = requests.splice(at, 1);
    else withdrawn = [...reading].find(same);
    if (withdrawn === undefined) return;
    reading.delete(withdrawn);
    if (peer.fast) this.reject(peer, withdrawn);
  }

  /**
   * A Fast peer became interested: up to settings.maxSuggestions SUGGEST_PIECEs name pieces it
   * lacks that are in our read cache, which we can serve without reading the disk. Once per
   * connection: a peer that flips its interest gets no more.
   */
  suggest(peer: P): void {
    const queue = this.of(peer);
    if (!peer.fast || queue.suggested) return;
    queue.suggested = true;
    const recentReads = this.recentReads ?? [];
    let sent = 0;
    for (let i = recentReads.length - 1; i >= 0 && sent < this.setup.settings.maxSuggestions; i--) {
      const index = recentReads[i];
      if (peer.peerPieces.has(index) || this.setup.withheld(index) || !this.setup.readCache.has(this.readKey(index))) continue;
      peer.send({ kind: 'suggest', index });
      sent++;
    }
  }

  private reject(peer: P, request: BlockRef): void {
    peer.send({ kind: 'reject', index: request.index, begin: request.begin, length: request.length });
  }

  /** Notes a piece read for uploading, for suggest(). */
  private readRecently(index: number): void {
    const recentReads = (this.recentReads ??= []);
    if (recentReads.at(-1) === index) return;
    const known = recentReads.indexOf(index);
    if (known >= 0) recentReads.splice(known, 1);
    recentReads.push(index);
    if (recentReads.length > RECENT_READS) recentReads.shift();
  }

  /** Serves the peer's queue while it is unchoked, its socket takes more and the upload limit allows. */
  serve(peer: P): void {
    const queue = this.of(peer);
    const limiter = this.setup.limiter;
    while (!queue.waiting && this.canServe(peer, queue)) {
      if (!limiter.open()) {
        // In line with every other swarm's peers for the upload limit; one block per turn.
        queue.waiting = true;
        limiter.wait(this, () => {
          queue.waiting = false;
          if (peer.isClosed || !this.canServe(peer, queue)) return;
          this.serveOne(peer, queue);
          this.serve(peer);
        });
        return;
      }
      this.serveOne(peer, queue);
    }
  }

  /** Leaves the upload limit's line. */
  stop(): void {
    this.setup.limiter.forget(this);
  }

  /** While the peer is choked its queue holds only pieces of its allowed-fast set (dropOnChoke). */
  private canServe(peer: P, queue: Queue): boolean {
    if (queue.requests.length === 0 || queue.reads >= MAX_READS_PER_PEER || !peer.writable) return false;
    return !peer.amChoking || peer.weAllowFast(queue.requests[0].index);
  }

  /** Reads the peer's oldest request (through the read cache) and sends the block. */
  private serveOne(peer: P, queue: Queue): void {
    const { readCache, limiter, geometry } = this.setup;
    const request = queue.requests.shift()!;
    if (this.setup.withheld(request.index)) return peer.fast ? this.reject(peer, request) : undefined;
    limiter.take(request.length);
    queue.reads++;
    queue.reading.add(request);
    const key = this.readKey(request.index);
    const miss = !readCache.has(key);
    this.readRecently(request.index);
    readCache
      .lease(key, geometry.pieceSize(request.index), request.begin, request.length, this.pieceReader(request.index))
      .then((lease) => {
        queue.reads--;
        // Cancelled, or rejected when the peer was choked (a Fast peer), or choked meanwhile.
        const withdrawn = !queue.reading.delete(request);
        if (withdrawn || peer.isClosed || (peer.amChoking && !peer.weAllowFast(request.index))) return lease.release();
        peer.sendBlock(request.index, request.begin, lease.views, lease.release);
        this.uploadedBytes += request.length;
        this.rate.add(request.length, this.setup.clock.now());
        this.serve(peer);
      })
      .catch((error: Error) => {
        // Nothing is sent of a piece that could not be read or fails its hash (a Fast peer is
        // told so); the peer's other requests are still served.
        queue.reads--;
        const pending = queue.reading.delete(request);
        this.setup.readFailed(request.index, error);
        if (peer.isClosed) return;
        if (pending && peer.fast) this.reject(peer, request);
        this.serve(peer);
      });
    if (miss) this.readAhead(queue, request.index);
  }

  /**
   * After a read-cache miss, starts reading the next pieces the peer asked for too
   * (settings.readAheadPieces), so that they share the miss's worker task.
   */
  private readAhead(queue: Queue, current: number): void {
    const { readCache, geometry, settings } = this.setup;
    const seen = new Set([current]);
    const scanned = Math.min(queue.requests.length, READ_AHEAD_SCAN);
    for (let i = 0; i < scanned && seen.size <= settings.readAheadPieces; i++) {
      const { index } = queue.requests[i];
      if (seen.has(index)) continue;
      seen.add(index);
      readCache.prefetch(this.readKey(index), geometry.pieceSize(index), this.pieceReader(index));
    }
  }

  private readKey(index: number): string {
    return `${this.setup.infoHashHex}:${index}`;
  }

  private pieceReader(index: number): PieceReader {
    return (piece) => this.setup.readPiece(index, piece);
  }

  private of(peer: P): Queue {
    const queue = this.queues?.get(peer);
    if (!queue) throw new Error('the uploader was given a peer that never joined or has left');
    return queue;
  }
}
