/**
 * DHT nodes of ours (src/main/dht/dht-node.ts) in this process, each on a UDP port of its own on
 * loopback, the way a session runs one: the real UdpPort hands it the datagrams that start with
 * 'd'. Nothing here reaches beyond 127.0.0.1: every node is given its bootstrap nodes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultSettings, withOverrides, type SettingOverrides } from '../../src/io/settings.js';
import { systemClock, type Clock } from '../../src/main/clock.js';
import type { HostAndPort } from '../../src/main/dht/bootstrap-nodes.js';
import { DhtNode } from '../../src/main/dht/dht-node.js';
import { createLogger } from '../../src/main/logger.js';
import { UdpPort } from '../../src/main/net/udp-port.js';

/**
 * Every node here shares the address 127.0.0.1, which the per-address query limit would take for
 * one node flooding us (as libtorrent's dht_block_threshold would): it is lifted, unless a test
 * gives its own.
 */
export const LOOPBACK_DHT_SETTINGS: SettingOverrides = { dhtMaxQueriesPerSourcePerSecond: 1_000, dhtMaxQueriesPerSecond: 1_000 };

export interface LoopbackDhtNode {
  node: DhtNode;
  udp: UdpPort;
  address: string;
  port: number;
  cache: string;
  /** Its log lines, the debug level included. */
  lines: string[];
}

export interface LoopbackDhtOptions {
  bootstrap?: HostAndPort[];
  settings?: SettingOverrides;
  clock?: Clock;
  /** A cache folder of an earlier node (its saved state); a new one otherwise. */
  cache?: string;
  resolve?: (host: string) => Promise<string>;
  /** The loopback address to bind (any of 127.0.0.0/8: a host of its own to other DHT nodes); 127.0.0.1 by default. */
  address?: string;
}

export async function startDhtNode(options: LoopbackDhtOptions = {}): Promise<LoopbackDhtNode> {
  const lines: string[] = [];
  const log = createLogger('verbose', (line) => lines.push(line));
  const settings = withOverrides({ ...LOOPBACK_DHT_SETTINGS, ...options.settings }, defaultSettings);
  const udp = await UdpPort.open(0, options.address ?? '127.0.0.1', { log, settings });
  const cache = options.cache ?? (await mkdtemp(path.join(os.tmpdir(), 'shoal-dht-')));
  const node = await DhtNode.open({
    datagrams: udp,
    peerPort: udp.port,
    bootstrap: options.bootstrap ?? [],
    cacheFolder: cache,
    settings,
    clock: options.clock ?? systemClock,
    log,
    resolve: options.resolve,
  });
  udp.onDhtPacket = (packet, from) => node.receive(packet, from);
  return { node, udp, address: options.address ?? '127.0.0.1', port: udp.port, cache, lines };
}

/** Closes the node (which saves its state) and its port; the cache folder stays for a restart. */
export async function stopDhtNode(entry: LoopbackDhtNode): Promise<void> {
  await entry.node.close();
  await entry.udp.close();
}

export async function removeDhtCache(entry: LoopbackDhtNode): Promise<void> {
  await rm(entry.cache, { recursive: true, force: true });
}

/** Polls `condition` every 20 ms until it holds, failing after `timeoutMs` with `what`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
