/**
 * A tracker outside the peers under test: our tracker's code (query parsing, TrackerRegistry,
 * replies) in an HTTP server of the benchmark's own, serving the torrents it is given. It is no
 * peer of the swarm, so a reference pair moves every byte between themselves; the registry's
 * entry for the peer that runs a tracker (itself, here) is left out of the replies. It can tell
 * each announce and scrape (BEP 48, several torrents in one) as it arrives, and counts the
 * connections open to it, for benchmarks that watch how a peer announces (seeder-startup.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { answerTrackerRequest } from '../src/main/tracker/tracker-http.js';
import type { AnnounceRequest } from '../src/main/tracker/tracker-query.js';
import { TrackerRegistry, type TrackedPeer } from '../src/main/tracker/tracker-registry.js';
import { encodeFailure } from '../src/main/tracker/tracker-responses.js';

export interface BenchTrackerOptions {
  /** Told of every valid announce of a served torrent, with performance.now() when its request arrived. */
  onAnnounce?: (announce: AnnounceRequest, at: number) => void;
  /** Told of every valid scrape request, with the info hashes it names. */
  onScrape?: (infoHashes: readonly Buffer[]) => void;
  /** The interval (seconds) the reply asks for; the registry's (settings.trackerIntervalS) when absent. */
  intervalS?: (announce: AnnounceRequest) => number;
}

export class BenchTracker {
  private openConnections = 0;
  private peakConnections = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly registry: TrackerRegistry,
    readonly host: string,
    readonly port: number,
    private readonly served: Set<string>,
  ) {
    server.on('connection', (socket) => {
      this.peakConnections = Math.max(this.peakConnections, ++this.openConnections);
      socket.once('close', () => this.openConnections--);
    });
  }

  /** Listens on `host` (a free port) for announces of the torrents with these info hashes (hex), and of those it is told to serve later. */
  static async start(host: string, infoHashes: string | Iterable<string>, options: BenchTrackerOptions = {}): Promise<BenchTracker> {
    const served = new Set(typeof infoHashes === 'string' ? [infoHashes] : infoHashes);
    let port = 0;
    const registry = new TrackerRegistry({ served: (hex) => (served.has(hex) ? { selfPort: port, selfComplete: false } : null) });
    const server = http.createServer((req, res) => {
      const at = performance.now();
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(BenchTracker.answer(req, registry, () => port, at, options));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    return new BenchTracker(server, registry, host, port, served);
  }

  private static answer(req: http.IncomingMessage, registry: TrackerRegistry, port: () => number, at: number, options: BenchTrackerOptions): Buffer {
    const target = req.url ?? '';
    const mark = target.indexOf('?');
    const path = mark < 0 ? target : target.slice(0, mark);
    if (path !== '/announce' && path !== '/scrape') return encodeFailure('this tracker answers /announce and /scrape only');
    return answerTrackerRequest(req, path, mark < 0 ? '' : target.slice(mark + 1), registry, Date.now, {
      scraped: (infoHashes) => options.onScrape?.(infoHashes),
      announced: (announce, reply, selfIp) => {
        options.onAnnounce?.(announce, at);
        if (options.intervalS) reply.intervalS = options.intervalS(announce);
        reply.peers = reply.peers.filter((peer) => !(peer.ip === selfIp && peer.port === port()));
      },
    });
  }

  /** Serves these torrents too (info hashes in hex): for torrents made with this tracker's URL in them. */
  serve(infoHashes: Iterable<string>): void {
    for (const hex of infoHashes) this.served.add(hex);
  }

  /** The most connections that were open to the tracker at once since the last call (or the start). */
  takePeakConnections(): number {
    const peak = this.peakConnections;
    this.peakConnections = this.openConnections;
    return peak;
  }

  get announceUrl(): string {
    return `http://${this.host}:${this.port}/announce`;
  }

  /** The peers that announced the torrent and have not left; the only torrent served when none is named. */
  peers(infoHashHex: string = this.served.values().next().value ?? ''): TrackedPeer[] {
    return this.registry.peers(infoHashHex, Date.now());
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
