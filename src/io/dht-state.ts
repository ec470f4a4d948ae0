/**
 * The DHT node's state in `cache/dht.json` (DESIGN.md, Discovery beyond the tracker): its node id,
 * so that the network sees the same node after a restart, and the good nodes of its routing
 * table, so that the next start can join the DHT through them even when no bootstrap node
 * answers. Written atomically; what is read back is trusted no more than what a stranger sends.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export interface DhtNodeAddress {
  host: string;
  port: number;
}

export interface DhtState {
  version: 1;
  /** The 20-byte node id, in hex. */
  nodeId: string;
  /** Nodes that answered us lately, the most recent first. */
  nodes: DhtNodeAddress[];
}

/** Largest number of nodes read back, whatever the file holds. */
const MAX_READ_NODES = 1_000;
/** Largest file read: a thousand nodes fit many times over. */
const MAX_FILE_BYTES = 256 * 1024;

export function dhtStateFile(cacheFolder: string): string {
  return path.join(cacheFolder, 'dht.json');
}

/**
 * The saved state, or null when there is none. A file that cannot be used is an Error saying
 * why: the caller logs it and starts afresh (it is overwritten at the next save).
 */
export async function readDhtState(cacheFolder: string): Promise<DhtState | null> {
  const file = dhtStateFile(cacheFolder);
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_FILE_BYTES) throw new Error(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: Partial<DhtState>;
  try {
    parsed = JSON.parse(text) as Partial<DhtState>;
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (parsed?.version !== 1 || typeof parsed.nodeId !== 'string' || !/^[0-9a-f]{40}$/.test(parsed.nodeId)) {
    throw new Error(`${file} has no version 1 node id`);
  }
  const nodes = (Array.isArray(parsed.nodes) ? parsed.nodes : [])
    .filter((node): node is DhtNodeAddress => typeof node?.host === 'string' && isIPv4(node.host) && Number.isInteger(node.port) && node.port >= 1 && node.port <= 65535)
    .slice(0, MAX_READ_NODES)
    .map(({ host, port }) => ({ host, port }));
  return { version: 1, nodeId: parsed.nodeId, nodes };
}

export function writeDhtState(cacheFolder: string, state: DhtState): Promise<void> {
  return writeFileAtomic(dhtStateFile(cacheFolder), `${JSON.stringify(state, null, 2)}\n`);
}
