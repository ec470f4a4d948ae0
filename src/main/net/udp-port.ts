/**
 * The one UDP socket of a peer, on the port number of its TCP port and the same host
 * (docs/architecture.md, One port per peer). Every UDP protocol shares it, told apart by a
 * datagram's first bytes (classifyPacket):
 * - a BEP 15 connect request starts with the protocol id 0x41727101980; any other request to our
 *   tracker starts with a connection id our tracker issued, and each of those has the top bit of
 *   its first byte set (CONNECTION_ID_MARK): both go to `onTrackerRequest`;
 * - a response to a request of our own tracker client starts with the 32-bit action 0 to 3 (first
 *   byte 0): it goes to whoever waits for its transaction id (expectResponse, request);
 * - a bencoded DHT message (BEP 5) starts with 'd' (0x64): it goes to `onDhtPacket` (the DHT
 *   node, src/main/dht/), or is dropped and counted while the DHT is off.
 * The three never overlap: the protocol id's first 32 bits read 0x417 (not an action), 0x64 lacks
 * the top bit, and a marked connection id starts with 0x80 or more.
 *
 * Nothing a stranger sends makes it throw: datagrams over `udpMaxPacketBytes` are dropped unread,
 * handlers' exceptions are caught and counted, and socket errors after the bind are logged.
 */
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import type { Settings } from '../../io/settings.js';
import type { Logger } from '../logger.js';
import { StartupError } from '../startup-error.js';
import { responseTransactionId } from '../tracker/udp-tracker-codec.js';
import { PROTOCOL_ID, type AddressFamily } from '../tracker/udp-tracker-packets.js';

/** Where a datagram came from; an IPv4 peer on a dual-stack socket is given as IPv4. */
export interface UdpSource {
  address: string;
  port: number;
  family: AddressFamily;
}

/** The top bit of the first byte of every connection id our UDP tracker issues. */
export const CONNECTION_ID_MARK = 0x80;
/** First byte of a bencoded dictionary: a DHT (BEP 5) message. */
export const DHT_FIRST_BYTE = 0x64;

export type UdpPacketKind = 'tracker-request' | 'tracker-response' | 'dht' | 'unknown';

/** What a datagram is, from its first bytes alone (see the top of this file). */
export function classifyPacket(data: Buffer): UdpPacketKind {
  if (data.length >= 16 && data.readBigUInt64BE(0) === PROTOCOL_ID) return 'tracker-request';
  if (data.length === 0) return 'unknown';
  if (data[0] === DHT_FIRST_BYTE) return 'dht';
  if (data.length >= 8 && data.readUInt32BE(0) <= 3) return 'tracker-response';
  if (data.length >= 16 && (data[0] & CONNECTION_ID_MARK) !== 0) return 'tracker-request';
  return 'unknown';
}

/** Datagrams received and the ones dropped, by reason. */
export interface UdpCounters {
  received: number;
  dropped: {
    /** Over udpMaxPacketBytes. */
    oversized: number;
    /** DHT messages while the DHT is off (--no-dht). */
    dht: number;
    /** Tracker requests while no tracker serves them. */
    noTracker: number;
    /** Responses whose transaction id nobody waits for (late, repeated or forged). */
    unknownTransaction: number;
    /** Responses with an awaited transaction id from another address than the request went to. */
    wrongSource: number;
    /** Datagrams of no protocol we know. */
    unrecognized: number;
    /** Datagrams whose handler threw. */
    handlerError: number;
  };
}

export type ResponseHandler = (packet: Buffer, from: UdpSource) => void;

interface Awaited {
  handler: ResponseHandler;
  from?: { address: string; port: number };
}

export interface UdpPortOptions {
  log: Logger;
  settings: Pick<Settings, 'udpMaxPacketBytes'>;
}

function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export class UdpPort {
  /** Called with every tracker request (the packet, its source); null drops them (counted). */
  onTrackerRequest: ((packet: Buffer, from: UdpSource) => void) | null = null;
  /** Called with every DHT message (the packet, its source); null drops them (counted). */
  onDhtPacket: ((packet: Buffer, from: UdpSource) => void) | null = null;
  readonly counters: UdpCounters = {
    received: 0,
    dropped: { oversized: 0, dht: 0, noTracker: 0, unknownTransaction: 0, wrongSource: 0, unrecognized: 0, handlerError: 0 },
  };
  private readonly awaited = new Map<number, Awaited>();
  /** request() calls in flight, rejected when the port closes. */
  private readonly inFlight = new Set<(error: Error) => void>();
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: UdpPortOptions,
  ) {
    socket.on('message', (data, rinfo) => this.receive(data, rinfo));
    socket.on('error', (error) => options.log.debug(`UDP port: ${error.message}`));
  }

  /**
   * Binds the UDP port `port` on `host` (all IPv4 interfaces when undefined, like the TCP port).
   * A busy port or a bad address is a StartupError with a clear reason.
   */
  static open(port: number, host: string | undefined, options: UdpPortOptions): Promise<UdpPort> {
    const address = host ?? '0.0.0.0';
    const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        socket.close();
        const where = `${address}:${port}`;
        if (error.code === 'EADDRINUSE') reject(new StartupError(`UDP port ${port} is already in use (${where}); choose another with --port`));
        else if (error.code === 'EADDRNOTAVAIL') reject(new StartupError(`${host} is not an address of this machine (--host)`));
        else if (error.code === 'EACCES') reject(new StartupError(`not allowed to bind UDP ${where}; choose a port above 1023 with --port`));
        else reject(new StartupError(`cannot bind UDP ${where}: ${error.message}`));
      };
      socket.once('error', onError);
      socket.bind({ port, address, exclusive: true }, () => {
        socket.off('error', onError);
        resolve(new UdpPort(socket, options));
      });
    });
  }

  /** The bound port and the family of the socket. */
  get port(): number {
    return this.socket.address().port;
  }

  get family(): AddressFamily {
    return this.socket.address().family === 'IPv6' ? 'IPv6' : 'IPv4';
  }

  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    this.counters.received++;
    const dropped = this.counters.dropped;
    if (data.length > this.options.settings.udpMaxPacketBytes) {
      dropped.oversized++;
      return;
    }
    const address = unmapIpv4(rinfo.address);
    const from: UdpSource = { address, port: rinfo.port, family: isIPv4(address) ? 'IPv4' : 'IPv6' };
    try {
      switch (classifyPacket(data)) {
        case 'tracker-request':
          if (this.onTrackerRequest) this.onTrackerRequest(data, from);
          else dropped.noTracker++;
          return;
        case 'tracker-response':
          return this.route(data, from);
        case 'dht':
          if (this.onDhtPacket) this.onDhtPacket(data, from);
          else dropped.dht++;
          return;
        case 'unknown':
          dropped.unrecognized++;
          return;
      }
    } catch (error) {
      dropped.handlerError++;
      this.options.log.debug(`UDP port: a datagram from ${address}:${rinfo.port} made its handler fail: ${(error as Error).message}`);
    }
  }

  private route(data: Buffer, from: UdpSource): void {
    const id = responseTransactionId(data)!;
    const awaited = this.awaited.get(id);
    if (!awaited) {
      this.counters.dropped.unknownTransaction++;
      return;
    }
    if (awaited.from && (unmapIpv4(awaited.from.address) !== from.address || awaited.from.port !== from.port)) {
      this.counters.dropped.wrongSource++;
      return;
    }
    this.awaited.delete(id);
    awaited.handler(data, from);
  }

  /** A transaction id that nobody waits for now (random, as BEP 15 asks). */
  newTransactionId(): number {
    for (;;) {
      const id = (Math.random() * 0x1_0000_0000) >>> 0;
      if (!this.awaited.has(id)) return id;
    }
  }

  /**
   * Hands the next response with `transactionId` (from `from` only, when given: the address a
   * request went to, as an IP address) to `handler`, once. Returns a function that stops waiting.
   */
  expectResponse(transactionId: number, handler: ResponseHandler, from?: { address: string; port: number }): () => void {
    const entry: Awaited = { handler, from };
    this.awaited.set(transactionId, entry);
    return () => {
      if (this.awaited.get(transactionId) === entry) this.awaited.delete(transactionId);
    };
  }

  /** Transactions waited for now. */
  get awaitedCount(): number {
    return this.awaited.size;
  }

  /**
   * Sends one datagram. Resolves once it left, rejects when it could not be sent (a host name
   * that does not resolve, an unreachable network, the port closed).
   */
  send(packet: Buffer, port: number, host: string): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the UDP port is closed'));
    // A dual-stack socket reaches IPv4 hosts at their mapped address.
    const to = this.family === 'IPv6' && isIPv4(host) ? `::ffff:${host}` : host;
    return new Promise((resolve, reject) => {
      try {
        this.socket.send(packet, port, to, (error) => (error ? reject(error) : resolve()));
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  /**
   * Sends `packet` (whose transaction id is `transactionId`) to `host`:`port` and resolves with
   * the first response to it, or rejects after `timeoutMs` or when the send fails. One try: BEP
   * 15's retransmissions are the caller's. With `host` an IP address, only a response from it counts.
   */
  request(packet: Buffer, transactionId: number, port: number, host: string, timeoutMs: number): Promise<{ packet: Buffer; from: UdpSource }> {
    return new Promise((resolve, reject) => {
      // Sources are reported in canonical form (2001:db8::1), so an IPv6 host is compared in that form.
      const canonical = isIPv6(host) ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
      const expectFrom = isIPv4(host) || isIPv6(host) ? { address: canonical, port } : undefined;
      const finish = (): void => {
        clearTimeout(timer);
        stopWaiting();
        this.inFlight.delete(fail);
      };
      const fail = (error: Error): void => {
        finish();
        reject(error);
      };
      const stopWaiting = this.expectResponse(
        transactionId,
        (response, from) => {
          finish();
          resolve({ packet: response, from });
        },
        expectFrom,
      );
      const timer = setTimeout(() => fail(new Error(`no response from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      this.inFlight.add(fail);
      this.send(packet, port, host).catch(fail);
    });
  }

  /** Closes the socket; requests in flight are rejected. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const fail of [...this.inFlight]) fail(new Error('the UDP port closed'));
      this.awaited.clear();
      this.onTrackerRequest = null;
      this.onDhtPacket = null;
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.closing;
  }
}
