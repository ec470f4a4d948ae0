/**
 * The client side of the UDP tracker protocol (BEP 15), over the peer's one UDP port
 * (net/udp-port.ts): connect, then announce (with the URL's path and query as BEP 41 URL data)
 * or scrape. Packets are the codec's (udp-tracker-codec.ts).
 *
 * - A connection id is kept per tracker (host and port) and per UDP port, and used for
 *   `udpConnectionIdLifetimeMs` (BEP 15: one minute) by every swarm; after that, a new connect.
 * - A request unanswered after `udpTrackerRetryBaseMs` * 2^n is sent again, n from 0 up to
 *   `udpTrackerMaxRetries` (15 s * 2^8 with the defaults); a valid answer sets n back to 0. When
 *   the connection id runs out while an announce waits, the client connects again.
 * - Transaction ids are random, one per request, kept through its retransmissions so that a late
 *   answer to an earlier copy still counts.
 * - What a stranger (or a broken tracker) sends is never a crash: an answer that does not decode
 *   (truncated, unknown action), carries another transaction id or another action than the one
 *   asked is ignored and the wait goes on; an error packet (action 3) ends the request with the
 *   tracker's message as its error.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { defaultSettings, type Settings } from '../../io/settings.js';
import type { UdpSource } from '../net/udp-port.js';
import {
  AnnounceError,
  type AnnounceParams,
  type AnnounceResult,
  type ScrapeCounts,
  type TrackerCallOptions,
  type TrackerProtocol,
} from './tracker-protocol.js';
import type { AnnounceEvent } from './tracker-query.js';
import { decodeResponse, encodeRequest } from './udp-tracker-codec.js';
import { MAX_SCRAPE_INFO_HASHES, type UdpAnnounceResponse, type UdpConnectResponse, type UdpScrapeResponse, type UdpTrackerRequest } from './udp-tracker-packets.js';
import { parseUdpTrackerUrl, type UdpTrackerTarget } from './udp-tracker-url.js';

/** What the client needs of the UDP port: UdpPort has it; tests give a fake. */
export interface UdpTransport {
  newTransactionId(): number;
  /** Hands the next response with `transactionId` (from `from` only, when given) to `handler`, once; returns a function that stops waiting. */
  expectResponse(transactionId: number, handler: (packet: Buffer, from: UdpSource) => void, from?: { address: string; port: number }): () => void;
  send(packet: Buffer, port: number, host: string): Promise<void>;
}

export type UdpTrackerSettings = Pick<Settings, 'udpTrackerRetryBaseMs' | 'udpTrackerMaxRetries' | 'udpConnectionIdLifetimeMs'>;

export interface UdpTrackerOptions {
  /** The peer's UDP port; null when it has none (every call then fails, saying so). */
  transport: UdpTransport | null;
  settings?: UdpTrackerSettings;
  /** The time, for the age of connection ids (Date.now by default). */
  now?: () => number;
}

interface CachedConnection {
  id: bigint;
  receivedAt: number;
}

/** Connection ids by UDP port, then by tracker "host:port": shared by every swarm of a peer. */
const connections = new WeakMap<UdpTransport, Map<string, CachedConnection>>();

function connectionsOf(transport: UdpTransport): Map<string, CachedConnection> {
  let map = connections.get(transport);
  if (!map) connections.set(transport, (map = new Map()));
  return map;
}

const EVENTS: Record<NonNullable<AnnounceParams['event']> | 'none', AnnounceEvent> = {
  none: 'empty',
  started: 'started',
  completed: 'completed',
  stopped: 'stopped',
};

type Expected = 'connect' | 'announce' | 'scrape';
type ResponseOf<A extends Expected> = A extends 'connect' ? UdpConnectResponse : A extends 'announce' ? UdpAnnounceResponse : UdpScrapeResponse;

/** Thrown inside an exchange when the connection id ran out while a request waited: connect again. */
class ConnectionExpired extends Error {}

/** One call (an announce or a scrape): its retransmission count, deadline and cancellation. */
interface CallState {
  /** BEP 15's n: the next wait is base * 2^n. */
  n: number;
  /** Date.now()-based end of the call, Infinity when only the retransmissions bound it. */
  deadline: number;
  deadlineMs?: number;
  signal?: AbortSignal;
  /** Why the last answer was ignored, for the error when nothing usable came. */
  ignored?: string;
}

export class UdpTrackerClient implements TrackerProtocol {
  private readonly target: UdpTrackerTarget | { error: string };
  private readonly settings: UdpTrackerSettings;
  private readonly now: () => number;
  /** BEP 15's key: lets the tracker recognize us if our address changes. One per client. */
  private readonly key = randomInt(0, 2 ** 32);

  constructor(
    readonly url: string,
    private readonly options: UdpTrackerOptions,
  ) {
    const parsed = parseUdpTrackerUrl(url);
    this.target = parsed.ok ? parsed.packet : { error: parsed.reason };
    this.settings = options.settings ?? defaultSettings;
    this.now = options.now ?? Date.now;
  }

  async announce(params: AnnounceParams, options: TrackerCallOptions = {}): Promise<AnnounceResult> {
    const response = await this.call('announce', options, (connectionId, transactionId) => ({
      action: 'announce',
      connectionId,
      transactionId,
      infoHash: params.infoHash,
      peerId: params.peerId,
      downloaded: params.stats.downloaded,
      left: params.stats.left,
      uploaded: params.stats.uploaded,
      event: EVENTS[params.event ?? 'none'],
      ip: 0,
      key: this.key,
      numWant: params.numwant ?? -1,
      port: params.port,
      urlData: (this.target as UdpTrackerTarget).urlData,
    }));
    return { intervalS: response.intervalS, peers: response.peers, complete: response.seeders, incomplete: response.leechers };
  }

  readonly maxScrapeInfoHashes = MAX_SCRAPE_INFO_HASHES;

  /** BEP 15 answers each torrent asked in the same order; a shorter answer leaves the last ones without counts. */
  scrape = async (infoHashes: readonly Buffer[], options: TrackerCallOptions = {}): Promise<(ScrapeCounts | undefined)[]> => {
    const response = await this.call('scrape', options, (connectionId, transactionId) => ({ action: 'scrape', connectionId, transactionId, infoHashes }));
    return infoHashes.map((_, i) => {
      const counts = response.files[i];
      return counts && { seeders: counts.seeders, leechers: counts.leechers, completed: counts.completed };
    });
  };

  /** A connect (unless a fresh id is cached), then the request `make` builds, until answered, failed or given up. */
  private async call<A extends 'announce' | 'scrape'>(
    action: A,
    options: TrackerCallOptions,
    make: (connectionId: bigint, transactionId: number) => UdpTrackerRequest,
  ): Promise<ResponseOf<A>> {
    if ('error' in this.target) throw new AnnounceError(this.target.error, 'url');
    const transport = this.options.transport;
    if (!transport) throw new AnnounceError('this peer has no UDP port to reach a udp:// tracker', 'network');
    const state: CallState = {
      n: 0,
      deadline: options.deadlineMs === undefined ? Infinity : Date.now() + options.deadlineMs,
      deadlineMs: options.deadlineMs,
      signal: options.signal,
    };
    for (;;) {
      const connection = await this.connection(transport, this.target, state);
      try {
        return await this.exchange(transport, this.target, action, state, (transactionId) => make(connection.id, transactionId), connection);
      } catch (error) {
        if (!(error instanceof ConnectionExpired)) throw error;
        // The id ran out while we waited: forget it (unless another call already replaced it) and connect again.
        const cache = connectionsOf(transport);
        const key = `${this.target.host}:${this.target.port}`;
        if (cache.get(key) === connection) cache.delete(key);
      }
    }
  }

  private async connection(transport: UdpTransport, target: UdpTrackerTarget, state: CallState): Promise<CachedConnection> {
    const cache = connectionsOf(transport);
    const key = `${target.host}:${target.port}`;
    const cached = cache.get(key);
    if (cached && this.now() - cached.receivedAt < this.settings.udpConnectionIdLifetimeMs) return cached;
    const response = await this.exchange(transport, target, 'connect', state, (transactionId) => ({ action: 'connect', transactionId }));
    const fresh = { id: response.connectionId, receivedAt: this.now() };
    cache.set(key, fresh);
    return fresh;
  }

  /**
   * Sends one request and its retransmissions until an answer of the `expected` action comes. With
   * `connection`, a retransmission first checks that the connection id is still fresh, and throws
   * ConnectionExpired when it is not.
   */
  private async exchange<A extends Expected>(
    transport: UdpTransport,
    target: UdpTrackerTarget,
    expected: A,
    state: CallState,
    make: (transactionId: number) => UdpTrackerRequest,
    connection?: CachedConnection,
  ): Promise<ResponseOf<A>> {
    const transactionId = transport.newTransactionId();
    const packet = encodeRequest(make(transactionId));
    const from = isIP(target.host) !== 0 ? { address: target.host, port: target.port } : undefined;
    for (let first = true; ; first = false) {
      if (!first && connection && this.now() - connection.receivedAt >= this.settings.udpConnectionIdLifetimeMs) throw new ConnectionExpired();
      if (state.signal?.aborted) throw new AnnounceError('announce cancelled', 'aborted');
      const remaining = state.deadline - Date.now();
      if (remaining <= 0) throw this.giveUp(state, `the tracker did not answer within ${state.deadlineMs} ms`);
      const waitMs = Math.min(this.settings.udpTrackerRetryBaseMs * 2 ** state.n, remaining);
      try {
        await transport.send(packet, target.port, target.host);
      } catch (error) {
        throw new AnnounceError(`cannot reach tracker: ${(error as Error).message}`, 'network');
      }
      const answer = await this.waitFor(transport, transactionId, expected, waitMs, state, from);
      if (answer) {
        state.n = 0;
        return answer;
      }
      if (state.n >= this.settings.udpTrackerMaxRetries) {
        throw this.giveUp(state, `the tracker did not answer (${state.n + 1} tries, BEP 15 retransmissions)`);
      }
      state.n++;
    }
  }

  private giveUp(state: CallState, why: string): AnnounceError {
    return new AnnounceError(state.ignored ? `${why}; its last answer was unusable: ${state.ignored}` : why, 'timeout');
  }

  /** The answer of the `expected` action to `transactionId` within `waitMs`, or null; an error packet rejects. */
  private waitFor<A extends Expected>(
    transport: UdpTransport,
    transactionId: number,
    expected: A,
    waitMs: number,
    state: CallState,
    from: { address: string; port: number } | undefined,
  ): Promise<ResponseOf<A> | null> {
    return new Promise((resolve, reject) => {
      let stopWaiting = (): void => undefined;
      const finish = (): void => {
        clearTimeout(timer);
        stopWaiting();
        state.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(new AnnounceError('announce cancelled', 'aborted'));
      };
      const listen = (): void => {
        stopWaiting = transport.expectResponse(transactionId, onPacket, from);
      };
      const onPacket = (data: Buffer, source: UdpSource): void => {
        const decoded = decodeResponse(data, source.family);
        if (!decoded.ok) {
          state.ignored = decoded.reason;
          return listen();
        }
        const response = decoded.packet;
        if (response.transactionId !== transactionId) {
          state.ignored = `transaction id ${response.transactionId}, not ${transactionId}`;
          return listen();
        }
        if (response.action === 'error') {
          finish();
          return reject(new AnnounceError(response.message === '' ? 'the tracker answered with an error and no message' : response.message, 'failure'));
        }
        if (response.action !== expected) {
          state.ignored = `a ${response.action} answer to a ${expected} request`;
          return listen();
        }
        finish();
        resolve(response as ResponseOf<A>);
      };
      const timer = setTimeout(() => {
        finish();
        resolve(null);
      }, waitMs);
      timer.unref?.();
      state.signal?.addEventListener('abort', onAbort, { once: true });
      listen();
    });
  }
}

/** A udp:// tracker as a TrackerProtocol. */
export function udpTracker(url: string, options: UdpTrackerOptions): TrackerProtocol {
  return new UdpTrackerClient(url, options);
}
