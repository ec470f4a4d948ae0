/**
 * The peer's persistent configuration in cache/ (docs/architecture.md, Disk): its peer id, its port
 * and the peers it knows in each swarm, so that a restarted peer is the same peer, on the same
 * port, and can reach its swarms even before a tracker answers.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export interface PeerConfig {
  version: 1;
  /** The 20-byte peer id, as latin1 text (ours is printable). */
  peerId: string;
  port: number;
  /** Known peers ("ip:port") by swarm (hex info hash). */
  known: Record<string, string[]>;
}

export function peerConfigFile(cacheFolder: string): string {
  return path.join(cacheFolder, 'config.json');
}

/** The saved configuration, or null when there is none or it is unusable (then a new one is made). */
export async function readPeerConfig(cacheFolder: string): Promise<PeerConfig | null> {
  let parsed: Partial<PeerConfig>;
  try {
    parsed = JSON.parse(await readFile(peerConfigFile(cacheFolder), 'utf8')) as Partial<PeerConfig>;
  } catch {
    return null;
  }
  if (parsed?.version !== 1 || typeof parsed.peerId !== 'string' || Buffer.byteLength(parsed.peerId, 'latin1') !== 20) return null;
  if (!Number.isInteger(parsed.port) || parsed.port! < 1 || parsed.port! > 65535) return null;
  const known: Record<string, string[]> = {};
  for (const [infoHash, addresses] of Object.entries(parsed.known ?? {})) {
    if (/^[0-9a-f]{40}$/.test(infoHash) && Array.isArray(addresses)) known[infoHash] = addresses.filter((a) => typeof a === 'string' && /^[\d.]+:\d+$/.test(a));
  }
  return { version: 1, peerId: parsed.peerId, port: parsed.port!, known };
}

export function writePeerConfig(cacheFolder: string, config: PeerConfig): Promise<void> {
  return writeFileAtomic(peerConfigFile(cacheFolder), `${JSON.stringify(config, null, 2)}\n`);
}
