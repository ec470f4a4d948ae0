/**
 * The piece verifier on its own: fake data whose verdicts the test gives, a real smart ban, and
 * a record of every call the verifier makes, in order. No pool, no disk.
 */
import type { SlabPiece } from '../../src/io/block-slab.js';
import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { PieceVerifier } from '../../src/main/swarm/piece-verifier.js';
import { SmartBan } from '../../src/main/swarm/smart-ban.js';

const BLOCK = 16 * 1024;
const BLOCKS = 4;
const PIECE = { slots: [], length: BLOCKS * BLOCK } as unknown as SlabPiece;

interface Peer {
  address: string;
}

const a: Peer = { address: '10.0.0.1:6881' };
const b: Peer = { address: '10.0.0.2:6881' };

/** What verifyAndWrite does with the next piece. */
type Verdict = 'good' | 'bad' | Error;

function setup() {
  const geometry = new PieceGeometry(BLOCKS * BLOCK, 10 * BLOCKS * BLOCK, BLOCK);
  const verdicts: Verdict[] = [];
  const digests: Buffer[][] = [];
  const calls: string[] = [];
  const smartBan = new SmartBan<Peer>();
  const verifier = new PieceVerifier<Peer>({
    data: {
      geometry,
      verifyAndWrite: async () => {
        const verdict = verdicts.shift()!;
        if (verdict instanceof Error) throw verdict;
        return verdict === 'good';
      },
      hashBlocks: async () => {
        calls.push('hashBlocks');
        return digests.shift()!;
      },
    },
    picker: {
      pieceFailed: (index) => void calls.push(`picker.pieceFailed ${index}`),
      markHave: (index) => void calls.push(`markHave ${index}`),
    },
    smartBan,
    pieceDone: (index) => void calls.push(`pieceDone ${index}`),
    log: { warn: (line) => void calls.push(`warn ${line}`) },
    storageFailed: (index, error) => void calls.push(`storageFailed ${index}: ${(error as Error).message}`),
    ban: (peer, reason) => void calls.push(`ban ${peer.address}: ${reason}`),
    pieceFailed: (index) => void calls.push(`pieceFailed ${index}`),
    pieceVerified: async (index) => void calls.push(`pieceVerified ${index}`),
  });
  /** Blocks of piece `index` received from `senders` (one per block), then verified with `verdict`. */
  const download = async (index: number, senders: Peer[], verdict: Verdict): Promise<void> => {
    senders.forEach((sender, block) => smartBan.blockReceived(index, block, BLOCKS, sender));
    verdicts.push(verdict);
    verifier.verify(index, PIECE);
    await verifier.settled();
  };
  return { verifier, smartBan, calls, digests, download };
}

const digest = (n: number): Buffer => Buffer.alloc(20, n);

test('a good piece frees its slots, is had and counted, then the swarm hears of it', async () => {
  const { verifier, calls, download } = setup();
  await download(3, [a, a, b, b], 'good');
  expect(calls).toEqual(['pieceDone 3', 'markHave 3', 'pieceVerified 3']);
  expect(verifier.downloaded).toBe(BLOCKS * BLOCK);
});

test('a bad piece from one sender bans it, after the piece is wanted again, without hashing blocks', async () => {
  const { verifier, calls, download } = setup();
  await download(3, [a, a, a, a], 'bad');
  expect(calls).toEqual([
    'pieceDone 3',
    'picker.pieceFailed 3',
    `warn piece 3 failed its hash check; every block came from ${a.address}`,
    `ban ${a.address}: it sent piece 3, which failed its hash check`,
    'pieceFailed 3',
  ]);
  expect(verifier.downloaded).toBe(0);
});

test('a bad piece from several senders bans nobody yet; the attempt that passes bans whoever sent a different block', async () => {
  const { calls, digests, download } = setup();
  digests.push([digest(1), digest(2), digest(3), digest(4)]);
  await download(3, [a, a, b, b], 'bad');
  expect(calls).toEqual([
    'hashBlocks',
    'pieceDone 3',
    'picker.pieceFailed 3',
    `warn piece 3 failed its hash check with blocks from ${a.address}, ${b.address}; downloading it again from one peer at a time`,
    'pieceFailed 3',
  ]);
  calls.length = 0;
  // b's block 2 differs from the good data; its block 3 and a's blocks do not.
  digests.push([digest(1), digest(2), digest(9), digest(4)]);
  await download(3, [a, a, a, a], 'good');
  expect(calls).toEqual(['hashBlocks', 'pieceDone 3', `ban ${b.address}: blocks it sent of piece 3 differ from the data that verified`, 'markHave 3', 'pieceVerified 3']);
});

test('a piece that could not be written judges nobody, is a storage error of the swarm, and is wanted again', async () => {
  const { verifier, smartBan, calls, download } = setup();
  await download(5, [a, b, a, b], new Error('disk full'));
  expect(calls).toEqual(['storageFailed 5: disk full', 'pieceDone 5', 'picker.pieceFailed 5', 'pieceFailed 5']);
  expect(smartBan.piecesFrom(a)).toEqual([]);
  expect(verifier.downloaded).toBe(0);
});

test('settled() waits for every piece under way', async () => {
  let finish!: (good: boolean) => void;
  const verified: number[] = [];
  const verifier = new PieceVerifier<Peer>({
    data: { geometry: new PieceGeometry(BLOCK, BLOCK, BLOCK), verifyAndWrite: () => new Promise((resolve) => (finish = resolve)), hashBlocks: async () => [] },
    picker: { pieceFailed: () => undefined, markHave: () => undefined },
    smartBan: new SmartBan<Peer>(),
    pieceDone: () => undefined,
    log: { warn: () => undefined },
    storageFailed: () => undefined,
    ban: () => undefined,
    pieceFailed: () => undefined,
    pieceVerified: async (index) => void verified.push(index),
  });
  verifier.verify(0, PIECE);
  let settled = false;
  const waiting = verifier.settled().then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  expect(settled).toBe(false);
  finish(true);
  await waiting;
  expect(verified).toEqual([0]);
});
