/** Fetching a magnet's info dictionary from several peers (BEP 9), on a fake clock. */
import { createHash } from 'node:crypto';
import { encodeBencode } from '../../src/io/bencode.js';
import { MetadataAssembly, type Arrival, type MetadataLimits } from '../../src/main/swarm/metadata-assembly.js';
import { METADATA_PIECE_LENGTH } from '../../src/main/wire/ut-metadata.js';

const KiB = 1024;
const limits: MetadataLimits = { maxMetadataSize: 16 * 1024 * KiB, metadataRequestTimeoutMs: 10_000, metadataRequestsPerPeer: 4 };

/** A bencoded dictionary of about `size` bytes, with content that differs by `seed`. */
function infoOf(size: number, seed = 1): Buffer {
  const filler = Buffer.alloc(size);
  for (let i = 0; i < size; i++) filler[i] = (i * 7 + seed) & 0xff;
  return encodeBencode({ name: 'x', filler });
}

const sha1 = (data: Buffer): Buffer => createHash('sha1').update(data).digest();
const pieceOf = (info: Buffer, piece: number): Buffer => info.subarray(piece * METADATA_PIECE_LENGTH, (piece + 1) * METADATA_PIECE_LENGTH);

/** Hands `peer` every piece it is asked for, until nothing is left to ask; the last arrival. */
function serve(assembly: MetadataAssembly<string>, peer: string, info: Buffer, now = 0): Arrival<string> | undefined {
  let last: Arrival<string> | undefined;
  for (let asked = assembly.nextRequests(peer, now); asked.length > 0; asked = assembly.nextRequests(peer, now)) {
    for (const piece of asked) last = assembly.received(peer, piece, info.length, pieceOf(info, piece), now);
  }
  return last;
}

describe('metadata offers', () => {
  test.each([
    [0, /offers 0 bytes of metadata, which cannot be an info dictionary/],
    [-5, /offers -5 bytes/],
    [1.5, /offers 1.5 bytes/],
    [1024 * 1024 * KiB, /offers 1073741824 bytes of metadata, more than the 16777216 accepted \(maxMetadataSize\)/],
  ])('%d bytes is refused, and the peer is never asked', (size, reason) => {
    const assembly = new MetadataAssembly<string>(Buffer.alloc(20), limits);
    const offer = assembly.offered('a', size);
    expect(offer.ok).toBe(false);
    if (!offer.ok) expect(offer.reason).toMatch(reason);
    expect(assembly.size).toBeUndefined();
    expect(assembly.nextRequests('a', 0)).toEqual([]);
  });

  test('the first acceptable size fixes the size; a peer offering another is not asked, and need not be dropped', () => {
    const assembly = new MetadataAssembly<string>(Buffer.alloc(20), limits);
    expect(assembly.offered('a', 40_000)).toEqual({ ok: true });
    expect(assembly).toMatchObject({ size: 40_000, pieceCount: 3, piecesHad: 0 });
    const other = assembly.offered('b', 50_000);
    expect(other).toEqual({ ok: false, reason: expect.stringMatching(/offers 50000 bytes of metadata where other peers offered 40000; .*need not be dropped/) });
    expect(assembly.nextRequests('b', 0)).toEqual([]);
    expect(assembly.offered('c', 40_000)).toEqual({ ok: true });
  });
});

describe('fetching the metadata', () => {
  test('from one peer: every piece asked, the last one shorter, the whole checked against the info hash', () => {
    const info = infoOf(40_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('a', info.length);
    expect(assembly.nextRequests('a', 0)).toEqual([0, 1, 2]);
    expect(assembly.nextRequests('a', 0)).toEqual([]);
    expect(assembly.received('a', 2, info.length, pieceOf(info, 2), 0)).toEqual({ kind: 'stored' });
    expect(pieceOf(info, 2).length).toBe(info.length - 2 * METADATA_PIECE_LENGTH);
    expect(assembly.received('a', 0, info.length, pieceOf(info, 0), 0)).toEqual({ kind: 'stored' });
    expect(assembly.piecesHad).toBe(2);
    expect(assembly.received('a', 1, info.length, pieceOf(info, 1), 0)).toEqual({ kind: 'complete', info });
  });

  test('the pieces are copied: a payload reused after it arrived does not change the metadata', () => {
    const info = infoOf(20_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('a', info.length);
    const chunk = Buffer.from(info);
    assembly.nextRequests('a', 0);
    assembly.received('a', 0, info.length, chunk.subarray(0, METADATA_PIECE_LENGTH), 0);
    chunk.fill(0);
    expect(assembly.received('a', 1, info.length, Buffer.from(pieceOf(info, 1)), 0)).toEqual({ kind: 'complete', info });
  });

  test('several peers get an even share, at most metadataRequestsPerPeer each, never the same piece twice', () => {
    const info = infoOf(8 * METADATA_PIECE_LENGTH - 100);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    expect(assembly.pieceCount).toBe(0);
    for (const peer of ['a', 'b', 'c']) assembly.offered(peer, info.length);
    expect(assembly.pieceCount).toBe(8);
    expect(assembly.nextRequests('a', 0)).toEqual([0, 1, 2]);
    expect(assembly.nextRequests('b', 0)).toEqual([3, 4, 5]);
    expect(assembly.nextRequests('c', 0)).toEqual([6, 7]);
    expect(assembly.nextRequests('a', 0)).toEqual([]);

    const alone = new MetadataAssembly<string>(sha1(info), limits);
    alone.offered('a', info.length);
    expect(alone.nextRequests('a', 0)).toEqual([0, 1, 2, 3]);
  });

  test('a request that timed out is asked of another peer, and a late answer is still welcome', () => {
    const info = infoOf(10_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('slow', info.length);
    assembly.offered('fast', info.length);
    expect(assembly.nextRequests('slow', 0)).toEqual([0]);
    expect(assembly.nextRequests('fast', 9_999)).toEqual([]);
    expect(assembly.nextRequests('fast', 10_000)).toEqual([0]);
    expect(assembly.received('slow', 0, info.length, info, 12_000)).toEqual({ kind: 'complete', info });
    // The other copy is harmless.
    expect(assembly.received('fast', 0, info.length, info, 12_001)).toEqual({ kind: 'stored' });
  });

  test('with one peer, a request it left unanswered is asked of it again', () => {
    const info = infoOf(10_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('a', info.length);
    expect(assembly.nextRequests('a', 0)).toEqual([0]);
    expect(assembly.nextRequests('a', 5_000)).toEqual([]);
    expect(assembly.nextRequests('a', 10_000)).toEqual([0]);
  });

  test('a rejected piece is asked of others, never again of the peer that rejected it', () => {
    const info = infoOf(10_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('a', info.length);
    assembly.offered('b', info.length);
    expect(assembly.nextRequests('a', 0)).toEqual([0]);
    assembly.rejected('a', 0);
    expect(assembly.nextRequests('a', 1)).toEqual([]);
    expect(assembly.nextRequests('b', 1)).toEqual([0]);
  });

  test('a peer that leaves frees its requests at once', () => {
    const info = infoOf(10_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('a', info.length);
    assembly.offered('b', info.length);
    expect(assembly.nextRequests('a', 0)).toEqual([0]);
    expect(assembly.nextRequests('b', 0)).toEqual([]);
    assembly.peerLeft('a');
    expect(assembly.nextRequests('b', 0)).toEqual([0]);
    expect(assembly.received('a', 0, info.length, info, 0)).toMatchObject({ kind: 'drop' });
  });

  test('when every peer of the size left before any piece came, the size offered by the peers still here is fetched', () => {
    const info = infoOf(10_000);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('liar', 99_999);
    assembly.offered('honest', info.length);
    assembly.peerLeft('liar');
    expect(assembly.size).toBe(info.length);
    expect(serve(assembly, 'honest', info)).toEqual({ kind: 'complete', info });
  });
});

describe('breaking the rules of the exchange', () => {
  const info = infoOf(40_000);
  function started(): MetadataAssembly<string> {
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('a', info.length);
    assembly.nextRequests('a', 0);
    return assembly;
  }

  test.each([
    ['a piece shorter than 16 KiB that is not the last', 0, info.length, pieceOf(info, 0).subarray(1), /sent 16383 bytes for metadata piece 0, which is 16384 bytes long/],
    ['a last piece one byte too long', 2, info.length, Buffer.concat([pieceOf(info, 2), Buffer.alloc(1)]), new RegExp(`for metadata piece 2, which is ${info.length - 2 * METADATA_PIECE_LENGTH} bytes long`)],
    ['a piece out of range', 3, info.length, Buffer.alloc(10), /piece 3, which was not asked of it/],
    ['a total_size other than it offered', 0, info.length + 1, pieceOf(info, 0), new RegExp(`metadata of ${info.length + 1} bytes in all after offering ${info.length}$`)],
  ])('%s gets the sender dropped', (_what, piece, totalSize, data, reason) => {
    const arrival = started().received('a', piece, totalSize, data, 0);
    expect(arrival).toEqual({ kind: 'drop', reason: expect.stringMatching(reason) });
  });

  test('data nobody asked for, or from a peer that offered nothing, gets the sender dropped', () => {
    const assembly = started();
    expect(assembly.received('a', 0, info.length, pieceOf(info, 0), 0)).toEqual({ kind: 'stored' });
    expect(assembly.received('a', 0, info.length, pieceOf(info, 0), 0)).toEqual({ kind: 'drop', reason: expect.stringMatching(/piece 0, which was not asked of it/) });
    expect(assembly.received('b', 1, info.length, pieceOf(info, 1), 0)).toEqual({
      kind: 'drop',
      reason: 'it sent metadata without offering an acceptable metadata_size',
    });
    expect(assembly.piecesHad).toBe(1);
  });

  test('metadata that does not hash to the info hash is thrown away with its senders, and fetching starts over', () => {
    const wrong = infoOf(40_000, 2);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    for (const peer of ['a', 'b', 'c']) assembly.offered(peer, info.length);
    expect(assembly.nextRequests('a', 0)).toEqual([0]);
    expect(assembly.nextRequests('b', 0)).toEqual([1]);
    expect(assembly.nextRequests('c', 0)).toEqual([2]);
    assembly.received('a', 0, info.length, pieceOf(info, 0), 0);
    assembly.received('b', 1, info.length, pieceOf(wrong, 1), 0);
    const arrival = assembly.received('c', 2, info.length, pieceOf(info, 2), 0);
    expect(arrival).toEqual({
      kind: 'bad-hash',
      senders: ['a', 'b', 'c'],
      reason: `the ${info.length} bytes from 3 peer(s) hash to ${sha1(Buffer.concat([pieceOf(info, 0), pieceOf(wrong, 1), pieceOf(info, 2)])).toString('hex')}, not ${sha1(info).toString('hex')}`,
    });
    expect(assembly.piecesHad).toBe(0);
    expect(assembly.size).toBeUndefined();
    // The senders are not asked again; a newcomer gets everything.
    expect(assembly.nextRequests('a', 1)).toEqual([]);
    assembly.offered('d', info.length);
    expect(serve(assembly, 'd', info, 1)).toEqual({ kind: 'complete', info });
  });

  test('a peer whose offered size was wrong is found out by the hash, and the size others offered is fetched', () => {
    const small = infoOf(100);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('liar', small.length);
    expect(assembly.offered('honest', info.length).ok).toBe(false);
    expect(serve(assembly, 'liar', small)).toMatchObject({ kind: 'bad-hash', senders: ['liar'] });
    expect(assembly.size).toBe(info.length);
    expect(serve(assembly, 'honest', info)).toEqual({ kind: 'complete', info });
  });

  test('an answer to a request made before fetching started over at another size is ignored, not punished', () => {
    const small = infoOf(100);
    const assembly = new MetadataAssembly<string>(sha1(info), limits);
    assembly.offered('liar', small.length);
    assembly.offered('slow', small.length);
    assembly.offered('honest', info.length);
    expect(assembly.nextRequests('liar', 0)).toEqual([0]);
    expect(assembly.nextRequests('slow', 10_000)).toEqual([0]);
    expect(assembly.received('liar', 0, small.length, small, 10_001)).toMatchObject({ kind: 'bad-hash', senders: ['liar'] });
    // 'slow' offered the same size and sent nothing: it stays, and fetching goes on at that size.
    expect(assembly.size).toBe(small.length);
    assembly.peerLeft('slow');
    expect(assembly.size).toBe(info.length);

    const restarted = new MetadataAssembly<string>(sha1(info), limits);
    restarted.offered('liar', small.length);
    restarted.offered('honest', info.length);
    restarted.offered('slow', small.length);
    restarted.nextRequests('liar', 0);
    restarted.nextRequests('slow', 10_000);
    restarted.received('liar', 0, small.length, small, 10_001);
    // The earliest peer still here offered the other size: 'slow' is no longer asked, and its late answer is not held against it.
    expect(restarted.size).toBe(info.length);
    expect(restarted.received('slow', 0, small.length, small, 10_002)).toEqual({ kind: 'stored' });
    expect(restarted.piecesHad).toBe(0);
    expect(restarted.nextRequests('slow', 10_003)).toEqual([]);
    expect(serve(restarted, 'honest', info, 10_003)).toEqual({ kind: 'complete', info });
  });
});
