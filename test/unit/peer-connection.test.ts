/**
 * One connection over an in-memory duplex pair: the flags it keeps of what it sent, the state
 * it keeps of what the peer said, the order in which messages reach its handler, how it closes,
 * and the callbacks of blocks it sends.
 */
import type { Socket } from 'node:net';
import { defaultSettings, type Settings } from '../../src/io/settings.js';
import { FairLimiter } from '../../src/main/net/fair-limiter.js';
import type { PeerEncryption } from '../../src/main/net/mse/encryption-policy.js';
import { TokenBucket } from '../../src/main/net/token-bucket.js';
import { allowedFastSet } from '../../src/main/swarm/allowed-fast.js';
import { PeerConnection, type PeerHandler } from '../../src/main/swarm/peer-connection.js';
import { decodeExtensionHandshake, LOCAL_EXTENSION_IDS } from '../../src/main/wire/extension-handshake.js';
import { encodeHandshake, encodeMessage } from '../../src/main/wire/wire-codec.js';
import { FAST_EXTENSION_BIT, FAST_EXTENSION_BYTE, PROTOCOL_NAME, type Handshake, type WireMessage } from '../../src/main/wire/wire-messages.js';
import { WireParser, type ParserEvent } from '../../src/main/wire/wire-parser.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { memoryPair } from '../helpers/memory-duplex.js';

const PIECES = 8;
const BLOCK = 16 * 1024;
const infoHash = Buffer.alloc(20, 0x11);
const peerId = Buffer.from('-XX0001-000000000000');

/** Lets queued stream events run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class RecordingHandler implements PeerHandler {
  readonly messages: WireMessage[] = [];
  readonly closes: string[] = [];

  onMessage(_peer: PeerConnection, message: WireMessage): void {
    this.messages.push(message);
  }

  onClose(_peer: PeerConnection, reason: string): void {
    this.closes.push(reason);
  }

  onWritable(): void {}
}

/** A peer's handshake, with BEP 10's bit and, unless `fast` is false, BEP 6's. */
function remoteHandshake(fast: boolean): Buffer {
  const bytes = encodeHandshake(infoHash, peerId);
  if (!fast) bytes[1 + PROTOCOL_NAME.length + FAST_EXTENSION_BYTE] &= ~FAST_EXTENSION_BIT;
  return bytes;
}

/**
 * A connection as the session hands it over: the parser has read the peer's handshake (and
 * `afterHandshake`, bytes that came with it), and the socket is paused. The peer speaks BEP 6
 * unless `fast` is false, or the parser read no handshake.
 */
function connect(options: { afterHandshake?: Buffer; parserReadHandshake?: boolean; pexAllowed?: boolean; fast?: boolean; encryption?: PeerEncryption; settings?: Partial<Settings> } = {}) {
  const [local, remote] = memoryPair();
  local.pause();
  const parser = new WireParser({ expectHandshake: true });
  let handshake: Handshake = { reserved: Buffer.alloc(8), infoHash, peerId };
  if (options.parserReadHandshake ?? true) {
    const first = parser.push(Buffer.concat([remoteHandshake(options.fast ?? true), options.afterHandshake ?? Buffer.alloc(0)]));
    const event = first.events[0] as Extract<ParserEvent, { kind: 'handshake' }>;
    handshake = event.handshake;
  }
  const peer = new PeerConnection(local as unknown as Socket, parser, handshake, {
    outgoing: true,
    pieceCount: PIECES,
    remoteIp: '127.0.0.1',
    remotePort: 6881,
    encryption: options.encryption ?? 'none',
    settings: { ...defaultSettings, ...options.settings },
    clock: new FakeClock(),
    pexAllowed: options.pexAllowed ?? true,
  });
  const handler = new RecordingHandler();
  const attach = (): void => peer.attach(handler, { limiter: new FairLimiter(new TokenBucket(0, 0, 0)), owner: {} });
  /** What the remote end receives, as messages. */
  const received: WireMessage[] = [];
  const remoteParser = new WireParser({ expectHandshake: false });
  remoteParser.setPieceCount(PIECES);
  remote.on('data', (chunk: Buffer) => received.push(...(remoteParser.push(chunk).events as WireMessage[])));
  const sendFromRemote = (...messages: WireMessage[]): void => void remote.write(Buffer.concat(messages.map(encodeMessage)));
  return { peer, local, handler, attach, received, remote, sendFromRemote };
}

test('send() sets the choke and interest flags as each message goes on the wire, and not once closed', async () => {
  const { peer, attach, received } = connect();
  attach();
  const flags = (): [boolean, boolean] => [peer.amChoking, peer.amInterested];
  expect(flags()).toEqual([true, false]);
  const seen: [boolean, boolean][] = [];
  for (const kind of ['unchoke', 'interested', 'choke', 'not-interested', 'interested'] as const) {
    peer.send({ kind });
    seen.push(flags());
  }
  expect(seen).toEqual([
    [false, false],
    [false, true],
    [true, true],
    [true, false],
    [true, true],
  ]);
  await settle();
  expect(received.map((message) => message.kind)).toEqual(['unchoke', 'interested', 'choke', 'not-interested', 'interested']);
  peer.close('done');
  peer.send({ kind: 'unchoke' });
  peer.send({ kind: 'not-interested' });
  expect(flags()).toEqual([true, true]);
});

test('sendRequests puts a batch of REQUESTs on the wire in order, and nothing once closed', async () => {
  const { peer, attach, received } = connect();
  attach();
  const blocks = [0, 1, 2].map((b) => ({ index: 5, begin: b * BLOCK, length: BLOCK }));
  peer.sendRequests(blocks);
  await settle();
  expect(received).toEqual(blocks.map((block) => ({ kind: 'request', ...block })));
  peer.close('done');
  peer.sendRequests(blocks);
  await settle();
  expect(received).toHaveLength(3);
});

test('messages reach the handler in order after attach(), starting with those the parser held before', async () => {
  const { handler, attach, sendFromRemote } = connect({ afterHandshake: encodeMessage({ kind: 'have', index: 1 }) });
  sendFromRemote({ kind: 'have', index: 2 }, { kind: 'unchoke' });
  await settle();
  expect(handler.messages).toEqual([]);
  attach();
  // What the parser held is delivered at once; what waited in the socket comes as it resumes.
  expect(handler.messages).toEqual([{ kind: 'have', index: 1 }]);
  await settle();
  sendFromRemote({ kind: 'piece', index: 3, begin: 0, block: Buffer.alloc(BLOCK, 3) }, { kind: 'keep-alive' });
  await settle();
  expect(handler.messages.map((message) => message.kind)).toEqual(['have', 'have', 'unchoke', 'piece', 'keep-alive']);
  expect(handler.messages.slice(0, 2)).toEqual([
    { kind: 'have', index: 1 },
    { kind: 'have', index: 2 },
  ]);
});

test.each<[string, boolean, Buffer, RegExp]>([
  ['a malformed message', true, encodeMessage({ kind: 'have', index: PIECES }), /piece 8/],
  ['a second handshake', true, encodeHandshake(infoHash, peerId), /maxFrameLength/],
  ['a handshake event from a parser that had not read one', false, encodeHandshake(infoHash, peerId), /^a second handshake$/],
])('%s closes the connection with a reason, calls onClose once, and delivers nothing after it', async (_name, parserReadHandshake, bad, reason) => {
  const { peer, handler, attach, remote, sendFromRemote } = connect({ parserReadHandshake });
  attach();
  // A parser waiting for a handshake would take any message before it for a broken one.
  const before: WireMessage[] = parserReadHandshake ? [{ kind: 'unchoke' }] : [];
  if (before.length > 0) sendFromRemote(...before);
  await settle();
  remote.write(Buffer.concat([bad, encodeMessage({ kind: 'have', index: 0 })]));
  await settle();
  expect(peer.isClosed).toBe(true);
  expect(handler.closes).toHaveLength(1);
  expect(handler.closes[0]).toMatch(reason);
  expect(handler.messages).toEqual(before);
});

test("a block still in the socket when the connection closes has its onSent run once, at the close", async () => {
  const { peer, local, attach } = connect();
  attach();
  local.stall();
  let sent = 0;
  peer.sendBlock(0, 0, [Buffer.alloc(BLOCK, 1), Buffer.alloc(BLOCK, 2)], () => sent++);
  await settle();
  expect(local.writableLength).toBeGreaterThan(0);
  expect(sent).toBe(0);
  peer.close('done');
  expect(sent).toBe(1);
  local.flow();
  await settle();
  expect(sent).toBe(1);
});

test('a block the socket took has its onSent run once, and not again at close', async () => {
  const { peer, attach, received } = connect();
  attach();
  let sent = 0;
  peer.sendBlock(2, BLOCK, [Buffer.alloc(100, 1), Buffer.alloc(50, 2)], () => sent++);
  await settle();
  expect(sent).toBe(1);
  expect(received).toEqual([{ kind: 'piece', index: 2, begin: BLOCK, block: Buffer.concat([Buffer.alloc(100, 1), Buffer.alloc(50, 2)]) }]);
  peer.close('done');
  expect(sent).toBe(1);
});

test('closing twice, or the socket closing after, calls onClose once with the first reason', async () => {
  const { peer, handler, attach } = connect();
  attach();
  peer.close('first');
  peer.close('second');
  await settle();
  expect(handler.closes).toEqual(['first']);
});

test('the remote end closing closes the connection', async () => {
  const { peer, handler, attach, remote } = connect();
  attach();
  remote.end();
  await settle();
  expect(peer.isClosed).toBe(true);
  expect(handler.closes).toEqual(['connection ended by peer']);
});

describe('the state the connection keeps', () => {
  test('choke() and unchoke() send only when the state changes, say whether they did, and send nothing once closed', async () => {
    const { peer, attach, received } = connect();
    attach();
    expect([peer.unchoke(), peer.unchoke(), peer.choke(), peer.choke(), peer.unchoke()]).toEqual([true, false, true, false, true]);
    expect(peer.amChoking).toBe(false);
    await settle();
    expect(received.map((message) => message.kind)).toEqual(['unchoke', 'choke', 'unchoke']);
    peer.close('done');
    expect(peer.choke()).toBe(false);
    expect(peer.amChoking).toBe(false);
  });

  test('wantInterest() sends INTERESTED or NOT_INTERESTED only when our interest changes', async () => {
    const { peer, attach, received } = connect();
    attach();
    for (const interested of [false, true, true, false, false, true]) peer.wantInterest(interested);
    expect(peer.amInterested).toBe(true);
    await settle();
    expect(received.map((message) => message.kind)).toEqual(['interested', 'not-interested', 'interested']);
  });

  test("the peer's choke and interest are what the swarm last told the connection, and send nothing", async () => {
    const { peer, attach, received } = connect();
    attach();
    const flags = (): [boolean, boolean] => [peer.peerChoking, peer.peerInterested];
    expect(flags()).toEqual([true, false]);
    peer.peerUnchoked();
    peer.peerInterestChanged(true);
    expect(flags()).toEqual([false, true]);
    peer.peerChoked();
    peer.peerInterestChanged(false);
    expect(flags()).toEqual([true, false]);
    await settle();
    expect(received).toEqual([]);
  });

  test('peerHasPiece() says whether a HAVE was news', () => {
    const { peer } = connect();
    expect([peer.peerHasPiece(3), peer.peerHasPiece(3), peer.peerHasPiece(0)]).toEqual([true, false, true]);
    expect([0, 1, 2, 3].map((i) => peer.peerPieces.has(i))).toEqual([true, false, false, true]);
    expect(peer.peerPieces.count).toBe(2);
  });

  test('a bitfield replaces what was known of the peer, and says which pieces it gained and lost', () => {
    const { peer } = connect();
    peer.peerHasPiece(1);
    peer.peerHasPiece(6);
    // Pieces 0, 1 and 7.
    expect(peer.applyBitfield(Buffer.from([0b1100_0001]))).toEqual({ gained: [0, 7], lost: [6] });
    expect(peer.applyBitfield(Buffer.from([0xff]))).toEqual({ gained: [2, 3, 4, 5, 6], lost: [] });
    expect(peer.peerPieces.isComplete()).toBe(true);
    expect(peer.applyBitfield(Buffer.from([0]))).toEqual({ gained: [], lost: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(peer.peerPieces.count).toBe(0);
  });

  test('its extension handshake is kept, and a PexSender made when it speaks ut_pex', () => {
    const { peer } = connect();
    expect([peer.extensions, peer.pex]).toEqual([null, null]);
    peer.extensionsReceived({ m: { other: 2 }, reqq: 50 });
    expect(peer.extensions?.reqq).toBe(50);
    expect(peer.pex).toBeNull();
    peer.extensionsReceived({ m: { ut_pex: 3 }, v: 'shoal 0.1.0' });
    expect(peer.pex).not.toBeNull();
  });

  test('on a private torrent (BEP 27) no PexSender is made, even when the peer speaks ut_pex', () => {
    const { peer } = connect({ pexAllowed: false });
    peer.extensionsReceived({ m: { ut_pex: 3 }, v: 'shoal 0.1.0' });
    expect(peer.extensions?.m.ut_pex).toBe(3);
    expect(peer.pex).toBeNull();
  });

  test('the address shows the port the peer listens on once it says so', () => {
    const { peer } = connect();
    expect([peer.listenPort, peer.address]).toEqual([6881, '127.0.0.1:6881']);
    peer.listensOn(7000);
    expect([peer.listenPort, peer.address]).toEqual([7000, '127.0.0.1:7000']);
  });

  test('downloaded and uploaded bytes are counted, and shown in its status', async () => {
    const { peer, attach } = connect();
    attach();
    peer.countDownloaded(BLOCK);
    peer.countDownloaded(100);
    peer.sendBlock(0, 0, [Buffer.alloc(50)], () => undefined);
    await settle();
    expect(peer.status(0)).toEqual({ address: '127.0.0.1:6881', downloaded: BLOCK + 100, uploaded: 50, downloadRate: expect.any(Number), uploadRate: expect.any(Number), encryption: 'none' });
    expect(peer.status(0).downloadRate).toBeGreaterThan(0);
  });

  test('its status says how its handshake left the payload: in RC4, plaintext after an encrypted handshake, or plain', () => {
    expect((['rc4', 'handshake', 'none'] as const).map((encryption) => connect({ encryption }).peer.status(0).encryption)).toEqual(['rc4', 'handshake', 'none']);
  });
});

describe('greet()', () => {
  const extensionPayload = (message: WireMessage | undefined) => (message?.kind === 'extended' && message.extId === 0 ? decodeExtensionHandshake(message.payload) : null);

  test('sends our bitfield first, then our extension handshake to a peer that speaks BEP 10', async () => {
    const { peer, attach, received } = connect({ fast: false });
    attach();
    peer.greet(Buffer.from([0b1010_0000]), 7001);
    await settle();
    expect(received.map((message) => message.kind)).toEqual(['bitfield', 'extended']);
    expect(received[0]).toEqual({ kind: 'bitfield', bits: Buffer.from([0b1010_0000]) });
    expect(extensionPayload(received[1])).toMatchObject({ m: { ut_pex: 1 }, p: 7001, v: defaultSettings.clientName, reqq: defaultSettings.maxIncomingRequests });
  });

  test('leaves ut_pex out of our extension handshake on a private torrent (BEP 27)', async () => {
    const { peer, attach, received } = connect({ pexAllowed: false, fast: false });
    attach();
    peer.greet(null, 7001);
    await settle();
    expect(received.map((message) => message.kind)).toEqual(['extended']);
    const sent = extensionPayload(received[0]);
    expect(sent).toMatchObject({ p: 7001, v: defaultSettings.clientName });
    expect(sent?.m).toEqual({ ut_metadata: LOCAL_EXTENSION_IDS.ut_metadata });
  });

  test('sends no bitfield when we have no piece, and no extension handshake to a peer without BEP 10', async () => {
    const bep10 = connect({ fast: false });
    bep10.attach();
    bep10.peer.greet(null, 7001);
    const plain = connect({ parserReadHandshake: false });
    plain.attach();
    plain.peer.greet(Buffer.from([0x80]), 7001);
    await settle();
    expect(bep10.received.map((message) => message.kind)).toEqual(['extended']);
    expect(plain.received.map((message) => message.kind)).toEqual(['bitfield']);
  });
});

describe('the Fast extension (BEP 6)', () => {
  const kinds = (messages: WireMessage[]): string[] => messages.map((message) => message.kind);

  test('greet() tells a Fast peer our pieces as HAVE_ALL, HAVE_NONE or a bitfield, before our extension handshake', async () => {
    const all = connect();
    const none = connect();
    const some = connect();
    for (const { attach } of [all, none, some]) attach();
    all.peer.greet(Buffer.from([0xff]), 7001);
    none.peer.greet(null, 7001);
    some.peer.greet(Buffer.from([0b0100_0000]), 7001);
    await settle();
    expect(kinds(all.received).slice(0, 2)).toEqual(['have-all', 'extended']);
    expect(kinds(none.received)).toEqual(['have-none', 'extended']);
    expect(some.received[0]).toEqual({ kind: 'bitfield', bits: Buffer.from([0b0100_0000]) });
    expect(all.peer.fast).toBe(true);
  });

  test('greet() offers a Fast peer ALLOWED_FAST for the pieces of its allowed-fast set that we have, and nothing to others', async () => {
    const set = allowedFastSet('127.0.0.1', infoHash, PIECES, 3);
    const had = [set[0], set[2], ...[0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !set.includes(i)).slice(0, 2)];
    const bits = Buffer.from([had.reduce((byte, i) => byte | (0x80 >> i), 0)]);
    const fast = connect({ settings: { allowedFastCount: 3 } });
    const plain = connect({ fast: false, settings: { allowedFastCount: 3 } });
    for (const { attach, peer } of [fast, plain]) {
      attach();
      peer.greet(bits, 7001);
    }
    await settle();
    expect(fast.received.filter((message) => message.kind === 'allowed-fast')).toEqual([
      { kind: 'allowed-fast', index: set[0] },
      { kind: 'allowed-fast', index: set[2] },
    ]);
    expect(kinds(plain.received)).toEqual(['bitfield', 'extended']);
    expect(plain.peer.fast).toBe(false);
    expect(set.map((i) => fast.peer.weAllowFast(i))).toEqual([true, true, true]);
    expect(set.map((i) => plain.peer.weAllowFast(i))).toEqual([false, false, false]);
  });

  test('announcePiece() sends HAVE, and ALLOWED_FAST when the piece is in the peer\'s allowed-fast set', async () => {
    const set = allowedFastSet('127.0.0.1', infoHash, PIECES, 2);
    const outside = [0, 1, 2, 3, 4, 5, 6, 7].find((i) => !set.includes(i))!;
    const { peer, attach, received } = connect({ settings: { allowedFastCount: 2 } });
    attach();
    peer.announcePiece(set[1]);
    peer.announcePiece(outside);
    await settle();
    expect(received).toEqual([
      { kind: 'have', index: set[1] },
      { kind: 'allowed-fast', index: set[1] },
      { kind: 'have', index: outside },
    ]);
  });

  test.each<[string, WireMessage]>([
    ['HAVE_ALL', { kind: 'have-all' }],
    ['HAVE_NONE', { kind: 'have-none' }],
    ['REJECT_REQUEST', { kind: 'reject', index: 0, begin: 0, length: BLOCK }],
    ['ALLOWED_FAST', { kind: 'allowed-fast', index: 1 }],
    ['SUGGEST_PIECE', { kind: 'suggest', index: 1 }],
  ])('%s from a peer that did not set the Fast bit closes the connection with the reason', async (_name, message) => {
    const plain = connect({ fast: false });
    const fast = connect();
    for (const { attach, sendFromRemote } of [plain, fast]) {
      attach();
      sendFromRemote({ kind: 'unchoke' }, message);
    }
    await settle();
    expect(plain.peer.isClosed).toBe(true);
    expect(plain.handler.closes).toEqual([`it sent a ${message.kind} message (BEP 6) without setting the Fast extension bit in its handshake`]);
    expect(kinds(plain.handler.messages)).toEqual(['unchoke']);
    expect(fast.peer.isClosed).toBe(false);
    expect(fast.handler.messages).toEqual([{ kind: 'unchoke' }, message]);
  });

  test('HAVE_ALL and HAVE_NONE replace what was known of the peer, like a bitfield, and say what changed', () => {
    const { peer } = connect();
    peer.peerHasPiece(2);
    expect(peer.applyHaveAllOrNone(true)).toEqual({ gained: [0, 1, 3, 4, 5, 6, 7], lost: [] });
    expect(peer.peerPieces.isComplete()).toBe(true);
    expect(peer.applyHaveAllOrNone(false)).toEqual({ gained: [], lost: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(peer.peerPieces.count).toBe(0);
  });

  test("the peer's ALLOWED_FAST pieces are kept; a REJECT takes one back only while the peer chokes us", () => {
    const { peer } = connect();
    expect(peer.peerAllowsAnyFast).toBe(false);
    peer.allowedFastReceived(3);
    peer.allowedFastReceived(5);
    expect([peer.peerAllowsFast(3), peer.peerAllowsFast(5), peer.peerAllowsFast(4), peer.peerAllowsAnyFast]).toEqual([true, true, false, true]);
    peer.requestRejected(3);
    expect(peer.peerAllowsFast(3)).toBe(false);
    peer.peerUnchoked();
    peer.requestRejected(5);
    expect(peer.peerAllowsFast(5)).toBe(true);
  });

  test("the peer's suggestions are kept newest first, at most maxSuggestions, a repeat moving to the front", () => {
    const { peer } = connect({ settings: { maxSuggestions: 3 } });
    for (const index of [1, 2, 3, 1, 4]) peer.suggestionReceived(index);
    expect(peer.suggestedPieces).toEqual([4, 1, 3]);
  });
});
