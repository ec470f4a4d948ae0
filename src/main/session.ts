/**
 * One running peer: every swarm it takes part in, its one port, its tracker and its status.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readMetainfoFile, type Metainfo } from '../io/metainfo.js';
import { BlockSlab } from '../io/block-slab.js';
import { readPeerConfig, writePeerConfig } from '../io/peer-config.js';
import { PieceWorkers } from '../io/piece-workers.js';
import { ReadCache } from '../io/read-cache.js';
import { TorrentData } from '../io/torrent-data.js';
import type { PeerOptions } from './cli/options.js';
import { EventLoopMonitor } from './event-loop-monitor.js';
import type { Logger } from './logger.js';
import { readHandshake } from './net/handshake-exchange.js';
import { addressTowards, firstLanAddress } from './net/local-address.js';
import { PortListener } from './net/port-listener.js';
import { rateLimiter, type TokenBucket } from './net/token-bucket.js';
import { settings } from './settings.js';
import { Swarm, type SwarmContext, type SwarmStatus } from './swarm/swarm.js';
import { handleTrackerRequest } from './tracker/tracker-http.js';
import { TrackerRegistry } from './tracker/tracker-registry.js';
import { WireParser } from './wire/wire-parser.js';

/** A reason the peer cannot start, worded for the person who started it. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface StatusDocument {
  peerId: string;
  /** The address other peers reach this one at (--host, else the interface towards the announce host). */
  host: string;
  port: number;
  workers: number;
  eventLoopDelayP99Ms: number;
  swarms: SwarmStatus[];
}

/** How often the configuration (known peers above all) is saved while running. */
const CONFIG_SAVE_INTERVAL_MS = 30_000;

const PEER_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An Azureus-style peer id, printable so that it reads well in /status. */
function newPeerId(): Buffer {
  const random = [...randomBytes(20 - settings.peerIdPrefix.length)].map((b) => PEER_ID_ALPHABET[b % PEER_ID_ALPHABET.length]);
  return Buffer.from(settings.peerIdPrefix + random.join(''), 'latin1');
}

export class Session {
  peerId = newPeerId();
  /** Our port: --port, else the one saved in cache/, else the default. */
  private port: number = settings.defaultPort;
  private readonly swarms = new Map<string, Swarm>();
  private readonly listener: PortListener;
  private tracker: TrackerRegistry | null = null;
  /** Known peers saved by the last run, by swarm, to be given to each swarm once it starts. */
  private savedKnown: Record<string, string[]> = {};
  private configTimer: NodeJS.Timeout | null = null;
  private readonly loop = new EventLoopMonitor();
  private readonly localAddresses: Set<string>;
  private stopping: Promise<void> | null = null;
  private host = '127.0.0.1';
  private workers: PieceWorkers | null = null;
  private slab: BlockSlab | null = null;
  private readCache: ReadCache | null = null;
  private readonly uploadLimiter: TokenBucket;
  private readonly downloadLimiter: TokenBucket;

  constructor(
    readonly options: PeerOptions,
    private readonly log: Logger,
    /** Called when --exit-when-done is set and every torrent is complete. */
    private readonly onAllComplete: () => void = () => undefined,
  ) {
    this.localAddresses = new Set(['127.0.0.1', '0.0.0.0']);
    for (const list of Object.values(os.networkInterfaces())) {
      for (const entry of list ?? []) this.localAddresses.add(entry.address);
    }
    if (options.host) this.localAddresses.add(options.host);
    this.uploadLimiter = rateLimiter(options.uploadLimit, Date.now());
    this.downloadLimiter = rateLimiter(options.downloadLimit, Date.now());
    this.listener = new PortListener({
      onPeerConnection: (socket, firstChunk) => void this.acceptPeer(socket, firstChunk),
      onHttpRequest: (req, res) => this.serveHttp(req, res),
    });
  }

  private makeTracker(): TrackerRegistry {
    const intervalS = this.options.announceInterval ?? settings.trackerIntervalS;
    return new TrackerRegistry({
      served: (infoHashHex) => {
        const swarm = this.swarms.get(infoHashHex);
        return swarm ? { selfPort: this.port, selfComplete: swarm.role === 'seeder' } : null;
      },
      allServed: () => this.swarms.keys(),
      selfPeerId: this.peerId,
      intervalS,
      minIntervalS: Math.min(settings.trackerMinIntervalS, intervalS),
      onNewPeer: (infoHashHex, ip, port) => this.swarms.get(infoHashHex)?.learnPeers([{ ip, port }]),
    });
  }

  /** Checks the folders, reads every .torrent, takes the port, then checks data and joins each swarm. */
  async start(): Promise<void> {
    await requireFolder(this.options.torrents, '--torrents');
    await requireFolder(this.options.shareable, '--shareable');
    await mkdir(this.options.cache, { recursive: true }).catch((error: Error) => {
      throw new StartupError(`cannot create the cache folder ${this.options.cache}: ${error.message}`);
    });
    const metas = await this.readTorrents();
    const saved = await readPeerConfig(this.options.cache);
    if (saved) {
      this.peerId = Buffer.from(saved.peerId, 'latin1');
      this.savedKnown = saved.known;
    }
    this.port = this.options.port ?? saved?.port ?? settings.defaultPort;
    this.tracker = this.makeTracker();
    await this.listener.listen(this.port, this.options.host);
    await this.saveConfig();
    this.configTimer = setInterval(() => void this.saveConfig(), CONFIG_SAVE_INTERVAL_MS);
    this.configTimer.unref();
    this.host = this.options.host ?? (await this.addressTowardsAnnouncer(metas)) ?? firstLanAddress();
    this.log.info(`peer ${this.peerId.toString('latin1')} at ${this.host}:${this.port} with ${metas.length} torrent(s)`);
    // Each slab must hold at least the largest piece, or that torrent could never move.
    const largestPiece = Math.max(settings.blockLength, ...metas.map((meta) => meta.pieceLength));
    this.slab = new BlockSlab(0, Math.max(this.options.bufferMemory, largestPiece));
    const readSlab = new BlockSlab(1, Math.max(settings.readCacheBytes, 2 * largestPiece));
    this.readCache = new ReadCache(readSlab);
    this.workers = new PieceWorkers(this.options.workers, [this.slab, readSlab]);
    const folders = { shareable: this.options.shareable, cache: this.options.cache };
    for (const meta of metas) {
      const data = new TorrentData(meta, folders, this.workers);
      const swarm = new Swarm(meta, data, this.swarmContext(), { announcer: this.isAnnouncer(meta) });
      // A swarm is reachable (tracker, incoming peers) only once it knows which pieces it has.
      await swarm.start();
      this.swarms.set(meta.infoHashHex, swarm);
      swarm.learnPeers(parseAddresses(this.savedKnown[meta.infoHashHex] ?? []));
    }
    this.checkAllComplete();
  }

  private async readTorrents(): Promise<Metainfo[]> {
    const names = (await readdir(this.options.torrents)).filter((name) => name.toLowerCase().endsWith('.torrent')).sort();
    const metas: Metainfo[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const file = path.join(this.options.torrents, name);
      let meta: Metainfo;
      try {
        meta = await readMetainfoFile(file);
      } catch (error) {
        const message = (error as Error).message;
        throw new StartupError(message.includes(file) ? message : `${file}: ${message}`);
      }
      if (seen.has(meta.infoHashHex)) {
        this.log.warn(`${file} is a second copy of torrent ${meta.infoHashHex}; ignored`);
        continue;
      }
      seen.add(meta.infoHashHex);
      metas.push(meta);
    }
    return metas;
  }

  /** Our address on the route to the first torrent's announce host, when that host is an IP address. */
  private async addressTowardsAnnouncer(metas: Metainfo[]): Promise<string | undefined> {
    for (const meta of metas) {
      const url = meta.announce ? URL.canParse(meta.announce) && new URL(meta.announce) : undefined;
      if (url) return addressTowards(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port) || 80);
    }
    return undefined;
  }

  /** This peer is a torrent's announcer when the announce URL names one of its addresses and its port. */
  isAnnouncer(meta: Metainfo): boolean {
    if (!meta.announce) return false;
    let url: URL;
    try {
      url = new URL(meta.announce);
    } catch {
      return false;
    }
    const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return port === this.port && this.localAddresses.has(host);
  }

  private swarmContext(): SwarmContext {
    if (!this.slab || !this.readCache) throw new Error('swarms are made only after the shared buffers');
    return {
      slab: this.slab,
      readCache: this.readCache,
      uploadLimiter: this.uploadLimiter,
      downloadLimiter: this.downloadLimiter,
      peerId: this.peerId,
      port: this.port,
      log: this.log,
      isSelf: (ip: string, port: number) => port === this.port && this.localAddresses.has(ip),
      hasConnectionRoom: () => this.listener.connectionCount + this.outgoingCount() < settings.maxConnections,
      onComplete: () => this.checkAllComplete(),
    };
  }

  private outgoingCount(): number {
    let count = 0;
    for (const swarm of this.swarms.values()) for (const peer of swarm.peers) if (peer.outgoing) count++;
    return count;
  }

  private checkAllComplete(): void {
    if (!this.options.exitWhenDone) return;
    for (const swarm of this.swarms.values()) if (swarm.role !== 'seeder') return;
    this.log.info('every torrent is complete (--exit-when-done)');
    this.onAllComplete();
  }

  private async acceptPeer(socket: Socket, firstChunk: Buffer): Promise<void> {
    const parser = new WireParser({ expectHandshake: true });
    const ip = unmapIpv4(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    try {
      const handshake = await readHandshake(socket, parser, firstChunk);
      const swarm = this.swarms.get(handshake.infoHash.toString('hex'));
      if (!swarm) throw new Error(`unknown info hash ${handshake.infoHash.toString('hex')}`);
      swarm.admit(socket, parser, handshake, false, ip, port);
    } catch (error) {
      this.log.debug(`closed incoming connection from ${ip}:${port}: ${(error as Error).message}`);
      socket.destroy();
    }
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    if (this.tracker && handleTrackerRequest(req, res, this.tracker, Date.now)) return;
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname === '/status' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify(this.status(), null, 2);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: this peer serves /announce, /scrape and /status\n');
  }

  /** Saves the peer id, the port and every swarm's known peers (errors are logged, never fatal). */
  private async saveConfig(): Promise<void> {
    const known: Record<string, string[]> = { ...this.savedKnown };
    for (const [infoHash, swarm] of this.swarms) known[infoHash] = swarm.status().known;
    try {
      await writePeerConfig(this.options.cache, { version: 1, peerId: this.peerId.toString('latin1'), port: this.port, known });
    } catch (error) {
      this.log.warn(`cannot save the configuration in ${this.options.cache}: ${(error as Error).message}`);
    }
  }

  status(): StatusDocument {
    return {
      peerId: this.peerId.toString('latin1'),
      host: this.host,
      port: this.port,
      workers: this.options.workers,
      eventLoopDelayP99Ms: this.loop.p99Ms(),
      swarms: [...this.swarms.values()].map((swarm) => swarm.status()),
    };
  }

  /** Stops cleanly: event=stopped to trackers, connections closed, writes finished. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.configTimer) clearInterval(this.configTimer);
      await Promise.all([...this.swarms.values()].map((swarm) => swarm.stop()));
      if (this.tracker) await this.saveConfig();
      await this.listener.close();
      await this.workers?.destroy();
      this.loop.stop();
    })();
    return this.stopping;
  }
}

async function requireFolder(folder: string, flag: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (!info) throw new StartupError(`folder ${folder} does not exist (${flag})`);
  if (!info.isDirectory()) throw new StartupError(`${folder} is not a folder (${flag})`);
}

function parseAddresses(addresses: string[]): { ip: string; port: number }[] {
  return addresses.map((address) => {
    const at = address.lastIndexOf(':');
    return { ip: address.slice(0, at), port: Number(address.slice(at + 1)) };
  });
}

/** '::ffff:127.0.0.1' as '127.0.0.1': the listener takes IPv4 peers on a dual-stack socket. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
