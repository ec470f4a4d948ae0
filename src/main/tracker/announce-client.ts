/**
 * The client side of the HTTP tracker protocol (BEP 3, BEP 23 compact peers, BEP 7 peers6):
 * one announce, and an Announcer that keeps a swarm announced to one tracker for as long as we
 * take part in it.
 */
import { request } from 'undici';
import { asBytes, asInteger, asList, asText, decodeBencode, isDict, type BencodeValue } from '../../io/bencode.js';
import { defaultSettings, type Settings } from '../../io/settings.js';
import { decodeCompactPeers, type PeerAddress } from './tracker-responses.js';

export type { PeerAddress } from './tracker-responses.js';

export interface AnnounceStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export type AnnounceErrorKind = 'url' | 'network' | 'timeout' | 'aborted' | 'http' | 'too-large' | 'bencode' | 'failure';

export class AnnounceError extends Error {
  /**
   * `reason` says what went wrong in words a person can act on; for kind 'failure' it is the
   * tracker's own `failure reason`, verbatim.
   */
  constructor(
    readonly reason: string,
    readonly kind: AnnounceErrorKind,
  ) {
    super(reason);
    this.name = 'AnnounceError';
  }
}

export interface AnnounceParams {
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  stats: AnnounceStats;
  event?: 'started' | 'completed' | 'stopped';
  numwant?: number;
  compact?: boolean;
}

export interface AnnounceResult {
  intervalS: number;
  minIntervalS?: number;
  peers: PeerAddress[];
  complete?: number;
  incomplete?: number;
  /** The tracker's `warning message`: the announce worked, but it has something to say. */
  warning?: string;
}

/** RFC 3986 unreserved characters pass as they are; every other byte becomes %XX. */
function percentEncodeBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const unreserved =
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The announce URL with our parameters appended after whatever query it already carries. */
export function buildAnnounceUrl(url: string, params: AnnounceParams): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AnnounceError(`tracker URL "${url}" is not a valid URL`, 'url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AnnounceError(`tracker URL "${url}" is not http or https (${parsed.protocol} trackers are not supported)`, 'url');
  }
  parsed.hash = '';
  const base = parsed.href;
  const separator = base.endsWith('?') || base.endsWith('&') ? '' : parsed.search ? '&' : '?';
  const query = [
    `info_hash=${percentEncodeBytes(params.infoHash)}`,
    `peer_id=${percentEncodeBytes(params.peerId)}`,
    `port=${params.port}`,
    `uploaded=${params.stats.uploaded}`,
    `downloaded=${params.stats.downloaded}`,
    `left=${params.stats.left}`,
    `compact=${params.compact === false ? 0 : 1}`,
  ];
  if (params.event) query.push(`event=${params.event}`);
  if (params.numwant !== undefined) query.push(`numwant=${params.numwant}`);
  return `${base}${separator}${query.join('&')}`;
}

function dictionaryPeers(list: BencodeValue[]): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const item of list) {
    if (!isDict(item)) continue;
    const ip = asText(item.ip);
    const port = asInteger(item.port);
    // One malformed entry should not cost us the rest of the list.
    if (!ip || port === undefined || port < 1 || port > 65535) continue;
    const peerId = asBytes(item['peer id']);
    peers.push(peerId ? { ip, port, peerId } : { ip, port });
  }
  return peers;
}

/** Reads a tracker's bencoded announce reply; throws AnnounceError for anything unusable. */
export function parseAnnounceResponse(body: Buffer): AnnounceResult {
  let value: BencodeValue;
  try {
    value = decodeBencode(body);
  } catch (err) {
    throw new AnnounceError(`tracker response is not valid bencode (${(err as Error).message})`, 'bencode');
  }
  if (!isDict(value)) throw new AnnounceError('tracker response is not a bencoded dictionary', 'bencode');
  const failure = asText(value['failure reason']);
  if (failure !== undefined) throw new AnnounceError(failure, 'failure');

  const intervalS = asInteger(value.interval);
  if (intervalS === undefined || intervalS < 0) {
    throw new AnnounceError('tracker response has no valid interval', 'bencode');
  }
  // Lists are joined with concat, never push(...list): a reply within the size limit can hold
  // 170 000 compact peers, more arguments than a call can take.
  let peers: PeerAddress[] = [];
  const compact = asBytes(value.peers);
  const list = asList(value.peers);
  if (compact) {
    const decoded = decodeCompactPeers(compact, 4);
    if (!decoded) throw new AnnounceError(`compact peer list of ${compact.length} bytes is not a multiple of 6`, 'bencode');
    peers = decoded;
  } else if (list) {
    peers = dictionaryPeers(list);
  } else if (value.peers !== undefined) {
    throw new AnnounceError('tracker response peers is neither a string nor a list', 'bencode');
  }
  const compact6 = asBytes(value.peers6);
  if (compact6) {
    const decoded = decodeCompactPeers(compact6, 6);
    if (!decoded) throw new AnnounceError(`compact peers6 of ${compact6.length} bytes is not a multiple of 18`, 'bencode');
    peers = peers.concat(decoded);
  }

  const result: AnnounceResult = { intervalS, peers };
  const minIntervalS = asInteger(value['min interval']);
  if (minIntervalS !== undefined) result.minIntervalS = minIntervalS;
  const complete = asInteger(value.complete);
  if (complete !== undefined) result.complete = complete;
  const incomplete = asInteger(value.incomplete);
  if (incomplete !== undefined) result.incomplete = incomplete;
  const warning = asText(value['warning message']);
  if (warning !== undefined) result.warning = warning;
  return result;
}

async function readBounded(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > limit) throw new AnnounceError(`tracker response is larger than ${limit} bytes`, 'too-large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  const detail = e.cause?.message ?? e.message ?? String(err);
  return `cannot reach tracker: ${detail}`;
}

export async function announceOnce(
  url: string,
  params: AnnounceParams,
  options: { timeoutMs?: number; signal?: AbortSignal; settings?: Pick<Settings, 'announceTimeoutMs' | 'maxTrackerResponseLength' | 'clientName'> } = {},
): Promise<AnnounceResult> {
  const target = buildAnnounceUrl(url, params);
  const settings = options.settings ?? defaultSettings;
  const timeoutMs = options.timeoutMs ?? settings.announceTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const limit = settings.maxTrackerResponseLength;

  let status: number;
  let body: Buffer;
  try {
    const response = await request(target, { method: 'GET', signal, headers: { 'user-agent': settings.clientName } });
    status = response.statusCode;
    const declared = Number(response.headers['content-length']);
    if (declared > limit) {
      response.body.destroy();
      throw new AnnounceError(`tracker response of ${declared} bytes is larger than ${limit} bytes`, 'too-large');
    }
    try {
      body = await readBounded(response.body, limit);
    } finally {
      response.body.destroy();
    }
  } catch (err) {
    if (err instanceof AnnounceError) throw err;
    if (options.signal?.aborted) throw new AnnounceError('announce cancelled', 'aborted');
    if (timeout.aborted) throw new AnnounceError(`tracker did not answer within ${timeoutMs} ms`, 'timeout');
    throw new AnnounceError(describeNetworkError(err), 'network');
  }

  if (status !== 200) {
    // Some trackers pair an error status with a bencoded reason; show it when there is one.
    let reason = '';
    try {
      const value = decodeBencode(body);
      if (isDict(value)) reason = asText(value['failure reason']) ?? '';
    } catch {
      // Not bencode: the status alone is what we have.
    }
    throw new AnnounceError(`tracker answered HTTP ${status}${reason ? `: ${reason}` : ''}`, 'http');
  }
  return parseAnnounceResponse(body);
}

export type TrackerState = 'idle' | 'announcing' | 'ok' | 'failing' | 'stopped';

export interface TrackerStatus {
  url: string;
  state: TrackerState;
  lastError?: string;
  /** Failed announces in a row; 0 once one succeeds. */
  failures: number;
  /** When the last successful announce was answered (ms since the epoch). */
  lastAnnounceAt?: number;
  nextAnnounceAt?: number;
  intervalS?: number;
  /** Peers in the last successful reply. */
  peersReceived: number;
}

export interface AnnounceFailure {
  url: string;
  reason: string;
  /** Failed announces in a row, this one included. */
  failures: number;
  /** When the next try comes. */
  retryInMs: number;
}

export interface AnnouncerOptions {
  url: string;
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  stats: () => AnnounceStats;
  /** The peer's settings: time-outs, back-off and limits where the options below name none. */
  settings?: Settings;
  onPeers: (peers: PeerAddress[]) => void;
  log?: (line: string) => void;
  /** Told of each failed announce instead of `log`, by callers that report failures as events. */
  onFailure?: (failure: AnnounceFailure) => void;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Floor for the tracker's interval, so that a tracker asking for 0 s is not hammered. */
  minIntervalMs?: number;
  timeoutMs?: number;
  /** Bound on the event=stopped announce, which runs while the program shuts down. */
  stopTimeoutMs?: number;
}

/** setTimeout fires at once for delays above 2^31-1 ms; a tracker could ask for more. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Announces a swarm to one tracker: event=started at once, then every interval the tracker
 * asks for; event=completed when the download completes; event=stopped on stop(). A failing
 * tracker is retried with exponential back-off and shown in status(); it is never fatal.
 */
export class Announcer {
  private state: TrackerState = 'idle';
  private lastError?: string;
  private failures = 0;
  private lastAnnounceAt?: number;
  private nextAnnounceAt?: number;
  private intervalS?: number;
  private peersReceived = 0;

  private timer?: NodeJS.Timeout;
  private inFlight?: { controller: AbortController; done: Promise<void> };
  /** The tracker has (or may have) recorded us, so it deserves an event=stopped. */
  private registered = false;
  private completedPending = false;
  private started = false;
  private stopping?: Promise<void>;

  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly settings: Settings;

  constructor(private readonly options: AnnouncerOptions) {
    this.settings = options.settings ?? defaultSettings;
    this.retryBaseMs = options.retryBaseMs ?? this.settings.announceRetryBaseMs;
    this.retryMaxMs = options.retryMaxMs ?? this.settings.announceRetryMaxMs;
    this.minIntervalMs = options.minIntervalMs ?? this.settings.announceMinIntervalMs;
    this.timeoutMs = options.timeoutMs ?? this.settings.announceTimeoutMs;
    this.stopTimeoutMs = options.stopTimeoutMs ?? this.settings.announceStopTimeoutMs;
  }

  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    // Not through the unref'd timer: a process with nothing else to do could exit before it fired.
    this.announce();
  }

  completed(): void {
    if (this.stopping) return;
    this.completedPending = true;
    // An announce in flight carries the old event; the completed one follows when it ends.
    if (this.started && !this.inFlight) this.announce();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  status(): TrackerStatus {
    const status: TrackerStatus = {
      url: this.options.url,
      state: this.state,
      failures: this.failures,
      peersReceived: this.peersReceived,
    };
    if (this.lastError !== undefined) status.lastError = this.lastError;
    if (this.lastAnnounceAt !== undefined) status.lastAnnounceAt = this.lastAnnounceAt;
    if (this.nextAnnounceAt !== undefined) status.nextAnnounceAt = this.nextAnnounceAt;
    if (this.intervalS !== undefined) status.intervalS = this.intervalS;
    return status;
  }

  private log(line: string): void {
    try {
      this.options.log?.(`tracker ${this.options.url}: ${line}`);
    } catch {
      // A broken log sink must not stop the announces nor escape as an unhandled rejection.
    }
  }

  private reportFailure(failure: AnnounceFailure): void {
    if (!this.options.onFailure) {
      this.log(`announce failed (${failure.failures} in a row), retrying in ${failure.retryInMs} ms: ${failure.reason}`);
      return;
    }
    try {
      this.options.onFailure(failure);
    } catch {
      // As with log: a broken sink must not stop the announces.
    }
  }

  private params(event: AnnounceParams['event']): AnnounceParams {
    const { infoHash, peerId, port } = this.options;
    return { infoHash, peerId, port, stats: this.options.stats(), event };
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    this.nextAnnounceAt = Date.now() + delay;
    this.timer = setTimeout(() => this.announce(), delay);
    // A pending re-announce is no reason for the process to stay alive.
    this.timer.unref();
  }

  private announce(): void {
    // Called directly too (start, completed): a pending re-announce must not fire after it.
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAnnounceAt = undefined;
    if (this.stopping || this.inFlight) return;
    const controller = new AbortController();
    const done = this.runAnnounce(controller.signal).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = { controller, done };
  }

  private async runAnnounce(signal: AbortSignal): Promise<void> {
    const event = this.completedPending ? 'completed' : this.registered ? undefined : 'started';
    this.state = 'announcing';
    let result: AnnounceResult;
    try {
      result = await announceOnce(this.options.url, this.params(event), { timeoutMs: this.timeoutMs, signal, settings: this.settings });
    } catch (err) {
      if (this.stopping) return;
      this.failures++;
      this.lastError = err instanceof AnnounceError ? err.reason : String(err);
      this.state = 'failing';
      const delay = Math.min(this.retryBaseMs * 2 ** (this.failures - 1), this.retryMaxMs);
      this.reportFailure({ url: this.options.url, reason: this.lastError, failures: this.failures, retryInMs: delay });
      this.schedule(delay);
      return;
    }
    this.registered = true;
    if (this.stopping) return;
    if (event === 'completed') this.completedPending = false;
    if (this.failures > 0) this.log(`announce works again after ${this.failures} failures`);
    this.failures = 0;
    this.state = 'ok';
    this.lastAnnounceAt = Date.now();
    this.intervalS = result.intervalS;
    this.peersReceived = result.peers.length;
    if (result.warning !== undefined) this.log(`warning: ${result.warning}`);
    try {
      this.options.onPeers(result.peers);
    } catch (err) {
      this.log(`peer list handler failed: ${(err as Error).message}`);
    }
    this.schedule(this.completedPending ? 0 : Math.max(result.intervalS * 1000, this.minIntervalMs));
  }

  private async shutDown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAnnounceAt = undefined;
    const inFlight = this.inFlight;
    if (inFlight) {
      // The tracker may have recorded the request we are cutting short.
      this.registered = true;
      inFlight.controller.abort();
      await inFlight.done;
    }
    if (this.registered) {
      try {
        await announceOnce(this.options.url, this.params('stopped'), { timeoutMs: this.stopTimeoutMs, settings: this.settings });
      } catch (err) {
        this.log(`event=stopped not delivered: ${err instanceof AnnounceError ? err.reason : String(err)}`);
      }
    }
    this.state = 'stopped';
  }
}
