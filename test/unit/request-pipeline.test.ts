/**
 * The request pipeline on its own: a real picker, slab and smart ban, fake peers that record what
 * they are sent, and a fake clock. No sockets.
 */
import { BlockSlab, slabPieceViews, type SlabPiece } from '../../src/io/block-slab.js';
import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { defaultSettings, type Settings } from '../../src/io/settings.js';
import { blockKey } from '../../src/main/swarm/peer-requests.js';
import { PiecePicker, type BlockRef } from '../../src/main/swarm/piece-picker.js';
import { RequestPipeline, type BlockOutcome, type RequestPeer } from '../../src/main/swarm/request-pipeline.js';
import { SlabShares } from '../../src/main/swarm/slab-shares.js';
import { SmartBan } from '../../src/main/swarm/smart-ban.js';
import type { WireMessage } from '../../src/main/wire/wire-messages.js';
import { FakeClock } from '../helpers/fake-clock.js';

const BLOCK = 16 * 1024;

class FakePeer implements RequestPeer {
  peerChoking = false;
  amInterested = true;
  isClosed = false;
  extensions: { reqq?: number } | null = null;
  /** Bytes per second it is said to give us. */
  rate = 0;
  readonly downloadRate = { rate: (): number => this.rate };
  readonly peerPieces: { has(index: number): boolean };
  /** Requests sent to it and neither answered nor cancelled, in the order sent. */
  readonly open = new Map<string, BlockRef>();
  /** How many requests each write carried. */
  readonly batches: number[] = [];
  readonly cancels: BlockRef[] = [];
  /** Pieces it allows fast (its ALLOWED_FAST). */
  readonly allowedFast = new Set<number>();
  /** Its suggestions, best first. */
  suggestedPieces: number[] = [];

  peerAllowsFast(index: number): boolean {
    return this.allowedFast.has(index);
  }

  get peerAllowsAnyFast(): boolean {
    return this.allowedFast.size > 0;
  }

  constructor(pieces: readonly number[]) {
    const has = new Set(pieces);
    this.peerPieces = { has: (index) => has.has(index) };
  }

  sendRequests(blocks: readonly BlockRef[]): void {
    this.batches.push(blocks.length);
    for (const block of blocks) this.open.set(blockKey(block.index, block.begin), block);
  }

  send(message: WireMessage): void {
    if (message.kind !== 'cancel') throw new Error(`the pipeline sent a ${message.kind} message`);
    const { index, begin, length } = message;
    this.cancels.push({ index, begin, length });
    this.open.delete(blockKey(index, begin));
  }

  /** The oldest request still open. */
  first(): BlockRef {
    const [block] = this.open.values();
    if (!block) throw new Error('no request is open');
    return block;
  }

  openPieces(): number[] {
    return [...this.open.values()].map((block) => block.index);
  }
}

interface Options {
  pieces?: number;
  blocksPerPiece?: number;
  /** Pieces the slab holds; all of them by default. */
  slabPieces?: number;
  settings?: Partial<Settings>;
}

function setup(options: Options = {}) {
  const pieces = options.pieces ?? 4;
  const blocksPerPiece = options.blocksPerPiece ?? 4;
  const settings: Settings = { ...defaultSettings, ...options.settings };
  const geometry = new PieceGeometry(blocksPerPiece * BLOCK, pieces * blocksPerPiece * BLOCK, BLOCK);
  // Draws nothing at random: pieces are started lowest index first.
  const picker = new PiecePicker(geometry, () => 0);
  const slab = new BlockSlab(0, (options.slabPieces ?? pieces) * blocksPerPiece * BLOCK, BLOCK);
  const wakes: (() => void)[] = [];
  const smartBan = new SmartBan<FakePeer>();
  const clock = new FakeClock();
  const state = { downloading: true };
  const pipeline = new RequestPipeline<FakePeer>({
    picker,
    slabShares: new SlabShares(slab, (run) => wakes.push(run)),
    smartBan,
    settings,
    clock,
    isDownloading: () => state.downloading,
  });
  const allPieces = Array.from({ length: pieces }, (_, i) => i);
  /** The peer answers `block` (its oldest open request by default) with bytes of `fill`. */
  const answer = (peer: FakePeer, block: BlockRef = peer.first(), fill = 0xaa): BlockOutcome => {
    peer.open.delete(blockKey(block.index, block.begin));
    return pipeline.blockArrived(peer, block.index, block.begin, Buffer.alloc(block.length, fill));
  };
  return {
    pipeline,
    picker,
    slab,
    smartBan,
    clock,
    state,
    /** A peer that joined, with `has` (every piece by default). */
    peer(has: readonly number[] = allPieces): FakePeer {
      const peer = new FakePeer(has);
      pipeline.join(peer);
      return peer;
    },
    answer,
    /** The peer answers every request it has open. */
    answerAll: (peer: FakePeer): BlockOutcome[] => [...peer.open.values()].map((block) => answer(peer, block)),
    /** Runs the slab's wake-ups of swarms refused memory. */
    runWakes: (): void => wakes.splice(0).forEach((run) => run()),
  };
}

/** The distinct byte values of `bytes`: [0xaa] when every byte is 0xaa. */
function byteValues(bytes: Buffer): number[] {
  return [...new Set(bytes)];
}

function pieceOf(outcome: BlockOutcome): SlabPiece | null {
  return outcome.kind === 'accepted' ? outcome.piece : null;
}

describe('how many requests a peer gets', () => {
  test('a new peer is asked for the initial queue depth, in one write', () => {
    const { pipeline, peer } = setup();
    const a = peer();
    pipeline.fill(a);
    expect(a.batches).toEqual([defaultSettings.initialRequestQueueDepth]);
  });

  test.each<[string, Partial<Settings>, number, number | undefined, number]>([
    ['no fewer than minRequestQueueDepth', { initialRequestQueueDepth: 1, minRequestQueueDepth: 3 }, 0, undefined, 3],
    ['as many as requestQueueSeconds of its rate bring', { requestQueueSeconds: 2 }, 20 * BLOCK, undefined, 40],
    ['no more than maxRequestQueueDepth', { maxRequestQueueDepth: 30 }, 100 * BLOCK, undefined, 30],
    ['no more than the reqq of its extension handshake', {}, 100 * BLOCK, 25, 25],
    ['no more than defaultPeerReqq when it names no reqq', { defaultPeerReqq: 35 }, 100 * BLOCK, undefined, 35],
  ])('a peer is asked for %s', (_name, settings, rate, reqq, expected) => {
    const { pipeline, peer } = setup({ pieces: 16, settings });
    const a = peer();
    a.rate = rate;
    if (reqq !== undefined) a.extensions = { reqq };
    pipeline.fill(a);
    expect(a.open.size).toBe(expected);
  });

  test('once some requests are outstanding, more are sent only when 16 fit, in one write', () => {
    const { pipeline, peer, answer } = setup({ pieces: 16, settings: { requestQueueSeconds: 1 } });
    const a = peer();
    a.rate = 40 * BLOCK;
    pipeline.fill(a);
    for (let i = 0; i < 15; i++) answer(a);
    pipeline.fill(a);
    expect(a.batches).toEqual([40]);
    answer(a);
    pipeline.fill(a);
    expect(a.batches).toEqual([40, 16]);
    expect(a.open.size).toBe(40);
  });

  test('slow start deepens the queue by one for each block received', () => {
    const { pipeline, peer, answerAll } = setup({ pieces: 8 });
    const a = peer();
    pipeline.fill(a);
    answerAll(a);
    pipeline.fill(a);
    expect(a.open.size).toBe(8);
    answerAll(a);
    pipeline.fill(a);
    expect(a.open.size).toBe(16);
  });

  test.each([
    ['ends when the rate grows by less than a tenth', 1.05, 4],
    ['goes on while the rate grows by a tenth or more', 1.2, 16],
  ])('slow start %s between time-out checks', (_name, growth, expected) => {
    const { pipeline, peer, answerAll, clock } = setup({ pieces: 8 });
    const a = peer();
    a.rate = BLOCK;
    clock.advance(1000);
    pipeline.timeOuts(clock.now());
    pipeline.fill(a);
    answerAll(a);
    pipeline.fill(a);
    expect(a.open.size).toBe(8);
    a.rate = BLOCK * growth;
    clock.advance(1000);
    pipeline.timeOuts(clock.now());
    answerAll(a);
    pipeline.fill(a);
    // Without slow start the depth is what 3 s of the rate bring: 4 blocks.
    expect(a.open.size).toBe(expected);
  });

  test.each<[string, (peer: FakePeer, state: { downloading: boolean }) => void]>([
    ['while the swarm is not downloading', (_peer, state) => void (state.downloading = false)],
    ['of a peer that chokes us', (peer) => void (peer.peerChoking = true)],
    ['of a peer we are not interested in', (peer) => void (peer.amInterested = false)],
    ['of a peer whose connection closed', (peer) => void (peer.isClosed = true)],
  ])('nothing is asked %s', (_name, change) => {
    const { pipeline, peer, state } = setup();
    const a = peer();
    change(a, state);
    pipeline.fill(a);
    expect(a.batches).toEqual([]);
  });
});

describe('requests that go unanswered', () => {
  test('a request unanswered for requestTimeoutMs is cancelled, its peer snubbed to one request, and its block given to another peer', () => {
    const { pipeline, peer, clock } = setup({ pieces: 3 });
    const a = peer();
    const b = peer([0]);
    pipeline.fill(a);
    pipeline.fill(b);
    expect(a.openPieces()).toEqual([0, 0, 0, 0]);
    expect(b.batches).toEqual([]);
    clock.advance(defaultSettings.requestTimeoutMs - 1);
    pipeline.timeOuts(clock.now());
    expect(a.cancels).toEqual([]);
    clock.advance(1);
    pipeline.timeOuts(clock.now());
    expect(a.cancels.map((block) => block.begin)).toEqual([0, 1, 2, 3].map((b) => b * BLOCK));
    expect(pipeline.isSnubbed(a)).toBe(true);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([0, 0, 0, 0]);
    pipeline.fill(a);
    expect(a.open.size).toBe(1);
  });

  test("a snubbed peer's next block lifts the snub", () => {
    const { pipeline, peer, answer, clock } = setup();
    const a = peer();
    pipeline.fill(a);
    clock.advance(defaultSettings.requestTimeoutMs);
    pipeline.timeOuts(clock.now());
    pipeline.fill(a);
    answer(a);
    expect(pipeline.isSnubbed(a)).toBe(false);
  });

  test('the late answer to a request that timed out is dropped once without touching the slot, and a second copy is unrequested', () => {
    const { pipeline, peer, clock } = setup();
    const a = peer();
    const b = peer([0]);
    pipeline.fill(a);
    clock.advance(defaultSettings.requestTimeoutMs);
    pipeline.timeOuts(clock.now());
    pipeline.fill(b);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(BLOCK, 0xaa))).toEqual({ kind: 'late' });
    expect(byteValues(pipeline.slotFor(b, 0, 0, BLOCK)!)).toEqual([0]);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(BLOCK, 0xaa))).toEqual({ kind: 'unrequested' });
  });

  test("a choke gives the peer's requests back to the picker, without cancelling them, for another peer to take", () => {
    const { pipeline, peer } = setup({ pieces: 3 });
    const a = peer();
    const b = peer([0]);
    pipeline.fill(a);
    a.peerChoking = true;
    pipeline.choked(a);
    expect(a.cancels).toEqual([]);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([0, 0, 0, 0]);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'late' });
  });

  test('a peer that leaves gives its requests back, except those another peer was also asked in the end game', () => {
    const { pipeline, peer, picker } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    expect([...b.open.keys()]).toEqual([blockKey(0, 0)]);
    pipeline.peerLeft(a);
    expect([0, 1, 2, 3].map((block) => picker.isRequested(0, block * BLOCK))).toEqual([true, false, false, false]);
  });
});

describe('blocks that arrive', () => {
  test('a block nobody asked the peer for is reported as unrequested', () => {
    const { pipeline, peer } = setup();
    const a = peer();
    pipeline.fill(a);
    expect(pipeline.blockArrived(a, 2, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'unrequested' });
  });

  test('a block of another length than asked is reported malformed', () => {
    const { pipeline, peer } = setup();
    const a = peer();
    pipeline.fill(a);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(100))).toEqual({ kind: 'malformed', reason: 'wrong length' });
  });

  test('a complete piece is reported once, by its last block, with every block in its slot in order', () => {
    const { pipeline, peer, answer, slab } = setup({ pieces: 2 });
    const a = peer();
    pipeline.fill(a);
    const order = [2, 0, 3, 1];
    const outcomes = order.map((b) => answer(a, { index: 0, begin: b * BLOCK, length: BLOCK }, b + 1));
    expect(outcomes.slice(0, 3)).toEqual([0, 1, 2].map(() => ({ kind: 'accepted', piece: null })));
    const piece = pieceOf(outcomes[3])!;
    expect(piece.length).toBe(4 * BLOCK);
    expect(Buffer.concat(slabPieceViews(slab, piece))).toEqual(Buffer.concat([1, 2, 3, 4].map((fill) => Buffer.alloc(BLOCK, fill))));
  });

  test('the parser is given a slot only for a block the peer was asked for, at the length asked, and what it wrote there is kept', () => {
    const { pipeline, peer, answer, slab } = setup({ pieces: 2 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    expect(pipeline.slotFor(a, 0, 0, 100)).toBeUndefined();
    expect(pipeline.slotFor(a, 1, 0, BLOCK)).toBeUndefined();
    expect(pipeline.slotFor(b, 0, 0, BLOCK)).toBeUndefined();
    const slot = pipeline.slotFor(a, 0, 0, BLOCK)!;
    slot.fill(7);
    a.open.delete(blockKey(0, 0));
    expect(pipeline.blockArrived(a, 0, 0, slot)).toEqual({ kind: 'accepted', piece: null });
    const outcomes = [1, 2, 3].map((b) => answer(a, { index: 0, begin: b * BLOCK, length: BLOCK }, 9));
    expect(byteValues(slabPieceViews(slab, pieceOf(outcomes[2])!)[0])).toEqual([7]);
  });

  test('in the end game an idle peer is asked for one block already requested, and the other copy is cancelled when one arrives', () => {
    const { pipeline, peer, answer } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    expect(a.open.size).toBe(4);
    expect([...b.open.keys()]).toEqual([blockKey(0, 0)]);
    answer(a, { index: 0, begin: 0, length: BLOCK });
    expect(b.cancels).toEqual([{ index: 0, begin: 0, length: BLOCK }]);
    expect(a.cancels).toEqual([]);
    // The copy b had sent before the cancel reached it is dropped, never taken for a new block.
    expect(pipeline.blockArrived(b, 0, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'late' });
  });

  test('the copy that arrives first wins, whichever peer sends it: the first peer asked has its request cancelled', () => {
    const { pipeline, peer, answer } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    expect(answer(b, { index: 0, begin: 0, length: BLOCK })).toEqual({ kind: 'accepted', piece: null });
    expect(a.cancels).toEqual([{ index: 0, begin: 0, length: BLOCK }]);
    expect(b.cancels).toEqual([]);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'late' });
  });

  test('a second copy of a block never overwrites the first in its slot', () => {
    const { pipeline, peer, answer, slab } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    const first = { index: 0, begin: 0, length: BLOCK };
    answer(a, first, 0xaa);
    expect(pipeline.slotFor(b, 0, 0, BLOCK)).toBeUndefined();
    expect(pipeline.blockArrived(b, 0, 0, Buffer.alloc(BLOCK, 0xbb))).toEqual({ kind: 'late' });
    const outcomes = [1, 2, 3].map((b) => answer(a, { index: 0, begin: b * BLOCK, length: BLOCK }));
    expect(byteValues(slabPieceViews(slab, pieceOf(outcomes[2])!)[0])).toEqual([0xaa]);
  });
});

describe('the end game', () => {
  test('a peer with requests of its own still outstanding is asked for no duplicate; once it has none, for one', () => {
    const { pipeline, peer, picker, answer } = setup({ pieces: 2 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    expect(a.openPieces()).toEqual([0, 0, 0, 0]);
    expect(b.openPieces()).toEqual([1, 1, 1, 1]);
    expect(picker.inEndgame()).toBe(true);
    for (let i = 0; i < 3; i++) {
      answer(b);
      pipeline.fill(b);
    }
    expect(b.openPieces()).toEqual([1]);
    answer(b);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([0]);
    expect(b.batches).toEqual([4, 1]);
  });

  test('endgameRequestsPerPeer sets how few requests a peer must have left, and how many duplicates it gets at a time', () => {
    const { pipeline, peer, answer } = setup({ pieces: 2, settings: { endgameRequestsPerPeer: 3 } });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    answer(b);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([1, 1, 1]);
    answer(b);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([1, 1, 0]);
    answer(b);
    answer(b);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([0, 0, 0]);
  });

  test('a block is asked of at most endgameMaxPeersPerBlock peers at once', () => {
    const { pipeline, peer } = setup({ pieces: 1, blocksPerPiece: 2 });
    const a = peer();
    const [b, c, d] = [peer(), peer(), peer()];
    pipeline.fill(a);
    for (const other of [b, c, d]) pipeline.fill(other);
    expect([...b.open.keys()]).toEqual([blockKey(0, 0)]);
    expect([...c.open.keys()]).toEqual([blockKey(0, BLOCK)]);
    expect(d.batches).toEqual([]);
  });

  test('a peer is asked for duplicates of blocks of its own pieces only', () => {
    const { pipeline, peer } = setup({ pieces: 2 });
    const a = peer();
    const b = peer([0]);
    a.rate = 100 * BLOCK;
    b.rate = 100 * BLOCK;
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    pipeline.fill(b);
    // The back of a's queue is piece 1, which b lacks.
    expect([...b.open.keys()]).toEqual([blockKey(0, 3 * BLOCK)]);
  });

  test("the block duplicated first is the one its holder would send last: the back of a busy peer's queue", () => {
    const { pipeline, peer } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    a.rate = 100 * BLOCK;
    b.rate = 100 * BLOCK;
    pipeline.fill(a);
    pipeline.fill(b);
    expect([...b.open.keys()]).toEqual([blockKey(0, 3 * BLOCK)]);
  });

  test('an idle peer is asked for no duplicate it would deliver later than the holder, at their rates, nor, with no rate yet, for one a moving peer holds', () => {
    const { pipeline, peer } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    a.rate = 10 * BLOCK;
    pipeline.fill(a);
    // a delivers its last block in 0.4 s, b one block in 0.5 s.
    b.rate = 2 * BLOCK;
    pipeline.fill(b);
    expect(b.batches).toEqual([]);
    b.rate = 0;
    pipeline.fill(b);
    expect(b.batches).toEqual([]);
    b.rate = 3 * BLOCK;
    pipeline.fill(b);
    expect([...b.open.keys()]).toEqual([blockKey(0, 3 * BLOCK)]);
  });

  test("a block held by a peer that sends nothing is duplicated before any of a busy peer's, the longest asked first", () => {
    const { pipeline, peer, clock } = setup({ pieces: 3 });
    // Joined first, asked last: the order of the peers is not what decides.
    const silentLately = peer([1]);
    const silentLong = peer([0]);
    const busy = peer([2]);
    const idle = peer();
    busy.rate = 100 * BLOCK;
    pipeline.fill(silentLong);
    clock.advance(1000);
    pipeline.fill(silentLately);
    pipeline.fill(busy);
    pipeline.fill(idle);
    expect([...idle.open.keys()]).toEqual([blockKey(0, 0)]);
  });

  test('the last blocks held by a peer that never answers are finished by an idle peer, one duplicate at a time, well before the request time-out', () => {
    const { pipeline, peer, answer, clock } = setup({ pieces: 2 });
    const stalled = peer();
    const idle = peer();
    idle.rate = 10 * BLOCK;
    pipeline.fill(stalled);
    pipeline.fill(idle);
    expect(stalled.openPieces()).toEqual([0, 0, 0, 0]);
    const outcomes: BlockOutcome[] = [];
    // The swarm tops a peer up after each block it sends.
    while (idle.open.size > 0 && clock.now() < defaultSettings.requestTimeoutMs) {
      expect(idle.open.size).toBeLessThanOrEqual(idle.batches.length === 1 ? 4 : 1);
      clock.advance(100);
      outcomes.push(answer(idle));
      pipeline.fill(idle);
    }
    expect(clock.now()).toBeLessThan(defaultSettings.requestTimeoutMs / 10);
    expect(outcomes.map(pieceOf).filter((piece) => piece !== null)).toHaveLength(2);
    expect(idle.batches).toEqual([4, 1, 1, 1, 1]);
    expect(stalled.cancels.map((block) => block.begin)).toEqual([0, 1, 2, 3].map((b) => b * BLOCK));
    expect(pipeline.isSnubbed(stalled)).toBe(false);
  });
});

describe('pieces and their slots', () => {
  test('restarting a piece cancels its requests at every peer, frees its slots, and asks for it afresh', () => {
    const { pipeline, peer, slab } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    pipeline.fill(b);
    expect(slab.freeSlots).toBe(0);
    pipeline.restartPiece(0);
    expect(a.cancels).toHaveLength(4);
    expect(b.cancels).toHaveLength(1);
    expect(slab.freeSlots).toBe(4);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'late' });
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([0, 0, 0, 0]);
  });

  test('a piece under verification keeps its slots when restarted, and gives them back when done', () => {
    const { pipeline, peer, answerAll, slab } = setup({ pieces: 1 });
    const a = peer();
    pipeline.fill(a);
    answerAll(a);
    pipeline.restartPiece(0);
    expect(slab.freeSlots).toBe(0);
    pipeline.pieceDone(0);
    expect(slab.freeSlots).toBe(4);
  });

  test('a peer refused memory is asked again once a piece gives its slots back', () => {
    const { pipeline, peer, answerAll, runWakes } = setup({ pieces: 2, slabPieces: 1 });
    const a = peer([0]);
    const b = peer([1]);
    pipeline.fill(a);
    pipeline.fill(b);
    expect(b.batches).toEqual([]);
    answerAll(a);
    pipeline.pieceDone(0);
    expect(b.batches).toEqual([]);
    runWakes();
    expect(b.openPieces()).toEqual([1, 1, 1, 1]);
  });

  test('stopping gives every slot back to the slab', () => {
    const { pipeline, peer, slab } = setup({ pieces: 8, settings: { requestQueueSeconds: 1 } });
    const a = peer();
    a.rate = 20 * BLOCK;
    pipeline.fill(a);
    expect(slab.freeSlots).toBe(slab.slotCount - 20);
    pipeline.stop();
    expect(slab.freeSlots).toBe(slab.slotCount);
  });

  test('a piece restricted after bad data is asked of its one holder, and starts over for others when that peer chokes', () => {
    const { pipeline, peer, answerAll, smartBan } = setup({ pieces: 2 });
    const x = new FakePeer([]);
    const y = new FakePeer([]);
    smartBan.blockReceived(0, 0, 4, x);
    smartBan.blockReceived(0, 1, 4, y);
    smartBan.pieceFailed(0);
    const a = peer();
    const b = peer();
    a.extensions = { reqq: 2 };
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([0, 0]);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([1, 1, 1, 1]);
    a.peerChoking = true;
    pipeline.choked(a);
    answerAll(b);
    pipeline.fill(b);
    expect(b.openPieces()).toEqual([0, 0, 0, 0]);
  });
});

describe('the Fast extension (BEP 6)', () => {
  test('a REJECT releases its block at once: another peer is asked for it now, and the rejecting peer at its next top-up', () => {
    const { pipeline, peer } = setup({ pieces: 1 });
    const a = peer();
    const b = peer();
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([0, 0, 0, 0]);
    const rejected = a.first();
    a.open.delete(blockKey(rejected.index, rejected.begin));
    expect(pipeline.rejected(a, rejected)).toBe(true);
    pipeline.fill(b);
    expect([...b.open.values()]).toEqual([rejected]);
    // Without another peer, the rejecting one is asked again at its next top-up, well before any time-out.
    const { pipeline: alone, peer: only, answer } = setup({ pieces: 1 });
    const c = only();
    alone.fill(c);
    const first = c.first();
    c.open.delete(blockKey(first.index, first.begin));
    alone.rejected(c, first);
    expect(c.open.size).toBe(3);
    answer(c);
    alone.fill(c);
    expect(c.open.get(blockKey(first.index, first.begin))).toEqual(first);
  });

  test('a REJECT of a request never made, of another length, or given up on changes nothing', () => {
    const { pipeline, peer, picker, clock } = setup({ pieces: 2 });
    const a = peer([0]);
    pipeline.fill(a);
    expect(pipeline.rejected(a, { index: 1, begin: 0, length: BLOCK })).toBe(false);
    expect(pipeline.rejected(a, { index: 0, begin: 0, length: BLOCK - 1 })).toBe(false);
    expect(picker.isRequested(0, 0)).toBe(true);
    clock.advance(defaultSettings.requestTimeoutMs);
    pipeline.timeOuts(clock.now());
    expect(pipeline.rejected(a, { index: 0, begin: BLOCK, length: BLOCK })).toBe(false);
  });

  test('a peer that chokes us is asked only for the pieces it allows fast, and for none when it allows none', () => {
    const { pipeline, peer } = setup({ pieces: 4 });
    const a = peer();
    a.peerChoking = true;
    pipeline.fill(a);
    expect(a.open.size).toBe(0);
    a.allowedFast.add(2);
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([2, 2, 2, 2]);
  });

  test('its choke releases the requests of other pieces, whose late blocks are dropped, not taken as unrequested; allowed-fast ones stay', () => {
    const { pipeline, peer, picker } = setup({ pieces: 2, blocksPerPiece: 2 });
    const a = peer();
    a.allowedFast.add(1);
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([0, 0, 1, 1]);
    a.peerChoking = true;
    pipeline.choked(a);
    expect(a.cancels).toEqual([]);
    expect([picker.isRequested(0, 0), picker.isRequested(1, 0)]).toEqual([false, true]);
    expect(pipeline.blockArrived(a, 0, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'late' });
    expect(pipeline.rejected(a, { index: 0, begin: BLOCK, length: BLOCK })).toBe(false);
    expect(pipeline.blockArrived(a, 1, 0, Buffer.alloc(BLOCK))).toEqual({ kind: 'accepted', piece: null });
  });

  test("a peer's suggested pieces are started first", () => {
    const { pipeline, peer } = setup({ pieces: 8, blocksPerPiece: 2 });
    const a = peer();
    a.suggestedPieces = [6, 3];
    pipeline.fill(a);
    expect(a.openPieces()).toEqual([6, 6, 3, 3]);
  });
});
