/**
 * The UDP face of our tracker (BEP 15) on the peer's UDP port, over the very TrackerRegistry the
 * HTTP face (tracker-http.ts) uses: a client announcing over UDP and one announcing over HTTP
 * see each other, and the swarms served are the same.
 *
 * Connection ids cannot be guessed by a spoofer: each is a keyed hash (HMAC-SHA256, a random key
 * drawn at start) of the client's address, port and a time slot, accepted in its slot and the
 * next, so it lives one to two minutes with the default slot (BEP 15: a client may use an id for
 * a minute after receiving it). The tracker keeps no state per client.
 *
 * What is answered and what is dropped: a connect request is always answered (16 bytes for 16,
 * so nothing to amplify). An announce or scrape whose connection id is not one we gave to that
 * address and port is dropped silently, as opentracker does: answering would let anyone who
 * forges a source address aim our replies at a third party. A request with a valid id that we
 * refuse (a torrent not served, port 0, a malformed body) gets an error packet with the reason.
 * A malformed packet without a valid id is dropped. Each packet costs a bounded amount of work:
 * at most two hashes to check its id, a scrape names at most 74 torrents, a reply fits
 * `udpMaxPacketBytes`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { defaultSettings, type Settings } from '../../io/settings.js';
import type { UdpSource } from '../net/udp-port.js';
import { CONNECTION_ID_MARK } from '../net/udp-port.js';
import type { AnnounceRequest } from './tracker-query.js';
import { isTrackerFailure } from './tracker-query.js';
import type { TrackerRegistry } from './tracker-registry.js';
import { decodeRequest, encodeResponse } from './udp-tracker-codec.js';
import {
  peerEntryLength,
  RequestOffset,
  ResponseOffset,
  type UdpAnnounceRequest,
  type UdpScrapeRequest,
  type UdpTrackerResponse,
} from './udp-tracker-packets.js';

export type UdpTrackerSettings = Pick<
  Settings,
  'udpConnectionIdSlotMs' | 'udpMaxPacketBytes' | 'udpMaxErrorMessageBytes' | 'trackerDefaultNumwant' | 'trackerMaxNumwant'
>;

export interface UdpTrackerServerOptions {
  registry: TrackerRegistry;
  /** Sends a reply to where its request came from; errors are the sender's to swallow. */
  send: (packet: Buffer, to: UdpSource) => void;
  /** Our address as the client at `from` reaches it: how the registry lists us (see selfAddressFor). */
  selfIp: (from: UdpSource) => string;
  /** The tracker's time: the same clock as the HTTP face's, since both share the registry. */
  now?: () => number;
  settings?: UdpTrackerSettings;
  /** The key of the connection ids; random unless a test gives one. */
  secret?: Buffer;
}

export interface UdpTrackerCounters {
  connects: number;
  announces: number;
  scrapes: number;
  /** Error packets sent. */
  errors: number;
  dropped: {
    /** Announces and scrapes with a connection id we did not give to their source, or that expired. */
    badConnectionId: number;
    /** Malformed packets from a source without a valid connection id. */
    malformed: number;
  };
}

/** Our address for a client at `from`: loopback for a client on loopback, else `host` (the address peers reach us at). */
export function selfAddressFor(from: UdpSource, host: string): string {
  if (from.family === 'IPv4' && from.address.startsWith('127.')) return '127.0.0.1';
  if (from.family === 'IPv6' && from.address === '::1') return '::1';
  return host;
}

export class UdpTrackerServer {
  readonly counters: UdpTrackerCounters = { connects: 0, announces: 0, scrapes: 0, errors: 0, dropped: { badConnectionId: 0, malformed: 0 } };
  private readonly secret: Buffer;
  private readonly settings: UdpTrackerSettings;
  private readonly now: () => number;

  constructor(private readonly options: UdpTrackerServerOptions) {
    this.secret = options.secret ?? randomBytes(32);
    this.settings = options.settings ?? defaultSettings;
    this.now = options.now ?? Date.now;
  }

  /** Answers (or drops) one datagram that the UDP port classified as a tracker request. Never throws on its content. */
  handle(packet: Buffer, from: UdpSource): void {
    const decoded = decodeRequest(packet);
    if (!decoded.ok) {
      // Only a client that proved its address gets told why: the connection id sits where every request has it.
      if (packet.length >= 16 && this.validConnectionId(packet.subarray(0, 8), from)) {
        this.sendError(packet.readUInt32BE(RequestOffset.transactionId), decoded.reason, from);
      } else {
        this.counters.dropped.malformed++;
      }
      return;
    }
    const request = decoded.packet;
    if (request.action === 'connect') {
      this.counters.connects++;
      this.reply({ action: 'connect', transactionId: request.transactionId, connectionId: this.connectionIdFor(from) }, from);
      return;
    }
    if (!this.validConnectionId(packet.subarray(0, 8), from)) {
      this.counters.dropped.badConnectionId++;
      return;
    }
    if (request.action === 'announce') this.announce(request, from);
    else this.scrape(request, from);
  }

  /** The connection id we give to a client at `from` at time `now` (top bit of its first byte set: CONNECTION_ID_MARK). */
  connectionIdFor(from: UdpSource, now = this.now()): bigint {
    return this.idBytes(from, Math.floor(now / this.settings.udpConnectionIdSlotMs)).readBigUInt64BE(0);
  }

  private idBytes(from: UdpSource, slot: number): Buffer {
    const id = createHmac('sha256', this.secret).update(`${slot}|${from.family}|${from.address}|${from.port}`).digest().subarray(0, 8);
    id[0] |= CONNECTION_ID_MARK;
    return id;
  }

  /** Whether `id` (8 bytes) is one we gave to `from` in this slot or the one before. */
  private validConnectionId(id: Buffer, from: UdpSource): boolean {
    if ((id[0] & CONNECTION_ID_MARK) === 0) return false;
    const slot = Math.floor(this.now() / this.settings.udpConnectionIdSlotMs);
    return timingSafeEqual(id, this.idBytes(from, slot)) || timingSafeEqual(id, this.idBytes(from, slot - 1));
  }

  private announce(request: UdpAnnounceRequest, from: UdpSource): void {
    this.counters.announces++;
    if (request.port === 0) return this.sendError(request.transactionId, 'invalid port 0: announce the port you listen on', from);
    const numwant = request.numWant < 0 ? this.settings.trackerDefaultNumwant : Math.min(request.numWant, this.settings.trackerMaxNumwant);
    const announce: AnnounceRequest = {
      infoHash: request.infoHash,
      peerId: request.peerId,
      // The packet's source, never the ip field, which anyone could forge (as with HTTP's `ip`).
      ip: from.address,
      port: request.port,
      uploaded: request.uploaded,
      downloaded: request.downloaded,
      left: request.left,
      event: request.event,
      compact: true,
      noPeerId: true,
      numwant,
    };
    const reply = this.options.registry.announce(announce, this.options.selfIp(from), this.now());
    if (isTrackerFailure(reply)) return this.sendError(request.transactionId, reply.failure, from);
    // BEP 15: the peers are of the request's address family, and the reply must fit one datagram.
    const fits = Math.floor((this.settings.udpMaxPacketBytes - ResponseOffset.peers) / peerEntryLength(from.family));
    const sameFamily = reply.peers.filter((peer) => isIPv4(peer.ip) === (from.family === 'IPv4'));
    this.reply(
      {
        action: 'announce',
        transactionId: request.transactionId,
        intervalS: reply.intervalS,
        leechers: reply.incomplete,
        seeders: reply.complete,
        peers: sameFamily.slice(0, fits).map(({ ip, port }) => ({ ip, port })),
      },
      from,
    );
  }

  private scrape(request: UdpScrapeRequest, from: UdpSource): void {
    this.counters.scrapes++;
    const found = new Map(this.options.registry.scrape(request.infoHashes, this.now()).files.map((file) => [file.infoHash.toString('hex'), file]));
    // One entry per info hash asked, in order: zeros for a torrent we do not serve.
    const files = request.infoHashes.map((hash) => {
      const file = found.get(hash.toString('hex'));
      return { seeders: file?.complete ?? 0, completed: file?.downloaded ?? 0, leechers: file?.incomplete ?? 0 };
    });
    this.reply({ action: 'scrape', transactionId: request.transactionId, files }, from);
  }

  private sendError(transactionId: number, reason: string, from: UdpSource): void {
    this.counters.errors++;
    const message = Buffer.from(reason, 'utf8').subarray(0, this.settings.udpMaxErrorMessageBytes).toString('utf8');
    this.reply({ action: 'error', transactionId, message }, from);
  }

  private reply(response: UdpTrackerResponse, to: UdpSource): void {
    this.options.send(encodeResponse(response, to.family), to);
  }
}
