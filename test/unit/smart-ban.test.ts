/** Who sent bad data: attribution of blocks, verdicts on failure and pass, one peer at a time. */
import { SmartBan } from '../../src/main/swarm/smart-ban.js';

const good = [Buffer.from('g0'), Buffer.from('g1'), Buffer.from('g2'), Buffer.from('g3')];
const bad = Buffer.from('xx');

function receive(ban: SmartBan<string>, index: number, senders: string[]): void {
  senders.forEach((sender, block) => ban.blockReceived(index, block, senders.length, sender));
}

test('a piece failed with every block from one peer bans that peer at once, and is not restricted', () => {
  const ban = new SmartBan<string>();
  receive(ban, 7, ['A', 'A', 'A', 'A']);
  expect(ban.pieceFailed(7)).toEqual({ kind: 'ban', peer: 'A' });
  expect(ban.mayDownload(7, 'B')).toBe(true);
});

test('mixed senders: the piece goes to one peer at a time, and a single-peer failure then bans that peer', () => {
  const ban = new SmartBan<string>();
  receive(ban, 3, ['A', 'B', 'A', 'B']);
  const verdict = ban.pieceFailed(3);
  expect(verdict).toEqual({ kind: 'restrict', blockSenders: ['A', 'B', 'A', 'B'] });
  expect(ban.mayDownload(3, 'A')).toBe(true);
  ban.claim(3, 'B');
  expect(ban.mayDownload(3, 'A')).toBe(false);
  expect(ban.mayDownload(3, 'B')).toBe(true);
  // Other pieces are not affected.
  expect(ban.mayDownload(4, 'A')).toBe(true);
  receive(ban, 3, ['B', 'B', 'B', 'B']);
  expect(ban.pieceFailed(3)).toEqual({ kind: 'ban', peer: 'B' });
  // Still restricted, free for the next peer.
  ban.claim(3, 'A');
  expect(ban.mayDownload(3, 'C')).toBe(false);
});

test('mixed senders, then a pass: the senders whose blocks differ from the good ones are the culprits', () => {
  const ban = new SmartBan<string>();
  receive(ban, 0, ['A', 'B', 'C', 'B']);
  const verdict = ban.pieceFailed(0);
  if (verdict.kind !== 'restrict') throw new Error('expected a restriction');
  ban.recordFailure(0, verdict.blockSenders, [good[0], bad, good[2], good[3]]);
  expect(ban.hasSuspects(0)).toBe(true);
  ban.claim(0, 'C');
  receive(ban, 0, ['C', 'C', 'C', 'C']);
  expect(ban.piecePassed(0, good)).toEqual(['B']);
  expect(ban.hasSuspects(0)).toBe(false);
  expect(ban.mayDownload(0, 'A')).toBe(true);
});

test('a pass without digests judges no one', () => {
  const ban = new SmartBan<string>();
  receive(ban, 0, ['A', 'B']);
  const verdict = ban.pieceFailed(0);
  if (verdict.kind !== 'restrict') throw new Error('expected a restriction');
  ban.recordFailure(0, verdict.blockSenders, [bad, bad]);
  expect(ban.piecePassed(0)).toEqual([]);
});

test('a holder that stops serving lets the piece go to another peer, with no verdict', () => {
  const ban = new SmartBan<string>();
  receive(ban, 5, ['A', 'B']);
  ban.pieceFailed(5);
  ban.claim(5, 'A');
  ban.blockReceived(5, 0, 2, 'A');
  expect(ban.heldBy('A')).toEqual([5]);
  ban.restart(5);
  expect(ban.heldBy('A')).toEqual([]);
  expect(ban.mayDownload(5, 'B')).toBe(true);
  ban.claim(5, 'B');
  receive(ban, 5, ['B', 'B']);
  expect(ban.pieceFailed(5)).toEqual({ kind: 'ban', peer: 'B' });
});

test('the pieces in progress that hold blocks from a peer are known (they start over when it is banned)', () => {
  const ban = new SmartBan<string>();
  ban.blockReceived(1, 0, 4, 'A');
  ban.blockReceived(1, 1, 4, 'B');
  ban.blockReceived(2, 0, 4, 'B');
  ban.blockReceived(3, 2, 4, 'A');
  expect(ban.piecesFrom('A')).toEqual([1, 3]);
  expect(ban.piecesFrom('B')).toEqual([1, 2]);
  ban.restart(1);
  expect(ban.piecesFrom('A')).toEqual([3]);
});
