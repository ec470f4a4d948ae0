import type { EncryptionPolicy } from './net/mse/encryption-policy.js';

import type { HostAndPort } from './dht/bootstrap-nodes.js';

/**
 * What a session is told to run with: its folders, port and limits. The command line
 * (cli/options.ts) builds these from argv and adds what only it needs; tests build them
 * directly. The session depends on this, never on the command line.
 */
export interface SessionOptions {
  workers: number;
  /** Undefined when not given: the port saved in cache/ is used, else the default. */
  port: number | undefined;
  host: string | undefined;
  torrents: string;
  shareable: string;
  cache: string;
  uploadLimit: number;
  downloadLimit: number;
  exitWhenDone: boolean;
  /** Bytes of shared memory for blocks being downloaded. */
  bufferMemory: number;
  /** Interval our tracker gives to the peers announcing to it, in seconds. */
  announceInterval: number | undefined;
  /** Whether the DHT (BEP 5) runs on the UDP port (--no-dht turns it off). */
  dht: boolean;
  /** Nodes the DHT joins through while its routing table is empty (--dht-bootstrap). */
  dhtBootstrap: HostAndPort[];
  /** Whether local service discovery (BEP 14) runs (--no-lsd turns it off). */
  lsd: boolean;
  /** --encryption: MSE/PE for incoming and outgoing peer connections (docs/architecture.md, Encrypted connections). */
  encryption: EncryptionPolicy;
}

/** Where the port came from: --port, the configuration saved in cache/ by an earlier run, or the default. */
export type PortOrigin = 'option' | 'saved' | 'default';

/** The port to take: --port, else the one the last run used (saved in cache/), else the default. */
export function choosePort(option: number | undefined, saved: number | undefined, fallback: number): { port: number; origin: PortOrigin } {
  if (option !== undefined) return { port: option, origin: 'option' };
  if (saved !== undefined) return { port: saved, origin: 'saved' };
  return { port: fallback, origin: 'default' };
}

/** Where the port came from, as the start-up line says it: a remembered port must not move a peer silently. */
export function describePortOrigin(origin: PortOrigin): string {
  switch (origin) {
    case 'option':
      return '--port';
    case 'saved':
      return 'the port last used; --port to change';
    case 'default':
      return 'the default port';
  }
}
