/**
 * One running peer: every swarm it takes part in, its one port, its tracker and its status.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { Metainfo } from '../io/metainfo.js';
import { BlockSlab } from '../io/block-slab.js';
import { readPeerConfig, writePeerConfig } from '../io/peer-config.js';
import { PieceWorkers } from '../io/piece-workers.js';
import { ReadCache } from '../io/read-cache.js';
import { markRunning, markStoppedCleanly, previousRunWasClean } from '../io/run-marker.js';
import { TorrentData } from '../io/torrent-data.js';
import { EventLoopMonitor } from './event-loop-monitor.js';
import type { Logger } from './logger.js';
import { choosePort, describePortOrigin, type SessionOptions } from './session-options.js';
import { StartupError } from './startup-error.js';
import { requireFolder, requireWritable } from './startup-checks.js';
import { serveHttp } from './http-routes.js';
import { SelfAddress } from './net/self-address.js';
import { ConnectionBudget } from './net/connection-budget.js';
import { addressTowards, firstLanAddress } from './net/local-address.js';
import { PortListener } from './net/port-listener.js';
import { UdpPort } from './net/udp-port.js';
import { FairLimiter } from './net/fair-limiter.js';
import { rateLimiter } from './net/token-bucket.js';
import { defaultSettings, type Settings } from '../io/settings.js';
import { systemClock, type Clock } from './clock.js';
import { tcpDialler, type Dialler } from './net/dialler.js';
import { mayConnect } from './swarm/connection-shares.js';
import { SlabShares } from './swarm/slab-shares.js';
import type { SwarmContext } from './swarm/swarm-context.js';
import type { SwarmStatus } from './swarm/swarm-status.js';
import { Swarm } from './swarm/swarm.js';
import { TrackerRegistry } from './tracker/tracker-registry.js';
import { trackerIpAddresses } from './tracker/tracker-tiers.js';
import { selfAddressFor, UdpTrackerServer } from './tracker/udp-tracker-server.js';
import { piecesDoNotFit, TorrentFolder, type SkippedTorrent } from './torrent-folder.js';
import type { MagnetLink } from '../io/magnet-link.js';
import { loadMetadata, saveMetadata } from '../io/metadata-store.js';
import { MagnetSwarm } from './swarm/magnet-swarm.js';
import type { PeerAddress } from './tracker/announce-client.js';
import type { Handshake } from './wire/wire-messages.js';
import type { WireParser } from './wire/wire-parser.js';

export interface StatusDocument {
  peerId: string;
  /** The address other peers reach this one at (--host, else the interface towards the announce host). */
  host: string;
  port: number;
  workers: number;
  eventLoopDelayP99Ms: number;
  /**
   * Open connections: `peers` the peer-wire ones (at most settings.maxConnections), `pending`
   * incoming ones not yet identified, `http` tracker and status requests.
   */
  connections: { peers: number; pending: number; http: number };
  swarms: SwarmStatus[];
  /** The .torrent files in torrents/ that were not joined, each with why (torrent-folder.ts). */
  skipped: SkippedTorrent[];
}

/** How often the configuration (known peers above all) is saved while running. */
const CONFIG_SAVE_INTERVAL_MS = 30_000;
/** Torrents joined at once at start-up. */
const PARALLEL_JOINS = 8;

/**
 * What a session runs with besides its options: every part may be left out for the real one.
 * Tests hand in their own settings (shorter time-outs), clock or dialler, and run whole swarms
 * of sessions in one process (test/helpers/in-process-peer.ts).
 */
export interface SessionEnvironment {
  settings?: Settings;
  clock?: Clock;
  dial?: Dialler;
  /** Called when --exit-when-done is set and every torrent is complete. */
  onAllComplete?: () => void;
}

const PEER_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An Azureus-style peer id, printable so that it reads well in /status. */
function newPeerId(prefix: string): Buffer {
  const random = [...randomBytes(20 - prefix.length)].map((b) => PEER_ID_ALPHABET[b % PEER_ID_ALPHABET.length]);
  return Buffer.from(prefix + random.join(''), 'latin1');
}

export class Session {
  peerId: Buffer;
  /** Our port: --port, else the one saved in cache/, else the default. */
  private port: number;
  private readonly swarms = new Map<string, Swarm>();
  /** Swarms of magnet links whose metadata is still being fetched, by info hash. */
  private readonly magnets = new Map<string, MagnetSwarm>();
  private readonly listener: PortListener;
  private tracker: TrackerRegistry | null = null;
  /** The UDP port of the same number (BEP 15 tracker; the DHT later), bound once the TCP port listens. */
  private udp: UdpPort | null = null;
  /** Known peers saved by the last run, by swarm, to be given to each swarm once it starts. */
  private savedKnown: Record<string, string[]> = {};
  private configTimer: NodeJS.Timeout | null = null;
  private readonly torrents: TorrentFolder;
  private readSlabBytes = 0;
  /** Whether the previous run left no run marker (run-marker.ts). */
  private previousRunClean = false;
  /** Set once this run's marker is written: only then may a clean stop remove it. */
  private running = false;
  /** Torrents being joined (their data checked) right now. */
  private joinsInProgress = 0;
  private readonly loop: EventLoopMonitor;
  private readonly self: SelfAddress;
  private stopping: Promise<void> | null = null;
  private host = '127.0.0.1';
  private workers: PieceWorkers | null = null;
  private slab: BlockSlab | null = null;
  private slabShares: SlabShares | null = null;
  private readCache: ReadCache | null = null;
  private readonly uploadLimiter: FairLimiter;
  private readonly downloadLimiter: FairLimiter;
  private readonly connections: ConnectionBudget;
  readonly settings: Settings;
  private readonly clock: Clock;
  private readonly dial: Dialler;
  private readonly onAllComplete: () => void;

  constructor(
    readonly options: SessionOptions,
    private readonly log: Logger,
    environment: SessionEnvironment = {},
  ) {
    this.settings = environment.settings ?? defaultSettings;
    this.clock = environment.clock ?? systemClock;
    this.dial = environment.dial ?? tcpDialler;
    this.onAllComplete = environment.onAllComplete ?? (() => undefined);
    this.peerId = newPeerId(this.settings.peerIdPrefix);
    this.port = this.settings.defaultPort;
    this.loop = new EventLoopMonitor(this.settings.eventLoopWindowMs);
    this.connections = new ConnectionBudget(this.settings.maxConnections);
    this.self = new SelfAddress(options.host);
    this.uploadLimiter = new FairLimiter(rateLimiter(options.uploadLimit, Date.now()));
    this.downloadLimiter = new FairLimiter(rateLimiter(options.downloadLimit, Date.now()));
    this.torrents = new TorrentFolder(options.torrents, log, {
      join: async (torrent, listed) => {
        this.joinsInProgress++;
        try {
          if (torrent.meta) await this.joinTorrent(torrent.meta, listed);
          else if (torrent.magnet) this.fetchMetadata(torrent.magnet, listed);
        } finally {
          this.joinsInProgress--;
        }
        this.checkAllComplete();
      },
      cachedMetadata: (link) => loadMetadata(this.options.cache, link, this.settings),
      leave: async (infoHash) => {
        const swarm = this.swarms.get(infoHash) ?? this.magnets.get(infoHash);
        this.swarms.delete(infoHash);
        this.magnets.delete(infoHash);
        await swarm?.stop();
      },
      pieceFits: (pieceLength) => this.pieceFits(pieceLength),
      isStopping: () => this.stopping !== null,
    });
    this.listener = new PortListener({
      onPeerConnection: (socket, parser, handshake) => this.acceptPeer(socket, parser, handshake),
      onHttpRequest: (req, res) => serveHttp(req, res, { tracker: () => this.tracker, status: () => this.status() }),
      log,
      settings: this.settings,
    });
  }

  private makeTracker(): TrackerRegistry {
    const intervalS = this.options.announceInterval ?? this.settings.trackerIntervalS;
    return new TrackerRegistry({
      served: (infoHashHex) => {
        const swarm = this.swarms.get(infoHashHex);
        return swarm ? { selfPort: this.port, selfComplete: swarm.role === 'seeder' } : null;
      },
      allServed: () => this.swarms.keys(),
      selfPeerId: this.peerId,
      settings: this.settings,
      intervalS,
      minIntervalS: Math.min(this.settings.trackerMinIntervalS, intervalS),
      onNewPeer: (infoHashHex, ip, port) => this.swarms.get(infoHashHex)?.learnPeers([{ ip, port }]),
    });
  }

  /**
   * Checks the folders, reads every .torrent (a bad one is reported and skipped), takes the port,
   * then checks data and joins each swarm.
   */
  async start(): Promise<void> {
    await requireFolder(this.options.torrents, '--torrents');
    await requireFolder(this.options.shareable, '--shareable');
    await mkdir(this.options.cache, { recursive: true }).catch((error: Error) => {
      throw new StartupError(`cannot create the cache folder ${this.options.cache}: ${error.message}`);
    });
    await requireWritable(this.options.cache, '--cache');
    const found = await this.torrents.read();
    const metas = found.flatMap(({ meta }) => (meta ? [meta] : []));
    const saved = await readPeerConfig(this.options.cache);
    if (saved) {
      this.peerId = Buffer.from(saved.peerId, 'latin1');
      this.savedKnown = saved.known;
    }
    const { port, origin } = choosePort(this.options.port, saved?.port, this.settings.defaultPort);
    this.port = this.self.port = port;
    this.tracker = this.makeTracker();
    await this.listener.listen(this.port, this.options.host);
    this.udp = await UdpPort.open(this.port, this.options.host, { log: this.log, settings: this.settings });
    const udp = this.udp;
    const udpTracker = new UdpTrackerServer({
      registry: this.tracker,
      send: (packet, to) => void udp.send(packet, to.port, to.address).catch(() => undefined),
      selfIp: (from) => selfAddressFor(from, this.host),
      // The HTTP face's clock: both faces share the registry.
      now: Date.now,
      settings: this.settings,
    });
    udp.onTrackerRequest = (packet, from) => udpTracker.handle(packet, from);
    await this.saveConfig();
    this.previousRunClean = await previousRunWasClean(this.options.cache);
    await markRunning(this.options.cache);
    this.running = true;
    this.configTimer = setInterval(() => void this.saveConfig(), CONFIG_SAVE_INTERVAL_MS);
    this.configTimer.unref();
    const trackers = found.map(({ meta, magnet }) => meta ?? { announceList: magnet?.announceList ?? [] });
    this.host = this.options.host ?? (await this.addressTowardsAnnouncer(trackers)) ?? firstLanAddress();
    const skipped = this.torrents.skipped().length;
    const torrents = `${found.length} torrent(s)${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    const dashboard = `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/`;
    this.log.info(`peer ${this.peerId.toString('latin1')} at ${this.host}:${this.port} (${describePortOrigin(origin)}) with ${torrents}; dashboard at ${dashboard}`);
    // Each slab must hold at least the largest piece, or that torrent could never move.
    const largestPiece = Math.max(this.settings.blockLength, ...metas.map((meta) => meta.pieceLength));
    this.slab = new BlockSlab(0, Math.max(this.options.bufferMemory, largestPiece));
    this.slabShares = new SlabShares(this.slab);
    const readSlab = new BlockSlab(1, Math.max(this.settings.readCacheBytes, 2 * largestPiece));
    this.readSlabBytes = readSlab.slotCount * readSlab.slotLength;
    this.readCache = new ReadCache(readSlab);
    this.workers = new PieceWorkers(this.options.workers, [this.slab, readSlab], this.settings);
    this.joinsInProgress++;
    try {
      // A few at a time: each join waits on disk (checks, the first resume save's fsyncs), so
      // one after another leaves both the pool and the disk idle most of the time.
      let next = 0;
      const joiner = async (): Promise<void> => {
        while (next < found.length) {
          await this.torrents.join(found[next++]);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_JOINS, found.length) }, joiner));
    } finally {
      this.joinsInProgress--;
    }
    this.torrents.watch();
    this.checkAllComplete();
  }

  /**
   * Joins the swarm of a torrent: checks its data, then makes it reachable (tracker, incoming
   * peers), unless its file left torrents/ (`listed`) or the session stops meanwhile.
   */
  private async joinTorrent(meta: Metainfo, listed: () => boolean): Promise<void> {
    if (!this.workers || !this.slab || !this.readCache) throw new Error('torrents are joined only after the shared buffers exist');
    const folders = { shareable: this.options.shareable, cache: this.options.cache };
    const data = new TorrentData(meta, folders, this.workers);
    const swarm = new Swarm(meta, data, this.swarmContext(), { announcer: this.self.isAnnouncer(meta) });
    await swarm.start();
    if (this.stopping || !listed()) {
      await swarm.stop();
      return;
    }
    this.magnets.delete(meta.infoHashHex);
    this.swarms.set(meta.infoHashHex, swarm);
    swarm.learnPeers(parseAddresses(this.savedKnown[meta.infoHashHex] ?? []));
  }

  /** Whether pieces of this length fit the block buffers made at start-up. */
  private pieceFits(pieceLength: number): boolean {
    return pieceLength <= this.slab!.slotCount * this.slab!.slotLength && 2 * pieceLength <= this.readSlabBytes;
  }

  /** Joins a magnet link's swarm to fetch its metadata (BEP 9); the torrent's own swarm follows. */
  private fetchMetadata(link: MagnetLink, listed: () => boolean): void {
    const magnet: MagnetSwarm = new MagnetSwarm({
      link,
      context: this.swarmContext(),
      onMetadata: (info, peers) => void this.metadataArrived(magnet, info, peers, listed),
    });
    this.magnets.set(link.infoHashHex, magnet);
    magnet.start();
    magnet.learnPeers(parseAddresses(this.savedKnown[link.infoHashHex] ?? []));
  }

  /** Keeps the metadata in cache/ (a restart does not fetch it again) and joins the torrent's swarm. */
  private async metadataArrived(magnet: MagnetSwarm, info: Buffer, peers: PeerAddress[], listed: () => boolean): Promise<void> {
    const infoHashHex = magnet.link.infoHashHex;
    await magnet.stop();
    if (this.magnets.get(infoHashHex) !== magnet || this.stopping) return;
    this.joinsInProgress++;
    try {
      const meta = await saveMetadata(this.options.cache, magnet.link, info);
      if (!this.pieceFits(meta.pieceLength)) throw new Error(piecesDoNotFit(meta.pieceLength));
      await this.joinTorrent(meta, listed);
      this.swarms.get(infoHashHex)?.learnPeers(peers);
    } catch (error) {
      this.torrents.failed(infoHashHex, null, (error as Error).message);
    } finally {
      if (this.magnets.get(infoHashHex) === magnet) this.magnets.delete(infoHashHex);
      this.joinsInProgress--;
    }
    this.checkAllComplete();
  }

  /**
   * Our address on the route to the first tracker named by an IP address: of the torrents in
   * order, every tracker URL (`announce`, then each `announce-list` tier; http, https or udp). A
   * tracker with no route from here is passed over for the next.
   */
  private async addressTowardsAnnouncer(metas: Pick<Metainfo, 'announce' | 'announceList'>[]): Promise<string | undefined> {
    for (const meta of metas) {
      for (const { host, port } of trackerIpAddresses(meta.announce, meta.announceList)) {
        const address = await addressTowards(host, port);
        if (address !== undefined) return address;
      }
    }
    return undefined;
  }

  private swarmContext(): SwarmContext {
    if (!this.slab || !this.slabShares || !this.readCache) throw new Error('swarms are made only after the shared buffers');
    return {
      settings: this.settings,
      clock: this.clock,
      dial: this.dial,
      slabShares: this.slabShares,
      readCache: this.readCache,
      uploadLimiter: this.uploadLimiter,
      downloadLimiter: this.downloadLimiter,
      peerId: this.peerId,
      port: this.port,
      log: this.log,
      isSelf: (ip: string, port: number) => this.self.isSelf(ip, port),
      isSelfTracker: (url: string) => this.self.isSelfTracker(url),
      udp: this.udp,
      connections: this.connections,
      hasConnectionRoom: (swarmConnections) => mayConnect(this.connections.count, swarmConnections, this.swarms.size, this.settings.maxConnections),
      previousRunClean: this.previousRunClean,
      onComplete: () => this.checkAllComplete(),
    };
  }

  private checkAllComplete(): void {
    // While torrents are still being joined, "every torrent" is not known yet.
    if (!this.options.exitWhenDone || this.joinsInProgress > 0 || this.magnets.size > 0) return;
    for (const swarm of this.swarms.values()) if (swarm.role !== 'seeder') return;
    this.log.info('every torrent is complete (--exit-when-done)');
    this.onAllComplete();
  }

  /** An incoming connection whose handshake is complete: to its swarm, if it has room. */
  private acceptPeer(socket: Socket, parser: WireParser, handshake: Handshake): void {
    const ip = unmapIpv4(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    const refuse = (reason: string): void => {
      this.log.debug(`closed incoming connection from ${ip}:${port}: ${reason}`);
      socket.destroy();
    };
    const infoHashHex = handshake.infoHash.toString('hex');
    const swarm = this.swarms.get(infoHashHex) ?? this.magnets.get(infoHashHex);
    if (!swarm) return refuse(`unknown info hash ${handshake.infoHash.toString('hex')}`);
    if (!this.connections.claim(socket)) return refuse(`${this.settings.maxConnections} peer connections are open already (maxConnections)`);
    swarm.admit(socket, parser, handshake, false, ip, port);
  }

  /** Saves the peer id, the port and every swarm's known peers (errors are logged, never fatal). */
  private async saveConfig(): Promise<void> {
    const known: Record<string, string[]> = { ...this.savedKnown };
    for (const [infoHash, swarm] of [...this.swarms, ...this.magnets]) known[infoHash] = swarm.knownAddresses();
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
      connections: { peers: this.connections.count, pending: this.listener.pendingCount, http: this.listener.httpCount },
      swarms: [...this.swarms.values(), ...this.magnets.values()].map((swarm) => swarm.status()),
      skipped: this.torrents.skipped(),
    };
  }

  /** Stops cleanly: event=stopped to trackers, connections closed, writes finished. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.configTimer) clearInterval(this.configTimer);
      this.torrents.close();
      await Promise.all([...this.swarms.values(), ...this.magnets.values()].map((swarm) => swarm.stop()));
      if (this.tracker) await this.saveConfig();
      await this.listener.close();
      await this.udp?.close();
      await this.workers?.destroy();
      this.loop.stop();
      // Joins cut short by the stop stopped their swarms themselves; nothing writes any more.
      // A marker left behind only makes the next start check what was not saved as verified: the stop still exits 0.
      if (this.running) {
        await markStoppedCleanly(this.options.cache).catch((error: unknown) => {
          this.log.warn(`${(error as Error).message}; the next start checks the data again`);
        });
      }
    })();
    return this.stopping;
  }
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
