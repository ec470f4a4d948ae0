/**
 * Our DHT node (issue 17) on loopback: nodes that know only their bootstrap node find each
 * other's peers; the routing table survives a restart in cache/dht.json; a bootstrap node that
 * does not resolve is logged once and asked again with a doubling delay.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FakeClock } from '../helpers/fake-clock.js';
import { removeDhtCache, startDhtNode, stopDhtNode, until, type LoopbackDhtNode } from '../helpers/dht-nodes.js';
import { freePort } from '../helpers/peer-process.js';

const INFO_HASH = Buffer.alloc(20, 0xab);

describe('a DHT of our nodes on loopback', () => {
  const nodes: LoopbackDhtNode[] = [];

  afterAll(async () => {
    await Promise.all(nodes.map(stopDhtNode));
    await Promise.all(nodes.map(removeDhtCache));
  });

  test('a lookup finds the peer another node announced, through nodes known only from the bootstrap node', async () => {
    const first = await startDhtNode();
    nodes.push(first);
    for (let i = 1; i < 8; i++) nodes.push(await startDhtNode({ bootstrap: [{ host: '127.0.0.1', port: first.port }] }));
    await until(() => nodes.every(({ node }) => node.nodes > 0), 10_000, 'every node to join');
    // The bootstrap node hears of every other node: the later ones know the earlier ones through it.
    await until(() => nodes[7].node.nodes >= 3, 10_000, 'the last node to know several nodes');

    const seeder = nodes[3];
    await seeder.node.announce(INFO_HASH, () => undefined);
    const found: string[] = [];
    const count = await nodes[7].node.lookup(INFO_HASH, (peers) => found.push(...peers.map((peer) => `${peer.ip}:${peer.port}`)));
    expect(found).toContain(`127.0.0.1:${seeder.port}`);
    expect(count).toBe(found.length);
    expect(new Set(found).size).toBe(found.length);
  });

  test('the good nodes and the node id are saved in cache/, and a restart joins through them with a bootstrap node that never answers', async () => {
    const leaving = nodes.pop()!;
    const nodeId = leaving.node.nodeId.toString('hex');
    await stopDhtNode(leaving);
    const saved = JSON.parse(await readFile(path.join(leaving.cache, 'dht.json'), 'utf8')) as { version: number; nodeId: string; nodes: { host: string; port: number }[] };
    expect(saved).toMatchObject({ version: 1, nodeId });
    expect(saved.nodes.length).toBeGreaterThan(0);
    for (const node of saved.nodes) expect(nodes.map((entry) => entry.port)).toContain(node.port);

    const nowhere = await freePort();
    const restarted = await startDhtNode({ cache: leaving.cache, bootstrap: [{ host: '127.0.0.1', port: nowhere }], settings: { dhtBootstrapRetryBaseMs: 60_000 } });
    nodes.push(restarted);
    expect(restarted.node.nodeId.toString('hex')).toBe(nodeId);
    await until(() => restarted.node.nodes > 0, 10_000, 'the restarted node to join through its saved nodes');
    const found: string[] = [];
    await restarted.node.lookup(INFO_HASH, (peers) => found.push(...peers.map((peer) => `${peer.ip}:${peer.port}`)));
    expect(found).toContain(`127.0.0.1:${nodes[3].port}`);
    // The silent bootstrap node is told of once its query times out; it stops nothing.
    const silent = new RegExp(`warn DHT bootstrap node 127\\.0\\.0\\.1:${nowhere} \\(127\\.0\\.0\\.1\\) did not answer`);
    await until(() => silent.test(restarted.lines.join('')), 5_000, 'the silent bootstrap node to be logged');
  });
});

test('a bootstrap host that does not resolve is logged once and asked again with a doubling delay while no node is known', async () => {
  const clock = new FakeClock(1_000_000);
  let answer: string | null = null;
  const asked: number[] = [];
  const resolve = async (host: string): Promise<string> => {
    asked.push(clock.now());
    if (answer === null) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return answer;
  };
  const base = 30_000;
  const helper = await startDhtNode();
  const name = `router.invalid:${helper.port}`;
  const dht = await startDhtNode({ bootstrap: [{ host: 'router.invalid', port: helper.port }], clock, resolve, settings: { dhtBootstrapRetryBaseMs: base, dhtBootstrapRetryMaxMs: 4 * base } });
  /** Waits for the round that asks the resolver for the `count`th time, and for its failure to be planned for. */
  const round = async (count: number): Promise<void> => {
    await until(() => asked.length === count, 5_000, `bootstrap round ${count}`);
    await new Promise((resolveTick) => setImmediate(resolveTick));
  };
  try {
    await round(1);
    // Ticks before the planned time ask nothing.
    clock.advance(base - 1_000);
    expect(asked).toHaveLength(1);
    clock.advance(1_000);
    await round(2);
    clock.advance(2 * base - 1_000);
    expect(asked).toHaveLength(2);
    clock.advance(1_000);
    await round(3);
    // The doubling stops at the maximum.
    clock.advance(4 * base);
    await round(4);
    clock.advance(4 * base);
    await round(5);
    expect(asked.slice(1).map((at, i) => at - asked[i])).toEqual([base, 2 * base, 4 * base, 4 * base]);
    const warnings = dht.lines.filter((line) => line.includes(`warn DHT bootstrap node ${name} does not resolve`));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ENOTFOUND router\.invalid\); trying again with back-off while no node is known/);

    // The name resolves at last, to a node that answers: the node joins, and says so.
    answer = '127.0.0.1';
    clock.advance(4 * base);
    await round(6);
    await until(() => dht.node.nodes > 0, 5_000, 'the node to join through the bootstrap node');
    expect(dht.lines.join('')).toContain(`info DHT bootstrap node ${name} answers now`);
  } finally {
    await Promise.all([stopDhtNode(dht), stopDhtNode(helper)]);
    await Promise.all([removeDhtCache(dht), removeDhtCache(helper)]);
  }
});
