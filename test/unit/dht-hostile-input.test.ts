/**
 * What strangers can send our DHT node (issue 17): datagrams of any content, a flood of queries,
 * a node answering with thousands of peers, tokens that do not verify, replies to nothing. The
 * node never throws, answers at a bounded rate, hands a swarm a bounded number of peers, and
 * stores and sends bounded amounts.
 */
import fc from 'fast-check';
import { asBytes, asList, encodeBencode, type BencodeInput } from '../../src/io/bencode.js';
import { removeDhtCache, startDhtNode, stopDhtNode, until, type LoopbackDhtNode } from '../helpers/dht-nodes.js';
import { compactPeer, honestAnswer, ScriptedDhtNode } from '../helpers/scripted-dht-node.js';

const INFO_HASH = Buffer.alloc(20, 0x5e);

/**
 * Sends `count` datagrams in batches small enough for loopback's socket buffers (a burst of
 * hundreds loses some in the kernel), each batch once `judged` counts it.
 */
async function inBatches(count: number, send: (i: number) => void, judged: () => number, what: string): Promise<void> {
  const batch = 25;
  for (let first = 0; first < count; first += batch) {
    const before = judged();
    const size = Math.min(batch, count - first);
    for (let i = first; i < first + size; i++) send(i);
    await until(() => judged() === before + size, 5_000, `${what} ${first} to ${first + size - 1} to be judged`);
  }
}

/** The token our node gives `asker` in a get_peers reply. */
async function tokenFor(asker: ScriptedDhtNode, port: number): Promise<Buffer> {
  const reply = await asker.query(port, 'get_peers', { info_hash: INFO_HASH });
  const token = asBytes((reply?.r as Record<string, never> | undefined)?.token);
  if (!token) throw new Error(`no token in the get_peers reply: ${JSON.stringify(reply)}`);
  return token;
}

describe('our DHT node under hostile input', () => {
  const started: LoopbackDhtNode[] = [];
  const scripted: ScriptedDhtNode[] = [];
  const dhtNode = async (settings: Parameters<typeof startDhtNode>[0] = {}): Promise<LoopbackDhtNode> => {
    const entry = await startDhtNode(settings);
    started.push(entry);
    return entry;
  };
  const stranger = async (...args: Parameters<typeof ScriptedDhtNode.start>): Promise<ScriptedDhtNode> => {
    const node = await ScriptedDhtNode.start(...args);
    scripted.push(node);
    return node;
  };

  afterAll(async () => {
    await Promise.all(started.map(stopDhtNode));
    await Promise.all(started.map(removeDhtCache));
    await Promise.all(scripted.map((node) => node.close()));
  });

  test('datagrams of any content, random bytes or KRPC-shaped, never make it throw, and it still answers', async () => {
    const { node, port } = await dhtNode();
    const from = { address: '127.0.0.1', port: 40_000, family: 'IPv4' as const };
    const anyValue: fc.Arbitrary<BencodeInput> = fc.letrec<{ value: BencodeInput }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer(),
        fc.uint8Array({ maxLength: 30 }),
        fc.constantFrom('q', 'r', 'e', 'ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put'),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('id', 'target', 'info_hash', 'token', 'port', 'implied_port', 'values', 'nodes', 'v', 'k', 'seq'), tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    const krpcShaped = fc.record({
      t: fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 20 }), fc.integer()),
      y: fc.oneof(fc.constantFrom('q', 'r', 'e'), anyValue),
      q: fc.oneof(fc.constantFrom('ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put', 'vote'), anyValue),
      a: fc.oneof(fc.record({ id: fc.uint8Array({ minLength: 20, maxLength: 20 }), info_hash: anyValue, target: anyValue, token: anyValue, port: anyValue, implied_port: anyValue }), anyValue),
      r: anyValue,
      e: anyValue,
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.concat([Buffer.from('d'), bytes])), krpcShaped.map((message) => encodeBencode(message))), (packet) => {
        node.receive(Buffer.from(packet), from);
      }),
      { numRuns: 3_000 },
    );
    expect(node.counters.dropped.malformed).toBeGreaterThan(0);
    const pinger = await stranger();
    const pong = await pinger.query(port, 'ping', {});
    expect(asBytes(pong?.y)?.toString()).toBe('r');
  });

  test('a flood of queries is answered at most at the query rates, whatever the number of sources', async () => {
    const perSource = 5;
    const overall = 20;
    const { node, port } = await dhtNode({ settings: { dhtMaxQueriesPerSourcePerSecond: perSource, dhtMaxQueriesPerSecond: overall } });
    const judged = (): number => node.counters.dropped.rateLimited + node.counters.queries;
    // One noisy address: 500 pings get the burst the address is allowed, and the rate after it.
    const loud = await stranger();
    const started = Date.now();
    await inBatches(500, (i) => loud.sendRaw(encodeBencode({ t: Buffer.from([i >> 8, i & 0xff]), y: 'q', q: 'ping', a: { id: loud.id } }), port), judged, 'pings');
    const seconds = (Date.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(loud.replies.length).toBeGreaterThanOrEqual(perSource);
    expect(loud.replies.length).toBeLessThanOrEqual(Math.ceil(perSource * (1 + seconds)));

    // Thirty addresses of 127.0.0.0/8, ten pings each: the overall rate holds them all.
    const crowd = await Promise.all(Array.from({ length: 30 }, (_, i) => stranger(honestAnswer, `127.0.0.${i + 10}`)));
    const crowdStarted = Date.now();
    await inBatches(300, (i) => crowd[i % 30].sendRaw(encodeBencode({ t: Buffer.from([0, i >> 5]), y: 'q', q: 'ping', a: { id: crowd[i % 30].id } }), port), judged, 'the crowd\'s pings');
    const crowdSeconds = (Date.now() - crowdStarted) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answered = crowd.reduce((sum, member) => sum + member.replies.length, 0);
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(Math.ceil(overall * (1 + crowdSeconds)));
  });

  test('a lookup answered with thousands of peers gives the swarm at most dhtMaxPeersPerLookup, each once', async () => {
    // 150 compact peers and 15 node contacts make a reply of about 1.7 KB, under udpMaxPacketBytes.
    const perReply = 150;
    // Each liar answers get_peers with 200 peers of its own and the contacts of all the liars.
    const liars: ScriptedDhtNode[] = [];
    const answer = (liar: number) => (query: { method: string }, self: ScriptedDhtNode) => {
      const nodes = Buffer.concat(liars.map((other) => other.compact));
      if (query.method !== 'get_peers') return { nodes };
      const values = Array.from({ length: perReply }, (_, i) => compactPeer(`10.${liar}.${i >> 8}.${i & 0xff}`, 6881));
      return { token: self.token, values, nodes };
    };
    for (let i = 0; i < 15; i++) liars.push(await stranger(answer(i)));
    const cap = 1_000;
    const { node } = await dhtNode({ bootstrap: [{ host: '127.0.0.1', port: liars[0].port }], settings: { dhtMaxPeersPerLookup: cap } });
    await until(() => node.nodes >= 10, 10_000, 'the node to know the liars');
    const batches: number[] = [];
    const found = new Set<string>();
    const count = await node.lookup(INFO_HASH, (peers) => {
      batches.push(peers.length);
      for (const peer of peers) found.add(`${peer.ip}:${peer.port}`);
    });
    // 15 liars x 150 peers were offered; the swarm got the first thousand, each once.
    expect(count).toBe(cap);
    expect(found.size).toBe(cap);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(cap);
  });

  test('a reply too large for the port, and replies to no query of ours, are dropped: their senders do not join the table', async () => {
    const { node, udp, port } = await dhtNode();
    const liar = await stranger();
    liar.sendRaw(encodeBencode({ t: 'aa', y: 'r', r: { id: liar.id, token: liar.token, values: Array.from({ length: 3_000 }, (_, i) => compactPeer('10.0.0.1', i + 1)) } }), port);
    liar.sendRaw(encodeBencode({ t: 'ab', y: 'r', r: { id: liar.id } }), port);
    liar.sendRaw(encodeBencode({ t: 'ac', y: 'e', e: [201, 'spoofed'] }), port);
    await until(() => udp.counters.received === 3, 5_000, 'the three datagrams');
    expect(udp.counters.dropped.oversized).toBe(1);
    expect(node.counters.dropped.unsolicited).toBe(2);
    expect(node.nodes).toBe(0);
  });

  test('announce_peer needs the token our get_peers gave that address; a forged or malformed token is refused, and no peer stored', async () => {
    const { node, port } = await dhtNode();
    const peer = await stranger();
    const reader = await stranger();
    const values = async (): Promise<Buffer[]> => {
      const reply = await reader.query(port, 'get_peers', { info_hash: INFO_HASH });
      return (asList((reply?.r as Record<string, never>)?.values) ?? []).map((value) => asBytes(value)!);
    };

    const forged = await peer.query(port, 'announce_peer', { info_hash: INFO_HASH, port: 7001, token: Buffer.alloc(20, 7) });
    expect(asBytes(forged?.y)?.toString()).toBe('e');
    const malformed = await peer.query(port, 'announce_peer', { info_hash: INFO_HASH, port: 7002, token: 12345 }, 300);
    expect(malformed).toBeNull();
    expect(node.counters.dropped.malformed).toBe(1);
    expect(await values()).toEqual([]);

    // A token is bound to the address it was given to (127.0.0.1 here): from 127.0.0.2 it does not verify.
    const token = await tokenFor(peer, port);
    const borrowed = await (await stranger(honestAnswer, '127.0.0.2')).query(port, 'announce_peer', { info_hash: INFO_HASH, port: 7003, token });
    expect(asBytes(borrowed?.y)?.toString()).toBe('e');

    const accepted = await peer.query(port, 'announce_peer', { info_hash: INFO_HASH, port: 7004, token });
    expect(asBytes(accepted?.y)?.toString()).toBe('r');
    expect(await values()).toEqual([compactPeer('127.0.0.1', 7004)]);
  });

  test('peers announced to us are stored up to dhtMaxStoredPeers, and a get_peers reply is cut to dhtMaxReplyBytes', async () => {
    const maxReplyBytes = 400;
    const { node, port } = await dhtNode({ settings: { dhtMaxStoredPeers: 100, dhtMaxReplyBytes: maxReplyBytes } });
    const announcer = await stranger();
    const token = await tokenFor(announcer, port);
    for (let first = 0; first < 300; first += 25) {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => announcer.query(port, 'announce_peer', { info_hash: INFO_HASH, port: 10_000 + first + i, token })));
      expect(answers.map((reply) => asBytes(reply?.y)?.toString())).toEqual(Array(25).fill('r'));
    }
    const reader = await stranger();
    const stored = new Set<string>();
    let largest = 0;
    for (let i = 0; i < 20; i++) {
      const before = reader.replies.length;
      const reply = await reader.query(port, 'get_peers', { info_hash: INFO_HASH });
      expect(reader.replies.length).toBe(before + 1);
      const values = asList((reply!.r as Record<string, never>).values)!;
      largest = Math.max(largest, encodeBencode(reply as Record<string, BencodeInput>).length);
      for (const value of values) stored.add(asBytes(value)!.toString('hex'));
    }
    expect(largest).toBeLessThanOrEqual(maxReplyBytes);
    expect(node.counters.repliesCut).toBeGreaterThan(0);
    // Two generations of 50 (dht-node.ts): at most 100 of the 300 are kept.
    expect(stored.size).toBeGreaterThan(0);
    expect(stored.size).toBeLessThanOrEqual(100);
  });
});
