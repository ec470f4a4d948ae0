/**
 * The uploader on its own: fake peers that record what they are sent, a fake read cache whose
 * reads finish when the test says, a real choker, request gate and fair limiter, and a fake clock.
 * No sockets, no disk.
 */
import type { BlockLease } from '../../src/io/read-cache.js';
import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { defaultSettings, type Settings } from '../../src/io/settings.js';
import { FairLimiter, type LimiterTimers } from '../../src/main/net/fair-limiter.js';
import { TokenBucket } from '../../src/main/net/token-bucket.js';
import { Choker } from '../../src/main/swarm/choker.js';
import type { BlockRef } from '../../src/main/swarm/piece-picker.js';
import { RequestGate } from '../../src/main/swarm/request-gate.js';
import { MAX_READS_PER_PEER, Uploader, type UploadPeer } from '../../src/main/swarm/uploader.js';
import type { WireMessage } from '../../src/main/wire/wire-messages.js';
import { FakeClock } from '../helpers/fake-clock.js';

const BLOCK = 16 * 1024;
const PIECES = 8;
const BLOCKS_PER_PIECE = 4;
const INFO_HASH = 'ab'.repeat(20);

let peerCount = 0;

class FakePeer implements UploadPeer {
  readonly id = `p${++peerCount}`;
  readonly address = `10.0.0.${peerCount}:6881`;
  readonly connectedAt = 0;
  amChoking = true;
  peerInterested = false;
  isClosed = false;
  writable = true;
  readonly downloadRate = { rate: (): number => 0 };
  readonly uploadRate = { rate: (): number => 0 };
  readonly requestGate: RequestGate;
  /** Blocks sent, in order. */
  readonly sent: BlockRef[] = [];
  readonly closes: string[] = [];
  /** Speaks BEP 6. */
  fast = false;
  /** Its allowed-fast set. */
  readonly allowedFast = new Set<number>();
  /** Its pieces. */
  readonly pieces = new Set<number>();
  readonly peerPieces = { has: (index: number): boolean => this.pieces.has(index) };
  /** Messages sent besides blocks and choking: REJECT_REQUEST, SUGGEST_PIECE. */
  readonly messages: WireMessage[] = [];

  weAllowFast(index: number): boolean {
    return this.allowedFast.has(index);
  }

  send(message: WireMessage): void {
    this.messages.push(message);
  }

  /** The blocks it was sent a REJECT_REQUEST for, in order. */
  get rejects(): BlockRef[] {
    return this.messages.flatMap((m) => (m.kind === 'reject' ? [{ index: m.index, begin: m.begin, length: m.length }] : []));
  }

  constructor(
    private readonly clock: FakeClock,
    settings: Settings,
  ) {
    this.requestGate = new RequestGate(clock.now(), settings);
  }

  choke(): boolean {
    if (this.amChoking) return false;
    this.amChoking = true;
    this.requestGate.choked(this.clock.now());
    return true;
  }

  unchoke(): boolean {
    if (!this.amChoking) return false;
    this.amChoking = false;
    this.requestGate.unchoked();
    return true;
  }

  sendBlock(index: number, begin: number, views: readonly Buffer[], onSent: () => void): void {
    this.sent.push({ index, begin, length: views.reduce((sum, view) => sum + view.length, 0) });
    onSent();
  }

  close(reason: string): void {
    this.isClosed = true;
    this.closes.push(reason);
  }
}

interface Read {
  key: string;
  begin: number;
  length: number;
  finish(): void;
  fail(error: Error): void;
}

/** Reads finish when the test says; a piece leased or prefetched counts as cached. */
class FakeReadCache {
  readonly cached = new Set<string>();
  readonly reads: Read[] = [];
  readonly prefetched: string[] = [];
  released = 0;

  has(key: string): boolean {
    return this.cached.has(key);
  }

  lease(key: string, _pieceLength: number, begin: number, length: number): Promise<BlockLease> {
    this.cached.add(key);
    return new Promise((resolve, reject) => {
      const lease: BlockLease = { views: [Buffer.alloc(length)], release: () => void this.released++ };
      this.reads.push({ key, begin, length, finish: () => resolve(lease), fail: reject });
    });
  }

  prefetch(key: string): void {
    this.prefetched.push(key);
    this.cached.add(key);
  }

  /** Finishes every read under way, and lets their callbacks run. */
  async finishAll(): Promise<void> {
    for (const read of this.reads.splice(0)) read.finish();
    await settle();
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Options {
  settings?: Partial<Settings>;
  /** Bytes per second under the upload limit, with a burst of half a block; unlimited by default. */
  uploadRate?: number;
  have?: (index: number) => boolean;
}

function setup(options: Options = {}) {
  const settings: Settings = { ...defaultSettings, ...options.settings };
  const clock = new FakeClock(1_000_000);
  const timers: { at: number; run: () => void }[] = [];
  const limiterTimers: LimiterTimers = {
    now: () => clock.now(),
    after: (ms, run) => {
      const timer = { at: clock.now() + ms, run };
      timers.push(timer);
      return { cancel: () => void timers.splice(timers.indexOf(timer) >>> 0, 1) };
    },
  };
  const rate = options.uploadRate ?? 0;
  const limiter = new FairLimiter(new TokenBucket(rate, BLOCK / 2, clock.now()), limiterTimers);
  const cache = new FakeReadCache();
  const readFailures: string[] = [];
  const withheld = new Set<number>();
  const uploader = new Uploader<FakePeer>({
    choker: new Choker({ ...settings, random: () => 0 }),
    role: () => 'seeder',
    isSnubbed: () => false,
    geometry: new PieceGeometry(BLOCKS_PER_PIECE * BLOCK, PIECES * BLOCKS_PER_PIECE * BLOCK, BLOCK),
    hasPiece: options.have ?? (() => true),
    infoHashHex: INFO_HASH,
    readPiece: () => Promise.reject(new Error('the fake cache reads nothing')),
    readFailed: (index, error) => void readFailures.push(`${index}: ${error.message}`),
    withheld: (index) => withheld.has(index),
    readCache: cache,
    limiter,
    settings,
    clock,
  });
  return {
    uploader,
    cache,
    clock,
    readFailures,
    withheld,
    /** A peer that joined; unchoked unless said otherwise. */
    peer(unchoked = true): FakePeer {
      const peer = new FakePeer(clock, settings);
      uploader.join(peer);
      if (unchoked) peer.unchoke();
      return peer;
    },
    /** A peer that speaks BEP 6, with `allowedFast` as its allowed-fast set; unchoked unless said otherwise. */
    fastPeer(unchoked = true, allowedFast: number[] = []): FakePeer {
      const peer = new FakePeer(clock, settings);
      peer.fast = true;
      for (const index of allowedFast) peer.allowedFast.add(index);
      uploader.join(peer);
      if (unchoked) peer.unchoke();
      return peer;
    },
    /** Moves the clock to the limiter's next timer and runs it. */
    fireLimiter(): void {
      timers.sort((a, b) => a.at - b.at);
      const timer = timers.shift();
      if (!timer) throw new Error('the limiter set no timer');
      clock.advance(timer.at - clock.now());
      timer.run();
    },
  };
}

const block = (index: number, b = 0): BlockRef => ({ index, begin: b * BLOCK, length: BLOCK });
const key = (index: number): string => `${INFO_HASH}:${index}`;

describe('serving requests', () => {
  test('blocks are read through the read cache and sent oldest first, and counted', async () => {
    const { uploader, cache, clock, peer } = setup();
    const a = peer();
    for (const ref of [block(2, 1), block(2, 0), block(5, 3)]) uploader.request(a, ref);
    expect(cache.reads.map((read) => [read.key, read.begin])).toEqual([
      [key(2), BLOCK],
      [key(2), 0],
      [key(5), 3 * BLOCK],
    ]);
    await cache.finishAll();
    expect(a.sent).toEqual([block(2, 1), block(2, 0), block(5, 3)]);
    expect(uploader.uploaded).toBe(3 * BLOCK);
    expect(uploader.rate.rate(clock.now())).toBeGreaterThan(0);
    expect(cache.released).toBe(3);
  });

  test(`no more than ${MAX_READS_PER_PEER} reads are under way for one peer`, async () => {
    const { uploader, cache, peer } = setup();
    const a = peer();
    for (let b = 0; b < 4; b++) for (let index = 0; index < 2; index++) uploader.request(a, block(index, b));
    expect(cache.reads).toHaveLength(MAX_READS_PER_PEER);
    cache.reads.shift()!.finish();
    await settle();
    expect(a.sent).toHaveLength(1);
    expect(cache.reads).toHaveLength(MAX_READS_PER_PEER);
  });

  test('a peer whose socket is full is served again when serve() is called (drain)', async () => {
    const { uploader, cache, peer } = setup();
    const a = peer();
    a.writable = false;
    uploader.request(a, block(1));
    expect(cache.reads).toHaveLength(0);
    a.writable = true;
    uploader.serve(a);
    await cache.finishAll();
    expect(a.sent).toEqual([block(1)]);
  });

  test('a cancelled request is not served; a cancel of nothing queued changes nothing', async () => {
    const { uploader, cache, peer } = setup();
    const a = peer();
    a.writable = false;
    for (const ref of [block(1, 0), block(1, 1), block(1, 2)]) uploader.request(a, ref);
    uploader.cancel(a, block(1, 1));
    uploader.cancel(a, block(7, 3));
    a.writable = true;
    uploader.serve(a);
    await cache.finishAll();
    expect(a.sent).toEqual([block(1, 0), block(1, 2)]);
  });

  test('a request cancelled while its block is being read is not sent, and its lease is released', async () => {
    const { uploader, cache, peer } = setup();
    const a = peer();
    uploader.request(a, block(1, 0));
    uploader.request(a, block(1, 1));
    expect(cache.reads).toHaveLength(2);
    uploader.cancel(a, block(1, 0));
    await cache.finishAll();
    expect(a.sent).toEqual([block(1, 1)]);
    // The cancelled block's lease, and the sent one's once the socket took it.
    expect(cache.released).toBe(2);
    expect(uploader.uploaded).toBe(block(1, 1).length);
  });

  test('a block read for a peer choked or closed meanwhile is not sent, and its lease is released', async () => {
    const { uploader, cache, peer } = setup();
    const [choked, closed] = [peer(), peer()];
    uploader.request(choked, block(0));
    uploader.request(closed, block(1));
    choked.choke();
    closed.close('gone');
    await cache.finishAll();
    expect([choked.sent, closed.sent]).toEqual([[], []]);
    expect(cache.released).toBe(2);
    expect(uploader.uploaded).toBe(0);
  });

  test('a read that fails (or a piece that fails its hash) sends nothing, tells the swarm, and serves the next request', async () => {
    const { uploader, cache, readFailures, peer } = setup();
    const a = peer();
    uploader.request(a, block(3));
    uploader.request(a, block(4));
    cache.reads[0].fail(new Error('piece 3 no longer matches its hash'));
    await settle();
    expect(readFailures).toEqual(['3: piece 3 no longer matches its hash']);
    expect(a.closes).toEqual([]);
    expect(a.sent).toEqual([]);
    await cache.finishAll();
    expect(a.sent.map((sent) => sent.index)).toEqual([4]);
    expect(uploader.uploaded).toBe(block(4).length);
  });

  test('requests for a withheld piece (its data changed on disk) are dropped without a word', async () => {
    const { uploader, cache, withheld, peer } = setup();
    const a = peer();
    withheld.add(2);
    uploader.request(a, block(2));
    uploader.request(a, block(2, 1));
    await cache.finishAll();
    expect(a.sent).toEqual([]);
    expect(a.closes).toEqual([]);
    expect(cache.reads).toHaveLength(0);
  });
});

describe('judging requests', () => {
  test('a request for a piece we do not have closes the peer', () => {
    const { uploader, cache, peer } = setup({ have: (index) => index !== 4 });
    const a = peer();
    uploader.request(a, block(4));
    expect(a.closes).toEqual(['requested piece 4, which we never announced (we do not have it)']);
    expect(cache.reads).toEqual([]);
  });

  test('a request outside the piece closes the peer', () => {
    const { uploader, peer } = setup();
    const a = peer();
    uploader.request(a, { index: 1, begin: BLOCKS_PER_PIECE * BLOCK, length: BLOCK });
    expect(a.closes).toHaveLength(1);
    expect(a.closes[0]).toMatch(/^bad request: /);
  });

  test('a request from a peer we choke is ignored, not queued', async () => {
    const { uploader, cache, peer } = setup();
    const a = peer(false);
    uploader.request(a, block(1));
    a.unchoke();
    uploader.serve(a);
    await cache.finishAll();
    expect(a.sent).toEqual([]);
    expect(a.closes).toEqual([]);
  });

  test('a peer that queues more than maxIncomingRequests is closed', () => {
    const { uploader, peer } = setup({ settings: { maxIncomingRequests: 3 } });
    const a = peer();
    a.writable = false;
    for (let b = 0; b < 3; b++) uploader.request(a, block(0, b));
    expect(a.closes).toEqual([]);
    uploader.request(a, block(1));
    expect(a.closes).toEqual(['it queued more than 3 requests (maxIncomingRequests, the reqq we advertise)']);
  });
});

describe('read-ahead', () => {
  test('a cache miss starts reading the next readAheadPieces distinct pieces of the queue', () => {
    const { uploader, cache, peer } = setup({ settings: { readAheadPieces: 2 } });
    const a = peer();
    a.writable = false;
    for (const ref of [block(0, 0), block(0, 1), block(1, 0), block(1, 1), block(2), block(3), block(4)]) uploader.request(a, ref);
    a.writable = true;
    uploader.serve(a);
    expect(cache.prefetched).toEqual([key(1), key(2)]);
  });

  test('a cache hit reads nothing ahead', () => {
    const { uploader, cache, peer } = setup();
    cache.cached.add(key(0));
    const a = peer();
    a.writable = false;
    // The miss of piece 1 comes last: nothing is left to read ahead then.
    for (const index of [0, 1]) uploader.request(a, block(index));
    a.writable = true;
    uploader.serve(a);
    expect(cache.prefetched).toEqual([]);
  });
});

describe('the upload limit', () => {
  test('past the bucket, a peer waits for its turn, and gets one block per turn', async () => {
    const { uploader, cache, peer, fireLimiter } = setup({ uploadRate: BLOCK });
    const a = peer();
    for (let b = 0; b < 3; b++) uploader.request(a, block(0, b));
    expect(cache.reads).toHaveLength(1);
    fireLimiter();
    expect(cache.reads).toHaveLength(2);
    fireLimiter();
    expect(cache.reads).toHaveLength(3);
    await cache.finishAll();
    expect(a.sent).toEqual([block(0, 0), block(0, 1), block(0, 2)]);
  });

  test('after stop, the turns waiting in line are dropped', () => {
    const { uploader, cache, peer, fireLimiter } = setup({ uploadRate: BLOCK });
    const a = peer();
    uploader.request(a, block(0, 0));
    uploader.request(a, block(0, 1));
    uploader.stop();
    fireLimiter();
    expect(cache.reads).toHaveLength(1);
  });
});

describe('choking', () => {
  test('a peer that loses interest is choked, and the requests it queued are discarded', async () => {
    const { uploader, cache, peer } = setup();
    const a = peer();
    a.peerInterested = true;
    a.writable = false;
    uploader.request(a, block(1));
    a.peerInterested = false;
    uploader.interestChanged();
    expect(a.amChoking).toBe(true);
    a.unchoke();
    a.writable = true;
    uploader.serve(a);
    await cache.finishAll();
    expect(a.sent).toEqual([]);
  });

  test('a peer that becomes interested is unchoked at once when a slot is free', () => {
    const { uploader, peer } = setup();
    const a = peer(false);
    a.peerInterested = true;
    uploader.interestChanged();
    expect(a.amChoking).toBe(false);
  });

  test("an unchoked peer's departure gives its slot to a waiting peer", () => {
    const { uploader, peer } = setup({ settings: { unchokeSlots: 1 } });
    const [a, b, c] = [peer(false), peer(false), peer(false)];
    for (const p of [a, b, c]) p.peerInterested = true;
    uploader.interestChanged();
    // One slot by rate, one optimistic.
    expect([a, b, c].map((p) => p.amChoking)).toEqual([false, false, true]);
    a.close('gone');
    uploader.peerLeft(a);
    expect([b, c].map((p) => p.amChoking)).toEqual([false, false]);
  });

  test('the tick runs a choker round when one is due, and not before', () => {
    const { uploader, clock, peer } = setup();
    const a = peer();
    uploader.tick(clock.now());
    // Not interested: the round chokes it.
    expect(a.amChoking).toBe(true);
    a.unchoke();
    uploader.tick(clock.now() + defaultSettings.chokeIntervalMs - 1);
    expect(a.amChoking).toBe(false);
    uploader.tick(clock.now() + defaultSettings.chokeIntervalMs);
    expect(a.amChoking).toBe(true);
  });
});

describe('a Fast peer (BEP 6): every request answered once, the block or a REJECT', () => {
  test('requests while choked are rejected, however many and however late, and never drop the peer', () => {
    const { uploader, cache, clock, fastPeer } = setup();
    const a = fastPeer(false);
    clock.advance(defaultSettings.chokedRequestGraceMs);
    const many = 3 * defaultSettings.maxRequestsWhileChoked;
    for (let i = 0; i < many; i++) uploader.request(a, block(i % PIECES, 0));
    expect(a.rejects).toHaveLength(many);
    expect(a.closes).toEqual([]);
    expect(cache.reads).toEqual([]);
  });

  test('a piece of its allowed-fast set is served while it is choked; the others are rejected', async () => {
    const { uploader, cache, fastPeer } = setup();
    const a = fastPeer(false, [3]);
    uploader.request(a, block(3, 1));
    uploader.request(a, block(4, 1));
    await cache.finishAll();
    expect(a.sent).toEqual([block(3, 1)]);
    expect(a.rejects).toEqual([block(4, 1)]);
  });

  test('a request for a piece we do not have is rejected, not a reason to close', () => {
    const { uploader, cache, fastPeer } = setup({ have: (index) => index !== 4 });
    const a = fastPeer();
    uploader.request(a, block(4));
    expect(a.rejects).toEqual([block(4)]);
    expect(a.closes).toEqual([]);
    expect(cache.reads).toEqual([]);
  });

  test('a request for a withheld piece is rejected, whether withheld before it came or before its turn', async () => {
    const { uploader, cache, withheld, fastPeer } = setup();
    const a = fastPeer();
    withheld.add(2);
    uploader.request(a, block(2));
    a.writable = false;
    uploader.request(a, block(5));
    withheld.add(5);
    a.writable = true;
    uploader.serve(a);
    await cache.finishAll();
    expect(a.rejects).toEqual([block(2), block(5)]);
    expect(a.sent).toEqual([]);
  });

  test('past its queue requests are rejected; only more than maxRejectedOverQueue in a row drop it', () => {
    const { uploader, fastPeer } = setup({ settings: { maxIncomingRequests: 2, maxRejectedOverQueue: 3 } });
    const a = fastPeer();
    a.writable = false;
    for (let b = 0; b < 2; b++) uploader.request(a, block(0, b));
    for (let i = 0; i < 3; i++) uploader.request(a, block(1, i));
    expect(a.rejects).toEqual([block(1, 0), block(1, 1), block(1, 2)]);
    expect(a.closes).toEqual([]);
    uploader.request(a, block(2));
    expect(a.closes).toEqual(['it sent 4 requests in a row past the 2 it may queue (maxIncomingRequests, the reqq we advertise), each rejected (more than 3, maxRejectedOverQueue)']);
  });

  test('a request queued in between starts the count of rejected ones again', () => {
    const { uploader, cache, fastPeer } = setup({ settings: { maxIncomingRequests: 1, maxRejectedOverQueue: 2 } });
    const a = fastPeer();
    a.writable = false;
    uploader.request(a, block(0));
    for (let round = 1; round <= 3; round++) {
      uploader.request(a, block(round, 1));
      uploader.request(a, block(round, 2));
      // Its queued request is served, so the next one is queued.
      a.writable = true;
      uploader.serve(a);
      a.writable = false;
      expect(cache.reads).toHaveLength(round);
      uploader.request(a, block(round));
    }
    expect(a.rejects).toHaveLength(6);
    expect(a.closes).toEqual([]);
  });

  test('a choke rejects every queued request and every read under way, which is then not sent; allowed-fast ones are still served', async () => {
    const { uploader, cache, fastPeer } = setup();
    const a = fastPeer(true, [6]);
    a.peerInterested = true;
    // Two reads under way, two requests queued behind them.
    uploader.request(a, block(1, 0));
    uploader.request(a, block(6, 0));
    a.writable = false;
    uploader.request(a, block(1, 1));
    uploader.request(a, block(6, 1));
    a.peerInterested = false;
    uploader.interestChanged();
    expect(a.amChoking).toBe(true);
    expect(a.rejects).toEqual([block(1, 1), block(1, 0)]);
    a.writable = true;
    uploader.serve(a);
    await cache.finishAll();
    expect(a.sent).toEqual([block(6, 0), block(6, 1)]);
    expect(cache.released).toBe(3);
  });

  test('a cancelled request, queued or being read, is answered with one REJECT and never sent', async () => {
    const { uploader, cache, fastPeer } = setup();
    const a = fastPeer();
    uploader.request(a, block(1, 0));
    a.writable = false;
    uploader.request(a, block(1, 1));
    uploader.cancel(a, block(1, 1));
    uploader.cancel(a, block(1, 0));
    uploader.cancel(a, block(1, 0));
    await cache.finishAll();
    expect(a.rejects).toEqual([block(1, 1), block(1, 0)]);
    expect(a.sent).toEqual([]);
  });

  test('a read that fails is answered with a REJECT', async () => {
    const { uploader, cache, fastPeer } = setup();
    const a = fastPeer();
    uploader.request(a, block(3));
    cache.reads[0].fail(new Error('piece 3 no longer matches its hash'));
    await settle();
    expect(a.rejects).toEqual([block(3)]);
  });

  test('the same cases without BEP 6 send nothing but the blocks', async () => {
    const { uploader, cache, withheld, peer } = setup({ have: (index) => index !== 7 });
    const a = peer(false);
    const b = peer();
    withheld.add(2);
    uploader.request(a, block(1));
    uploader.request(b, block(2));
    uploader.request(b, block(3));
    uploader.cancel(b, block(3));
    uploader.request(b, block(7));
    await cache.finishAll();
    expect([a.messages, b.messages]).toEqual([[], []]);
    expect(b.closes).toEqual(['requested piece 7, which we never announced (we do not have it)']);
  });
});

describe('suggestions (BEP 6 SUGGEST_PIECE)', () => {
  test('a Fast peer that becomes interested is told of up to maxSuggestions pieces it lacks in the read cache, newest first, once', async () => {
    const { uploader, cache, fastPeer, peer } = setup({ settings: { maxSuggestions: 2 } });
    const reader = peer();
    for (const index of [0, 1, 2, 3]) uploader.request(reader, block(index));
    await cache.finishAll();
    cache.cached.delete(key(2));
    const a = fastPeer(false);
    a.pieces.add(3);
    uploader.suggest(a);
    expect(a.messages).toEqual([
      { kind: 'suggest', index: 1 },
      { kind: 'suggest', index: 0 },
    ]);
    uploader.suggest(a);
    expect(a.messages).toHaveLength(2);
    const plain = peer(false);
    uploader.suggest(plain);
    expect(plain.messages).toEqual([]);
  });
});
