/**
 * One running peer: every swarm it takes part in, its one port, its tracker and its status.
 */
import { mkdir } from 'node:fs/promises';
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
import { addressTowardsTrackers, firstLanAddress } from './net/local-address.js';
import { parseAddresses, unmapIpv4 } from './net/peer-address.js';
import { newPeerId } from './peer-id.js';
import { PortListener } from './net/port-listener.js';
import type { PeerEncryption } from './net/mse/encryption-policy.js';
import type { PeerSocket } from './net/peer-socket.js';
import { UdpPort } from './net/udp-port.js';
import { FairLimiter } from './net/fair-limiter.js';
import { rateLimiter } from './net/token-bucket.js';
import { defaultSettings, type Settings } from '../io/settings.js';
import { systemClock, type Clock } from './clock.js';
import { tcpDialler, type Dialler } from './net/dialler.js';
import { mayConnect } from './swarm/connection-shares.js';
import { Housekeeping } from './swarm/housekeeping.js';
import { SaveSlots } from './swarm/resume-saver.js';
import { SlabShares } from './swarm/slab-shares.js';
import type { SwarmContext } from './swarm/swarm-context.js';
import { everySwarm, listedStatuses, wholeStatus, type StatusDocument, type StatusParts, type StatusQuery, type StatusSummary } from './status-document.js';
import { Swarm } from './swarm/swarm.js';
import type { TrackerRegistry } from './tracker/tracker-registry.js';
import { trackerOfSwarms } from './tracker/served-swarms.js';
import { selfAddressFor, UdpTrackerServer } from './tracker/udp-tracker-server.js';
import { piecesDoNotFit, TorrentFolder } from './torrent-folder.js';
import { TorrentControl } from './control/torrent-control.js';
import type { MagnetLink } from '../io/magnet-link.js';
import { loadMetadata, saveMetadata } from '../io/metadata-store.js';
import { MagnetSwarm } from './swarm/magnet-swarm.js';
import type { PeerSource } from './swarm/peer-list.js';
import type { PeerAddress } from './tracker/announce-client.js';
import { AnnounceGate } from './tracker/announce-gate.js';
import { ScrapeBatches } from './tracker/scrape-batches.js';
import { DhtNode } from './dht/dht-node.js';
import { DhtSwarms } from './dht/dht-swarms.js';
import { LocalDiscovery } from './discovery/local-discovery.js';
import type { Handshake } from './wire/wire-messages.js';
import type { WireParser } from './wire/wire-parser.js';

export type { StatusDocument };

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

export class Session {
  peerId: Buffer;
  /** Our port: --port, else the one saved in cache/, else the default. */
  private port: number;
  private readonly swarms = new Map<string, Swarm>();
  /** Swarms of magnet links whose metadata is still being fetched, by info hash. */
  private readonly magnets = new Map<string, MagnetSwarm>();
  private readonly listener: PortListener;
  private tracker: TrackerRegistry | null = null;
  /** The UDP port of the same number (BEP 15 tracker and the DHT), bound once the TCP port listens. */
  private udp: UdpPort | null = null;
  /** The DHT node on the UDP port and the schedule of its searches, unless --no-dht. */
  private dht: { node: DhtNode; swarms: DhtSwarms } | null = null;
  /** Local service discovery's multicast socket, unless --no-lsd (or it could not be bound). */
  private lsd: LocalDiscovery | null = null;
  /** Known peers saved by the last run, by swarm, to be given to each swarm once it starts. */
  private savedKnown: Record<string, string[]> = {};
  private configTimer: NodeJS.Timeout | null = null;
  private readonly torrents: TorrentFolder;
  /** The control API: add, remove, pause, resume (control/torrent-control.ts). */
  private readonly control: TorrentControl;
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
  private readonly resumeSaves: SaveSlots;
  private readonly uploadLimiter: FairLimiter;
  private readonly downloadLimiter: FairLimiter;
  private readonly connections: ConnectionBudget;
  private readonly announceGate: AnnounceGate;
  private readonly scrapeBatches: ScrapeBatches;
  /** One timer ticking every swarm, rather than one per swarm. */
  private readonly housekeeping: Housekeeping;
  readonly settings: Settings;
  private readonly clock: Clock;
  private readonly dial: Dialler;
  private readonly onAllComplete: () => void;
  private allCompleteSaid = false;

  constructor(
    readonly options: SessionOptions,
    private readonly log: Logger,
    environment: SessionEnvironment = {},
  ) {
    this.settings = environment.settings ?? defaultSettings;
    this.clock = environment.clock ?? systemClock;
    const announcesPerSecond = this.settings.maxAnnouncesPerSecond;
    this.announceGate = new AnnounceGate(this.settings.maxConcurrentAnnounces, announcesPerSecond > 0 ? { perSecond: announcesPerSecond, clock: this.clock } : undefined);
    this.scrapeBatches = new ScrapeBatches(this.announceGate, this.clock, {
      maxInfoHashes: this.settings.maxInfoHashesPerScrape,
      deadlineMs: this.settings.trackerSilentMs,
      gatherMs: this.settings.scrapeGatherMs,
    });
    this.housekeeping = new Housekeeping(this.clock);
    this.dial = environment.dial ?? tcpDialler;
    this.onAllComplete = environment.onAllComplete ?? (() => undefined);
    this.peerId = newPeerId(this.settings.peerIdPrefix);
    this.port = this.settings.defaultPort;
    this.loop = new EventLoopMonitor(this.settings.eventLoopWindowMs);
    this.connections = new ConnectionBudget(this.settings.maxConnections);
    this.resumeSaves = new SaveSlots(this.settings.maxConcurrentResumeSaves);
    this.self = new SelfAddress(options.host);
    this.uploadLimiter = new FairLimiter(rateLimiter(options.uploadLimit, Date.now()));
    this.downloadLimiter = new FairLimiter(rateLimiter(options.downloadLimit, Date.now()));
    this.torrents = new TorrentFolder(options.torrents, log, {
      join: async (torrent, listed) => {
        this.joinsInProgress++;
        try {
          if (torrent.meta) await this.joinTorrent(torrent.meta, listed);
          else if (torrent.magnet) await this.fetchMetadata(torrent.magnet, listed);
        } finally {
          this.joinsInProgress--;
        }
        this.checkAllComplete();
      },
      cachedMetadata: (link) => loadMetadata(this.options.cache, link, this.settings),
      leave: async (infoHash) => {
        this.control.forget(infoHash);
        const swarm = this.swarms.get(infoHash) ?? this.magnets.get(infoHash);
        this.swarms.delete(infoHash);
        this.magnets.delete(infoHash);
        await swarm?.stop();
      },
      pieceFits: (pieceLength) => this.pieceFits(pieceLength),
      isStopping: () => this.stopping !== null,
    });
    this.control = new TorrentControl({
      settings: this.settings, torrentsFolder: options.torrents, cacheFolder: options.cache, folder: this.torrents, log,
      swarmOf: (infoHash) => this.swarms.get(infoHash) ?? this.magnets.get(infoHash),
      pieceFits: (pieceLength) => this.pieceFits(pieceLength),
      rejoin: (infoHash) => this.rejoin(infoHash),
      readCache: () => this.readCache,
    });
    this.listener = new PortListener({
      onPeerConnection: (socket, parser, handshake, encryption) => this.acceptPeer(socket, parser, handshake, encryption),
      onHttpRequest: (req, res) => serveHttp(req, res, { tracker: () => this.tracker, status: (query) => this.statusParts(query), control: this.control }),
      log,
      settings: this.settings,
      encryption: options.encryption,
      infoHashes: () => this.infoHashes(),
    });
  }

  /** Every torrent's info hash, magnets included: those an incoming encrypted handshake may name. */
  private *infoHashes(): Iterable<Buffer> {
    for (const swarm of this.swarms.values()) yield swarm.meta.infoHash;
    for (const magnet of this.magnets.values()) yield magnet.link.infoHash;
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
    const token = await this.control.open(port, (name) => this.self.isOwnHostName(name)).catch((error: Error) => {
      throw new StartupError(error.message);
    });
    this.tracker = trackerOfSwarms(this.swarms, { port: this.port, peerId: this.peerId }, this.settings, this.options.announceInterval);
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
    if (this.options.dht) await this.startDht(udp);
    if (this.options.lsd) {
      this.lsd = await LocalDiscovery.open({ peerPort: this.port, host: this.options.host, settings: this.settings, clock: this.clock, log: this.log });
    }
    await this.saveConfig();
    this.previousRunClean = await previousRunWasClean(this.options.cache);
    await markRunning(this.options.cache);
    this.running = true;
    this.configTimer = setInterval(() => void this.saveConfig(), CONFIG_SAVE_INTERVAL_MS);
    this.configTimer.unref();
    const trackers = found.map(({ meta, magnet }) => meta ?? { announceList: magnet?.announceList ?? [] });
    this.host = this.options.host ?? (await addressTowardsTrackers(trackers)) ?? firstLanAddress();
    const skipped = this.torrents.skipped().length;
    const torrents = `${found.length} torrent(s)${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    const dashboard = `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/`;
    this.log.info(`peer ${this.peerId.toString('latin1')} at ${this.host}:${this.port} (${describePortOrigin(origin)}) with ${torrents}; dashboard at ${dashboard}#token=${token}`);
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
  private async joinTorrent(meta: Metainfo, listed: () => boolean, resumed = false): Promise<void> {
    if (!this.workers || !this.slab || !this.readCache) throw new Error('torrents are joined only after the shared buffers exist');
    const folders = { shareable: this.options.shareable, cache: this.options.cache };
    const data = new TorrentData(meta, folders, this.workers);
    const { paused, priorities, sequential } = await this.control.stateFor(meta.infoHashHex);
    // A swarm paused in this run stopped cleanly: its resume data is trusted, whatever the last run did.
    const context = this.swarmContext(this.previousRunClean || resumed);
    const swarm = new Swarm(meta, data, context, { announcer: this.self.isAnnouncer(meta), paused, priorities, sequential });
    await swarm.start();
    if (this.stopping || !listed()) {
      await swarm.stop();
      return;
    }
    this.magnets.delete(meta.infoHashHex);
    this.swarms.set(meta.infoHashHex, swarm);
    swarm.learnPeers(parseAddresses(this.savedKnown[meta.infoHashHex] ?? []), 'saved');
  }

  /** Whether pieces of this length fit the block buffers made at start-up. */
  private pieceFits(pieceLength: number): boolean {
    return pieceLength <= this.slab!.slotCount * this.slab!.slotLength && 2 * pieceLength <= this.readSlabBytes;
  }

  /** Joins a magnet link's swarm to fetch its metadata (BEP 9); the torrent's own swarm follows. */
  private async fetchMetadata(link: MagnetLink, listed: () => boolean): Promise<void> {
    const magnet: MagnetSwarm = new MagnetSwarm({
      link,
      context: this.swarmContext(),
      onMetadata: (info, peers) => void this.metadataArrived(magnet, info, peers, listed),
    });
    this.magnets.set(link.infoHashHex, magnet);
    // Paused, it is listed and fetches nothing until resumed.
    if ((await this.control.stateFor(link.infoHashHex)).paused) return;
    magnet.start();
    magnet.learnPeers(parseAddresses(this.savedKnown[link.infoHashHex] ?? []), 'saved');
  }

  /** Joins a paused torrent's swarm again (the control API's resume): a new swarm replaces the stopped one. */
  private async rejoin(infoHashHex: string): Promise<void> {
    const listed = (): boolean => this.torrents.isListed(infoHashHex);
    const stopped = this.swarms.get(infoHashHex) ?? this.magnets.get(infoHashHex);
    const known = parseAddresses(stopped?.knownAddresses() ?? []);
    if (stopped instanceof Swarm) await this.joinTorrent(stopped.meta, listed, true);
    else if (stopped) await this.fetchMetadata(stopped.link, listed);
    // The peers met before the pause (a magnet's x.pe, ut_pex, the DHT) are dialled again.
    (this.swarms.get(infoHashHex) ?? this.magnets.get(infoHashHex))?.learnPeers(known, 'saved');
  }

  /**
   * The DHT node on the UDP port (DESIGN.md, Discovery beyond the tracker): it takes the port's
   * DHT datagrams, and its searches for the swarms are scheduled by DhtSwarms.
   */
  private async startDht(udp: UdpPort): Promise<void> {
    const node = await DhtNode.open({
      datagrams: udp,
      peerPort: this.port,
      bootstrap: this.options.dhtBootstrap,
      cacheFolder: this.options.cache,
      settings: this.settings,
      clock: this.clock,
      log: this.log,
    });
    udp.onDhtPacket = (packet, from) => node.receive(packet, from);
    this.dht = { node, swarms: new DhtSwarms(node, this.settings, this.clock, this.log) };
  }

  /** Keeps the metadata in cache/ (a restart does not fetch it again) and joins the torrent's swarm. */
  private async metadataArrived(magnet: MagnetSwarm, info: Buffer, peers: (PeerAddress & { source: PeerSource })[], listed: () => boolean): Promise<void> {
    const infoHashHex = magnet.link.infoHashHex;
    await magnet.stop();
    if (this.magnets.get(infoHashHex) !== magnet || this.stopping) return;
    this.joinsInProgress++;
    try {
      const meta = await saveMetadata(this.options.cache, magnet.link, info);
      await this.control.selectFromLink(magnet.link, meta);
      if (!this.pieceFits(meta.pieceLength)) throw new Error(piecesDoNotFit(meta.pieceLength));
      await this.joinTorrent(meta, listed);
      const swarm = this.swarms.get(infoHashHex);
      for (const peer of peers) swarm?.learnPeers([peer], peer.source);
    } catch (error) {
      this.torrents.failed(infoHashHex, null, (error as Error).message);
    } finally {
      if (this.magnets.get(infoHashHex) === magnet) this.magnets.delete(infoHashHex);
      this.joinsInProgress--;
    }
    this.checkAllComplete();
  }

  /**
   * What a swarm runs with. A literal, not a spread of another context: V8 (Node 20) gives every
   * object made by `{ ...other, more }` a hidden class of its own, about 300 bytes more per swarm
   * and slow property reads everywhere the context is used.
   */
  private swarmContext(previousRunClean = this.previousRunClean): SwarmContext {
    if (!this.slab || !this.slabShares || !this.readCache) throw new Error('swarms are made only after the shared buffers');
    return {
      settings: this.settings,
      clock: this.clock,
      housekeeping: this.housekeeping,
      dial: this.dial,
      encryption: this.options.encryption,
      slabShares: this.slabShares,
      readCache: this.readCache,
      resumeSaves: this.resumeSaves,
      uploadLimiter: this.uploadLimiter,
      downloadLimiter: this.downloadLimiter,
      peerId: this.peerId,
      port: this.port,
      log: this.log,
      isSelf: (ip: string, port: number) => this.self.isSelf(ip, port),
      isSelfTracker: (url: string) => this.self.isSelfTracker(url),
      udp: this.udp,
      announceGate: this.announceGate,
      scrapeBatches: this.scrapeBatches,
      dht: this.dht && { add: (swarm) => this.dht!.swarms.add(swarm), addNode: (host, port) => this.dht!.node.addNode(host, port) },
      lsd: this.lsd,
      connections: this.connections,
      hasConnectionRoom: (swarmConnections) => mayConnect(this.connections.count, swarmConnections, this.swarms.size, this.settings.maxConnections),
      previousRunClean,
      onComplete: () => this.checkAllComplete(),
    };
  }

  private checkAllComplete(): void {
    // While torrents are still being joined, "every torrent" is not known yet.
    if (!this.options.exitWhenDone || this.joinsInProgress > 0 || this.magnets.size > 0) return;
    for (const swarm of this.swarms.values()) if (!swarm.done) return;
    // Said once: the stop it starts takes a while, and the last swarms report in meanwhile.
    if (this.allCompleteSaid) return;
    this.allCompleteSaid = true;
    this.log.info('every torrent is complete (--exit-when-done)');
    this.onAllComplete();
  }

  /** An incoming connection whose handshake is complete: to its swarm, if it has room. */
  private acceptPeer(socket: PeerSocket, parser: WireParser, handshake: Handshake, encryption: PeerEncryption): void {
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
    swarm.admit(socket, parser, handshake, false, ip, port, encryption);
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

  /** The status document with every swarm (the live display, tests). */
  status(): StatusDocument {
    return wholeStatus(this.statusParts(everySwarm));
  }

  /** The status document's parts (GET /status): the swarms the query lists are made as they are read. */
  statusParts(query: StatusQuery): StatusParts {
    const all = [...this.swarms.values(), ...this.magnets.values()];
    return {
      head: {
        peerId: this.peerId.toString('latin1'),
        host: this.host,
        port: this.port,
        workers: this.options.workers,
        eventLoopDelayP99Ms: this.loop.p99Ms(),
        connections: { peers: this.connections.count, pending: this.listener.pendingCount, http: this.listener.httpCount },
        summary: this.summary(),
        skipped: this.torrents.skipped(),
        dht: { enabled: this.dht !== null, nodes: this.dht?.node.nodes ?? 0 },
      },
      swarms: listedStatuses(all, query, (swarm) => this.control.decorate(swarm.status())),
    };
  }

  private summary(): StatusSummary {
    const summary: StatusSummary = { swarms: this.swarms.size + this.magnets.size, seeders: 0, leechers: this.magnets.size, fetchingMetadata: this.magnets.size, paused: 0 };
    for (const [infoHash, swarm] of this.swarms) {
      if (swarm.role === 'seeder') summary.seeders++;
      else summary.leechers++;
      if (this.control.isPaused(infoHash)) summary.paused++;
    }
    for (const infoHash of this.magnets.keys()) if (this.control.isPaused(infoHash)) summary.paused++;
    return summary;
  }

  /** Stops cleanly: event=stopped to trackers, connections closed, writes finished. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.configTimer) clearInterval(this.configTimer);
      this.torrents.close();
      await Promise.all([...this.swarms.values(), ...this.magnets.values()].map((swarm) => swarm.stop()));
      if (this.tracker) await this.saveConfig();
      await this.listener.close();
      // The DHT saves its routing table as it closes, before the port it speaks through.
      this.dht?.swarms.stop();
      await this.dht?.node.close();
      await this.lsd?.close();
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
