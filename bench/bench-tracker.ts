/**
 * The tracker of a reference pair: our tracker's code (query parsing, TrackerRegistry, replies)
 * in an HTTP server of the benchmark's own, serving one torrent. It is no peer of the swarm, so
 * the pair under test moves every byte between themselves; the registry's entry for the peer
 * that runs a tracker (itself, here) is left out of the replies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isTrackerFailure, parseAnnounceRequest, parseQueryString, unwrapMappedIpv4 } from '../src/main/tracker/tracker-query.js';
import { TrackerRegistry, type TrackedPeer } from '../src/main/tracker/tracker-registry.js';
import { encodeAnnounceReply, encodeFailure } from '../src/main/tracker/tracker-responses.js';

export class BenchTracker {
  private constructor(
    private readonly server: http.Server,
    private readonly registry: TrackerRegistry,
    readonly host: string,
    readonly port: number,
    private readonly infoHashHex: string,
  ) {}

  /** Listens on `host` (a free port) for announces of the torrent with info hash `infoHashHex`. */
  static async start(host: string, infoHashHex: string): Promise<BenchTracker> {
    let port = 0;
    const registry = new TrackerRegistry({ served: (hex) => (hex === infoHashHex ? { selfPort: port, selfComplete: false } : null) });
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(BenchTracker.answer(req, registry, () => port));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    return new BenchTracker(server, registry, host, port, infoHashHex);
  }

  private static answer(req: http.IncomingMessage, registry: TrackerRegistry, port: () => number): Buffer {
    const target = req.url ?? '';
    const mark = target.indexOf('?');
    if ((mark < 0 ? target : target.slice(0, mark)) !== '/announce') return encodeFailure('this tracker answers /announce only');
    const query = parseQueryString(mark < 0 ? '' : target.slice(mark + 1));
    if (isTrackerFailure(query)) return encodeFailure(query.failure);
    const { remoteAddress, localAddress } = req.socket;
    if (remoteAddress === undefined || localAddress === undefined) return encodeFailure('connection closed before the announce could be read');
    const announce = parseAnnounceRequest(query, remoteAddress);
    if (isTrackerFailure(announce)) return encodeFailure(announce.failure);
    const self = unwrapMappedIpv4(localAddress);
    const reply = registry.announce(announce, self, Date.now());
    if (isTrackerFailure(reply)) return encodeFailure(reply.failure);
    reply.peers = reply.peers.filter((peer) => !(peer.ip === self && peer.port === port()));
    return encodeAnnounceReply(reply, { compact: announce.compact, noPeerId: announce.noPeerId });
  }

  get announceUrl(): string {
    return `http://${this.host}:${this.port}/announce`;
  }

  /** The peers that announced and have not left. */
  peers(): TrackedPeer[] {
    return this.registry.peers(this.infoHashHex, Date.now());
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
