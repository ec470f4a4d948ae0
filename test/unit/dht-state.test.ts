/** The DHT's node id and good nodes in cache/dht.json (src/io/dht-state.ts). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dhtStateFile, readDhtState, writeDhtState } from '../../src/io/dht-state.js';

let cache: string;
beforeEach(async () => {
  cache = await mkdtemp(path.join(os.tmpdir(), 'shoal-dht-state-'));
});
afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
});

test('what is written reads back; no file is null', async () => {
  expect(await readDhtState(cache)).toBeNull();
  const state = { version: 1 as const, nodeId: 'ab'.repeat(20), nodes: [{ host: '10.0.0.1', port: 6881 }] };
  await writeDhtState(cache, state);
  expect(await readDhtState(cache)).toEqual(state);
});

test('nodes that are not IPv4 address and port are left out, and at most a thousand are read', async () => {
  const nodes = [
    { host: '10.0.0.1', port: 6881 },
    { host: 'router.example.org', port: 1 },
    { host: '::1', port: 1 },
    { host: '10.0.0.2', port: 0 },
    { host: '10.0.0.3', port: 1.5 },
    { host: '10.0.0.4' },
    null,
    ...Array.from({ length: 1_500 }, (_, i) => ({ host: '10.1.0.1', port: i + 1, extra: 'dropped' })),
  ];
  await writeFile(dhtStateFile(cache), JSON.stringify({ version: 1, nodeId: 'cd'.repeat(20), nodes }));
  const state = await readDhtState(cache);
  expect(state?.nodes[0]).toEqual({ host: '10.0.0.1', port: 6881 });
  expect(state?.nodes[1]).toEqual({ host: '10.1.0.1', port: 1 });
  expect(state?.nodes).toHaveLength(1_000);
});

test.each([
  ['not JSON', '{"version":', /dht\.json is not JSON/],
  ['another version', JSON.stringify({ version: 2, nodeId: 'ab'.repeat(20), nodes: [] }), /has no version 1 node id/],
  ['a short node id', JSON.stringify({ version: 1, nodeId: 'abcd', nodes: [] }), /has no version 1 node id/],
  ['too large a file', ' '.repeat(300 * 1024), /larger than/],
])('%s is an error saying so', async (_what, text, reason) => {
  await writeFile(dhtStateFile(cache), text);
  await expect(readDhtState(cache)).rejects.toThrow(reason);
});
