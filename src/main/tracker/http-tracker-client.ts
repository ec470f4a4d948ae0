/**
 * The HTTP side of the tracker client: the announce (BEP 3, BEP 23 compact peers, BEP 7 peers6)
 * and the scrape of several torrents at once (BEP 48, its URL derived from the announce URL),
 * each one bounded GET with undici, and `httpTracker`, the TrackerProtocol the Announcer uses for
 * http:// and https:// URLs.
 */
import { request } from 'undici';
import { asBytes, asInteger, asList, asText, decodeBencode, isDict, type BencodeDict, type BencodeValue } from '../../io/bencode.js';
import { defaultSettings, type Settings } from '../../io/settings.js';
import {
  AnnounceError,
  type AnnounceParams,
  type AnnounceResult,
  type ScrapeCounts,
  type TrackerCallOptions,
  type TrackerProtocol,
} from './tracker-protocol.js';
import { decodeCompactPeers, type PeerAddress } from './tracker-responses.js';

export type HttpTrackerSettings = Pick<Settings, 'announceTimeoutMs' | 'maxTrackerResponseLength' | 'clientName'>;

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

/**
 * The dictionary of a tracker's bencoded reply (`what`: "tracker response", "scrape response");
 * throws AnnounceError when it is not one, or carries a `failure reason`.
 */
function replyDictionary(body: Buffer, what: string): BencodeDict {
  let value: BencodeValue;
  try {
    value = decodeBencode(body);
  } catch (err) {
    throw new AnnounceError(`${what} is not valid bencode (${(err as Error).message})`, 'bencode');
  }
  if (!isDict(value)) throw new AnnounceError(`${what} is not a bencoded dictionary`, 'bencode');
  const failure = asText(value['failure reason']);
  if (failure !== undefined) throw new AnnounceError(failure, 'failure');
  return value;
}

/** Reads a tracker's bencoded announce reply; throws AnnounceError for anything unusable. */
export function parseAnnounceResponse(body: Buffer): AnnounceResult {
  const value = replyDictionary(body, 'tracker response');

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

interface GetOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  settings?: HttpTrackerSettings;
}

/** One GET to a tracker, its body bounded; every failure an AnnounceError. */
async function trackerGet(target: string, options: GetOptions): Promise<{ status: number; body: Buffer }> {
  const settings = options.settings ?? defaultSettings;
  const timeoutMs = options.timeoutMs ?? settings.announceTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const limit = settings.maxTrackerResponseLength;
  try {
    const response = await request(target, { method: 'GET', signal, headers: { 'user-agent': settings.clientName } });
    const declared = Number(response.headers['content-length']);
    if (declared > limit) {
      response.body.destroy();
      throw new AnnounceError(`tracker response of ${declared} bytes is larger than ${limit} bytes`, 'too-large');
    }
    try {
      return { status: response.statusCode, body: await readBounded(response.body, limit) };
    } finally {
      response.body.destroy();
    }
  } catch (err) {
    if (err instanceof AnnounceError) throw err;
    if (options.signal?.aborted) throw new AnnounceError('announce cancelled', 'aborted');
    if (timeout.aborted) throw new AnnounceError(`tracker did not answer within ${timeoutMs} ms`, 'timeout');
    throw new AnnounceError(describeNetworkError(err), 'network');
  }
}

/** A non-200 answer as an error: some trackers pair the status with a bencoded reason, shown when there is one. */
function httpStatusError(status: number, body: Buffer): AnnounceError {
  let reason = '';
  try {
    const value = decodeBencode(body);
    if (isDict(value)) reason = asText(value['failure reason']) ?? '';
  } catch {
    // Not bencode: the status alone is what we have.
  }
  return new AnnounceError(`tracker answered HTTP ${status}${reason ? `: ${reason}` : ''}`, 'http');
}

export async function announceOnce(url: string, params: AnnounceParams, options: GetOptions = {}): Promise<AnnounceResult> {
  const { status, body } = await trackerGet(buildAnnounceUrl(url, params), options);
  if (status !== 200) throw httpStatusError(status, body);
  return parseAnnounceResponse(body);
}

/**
 * The scrape URL of an announce URL (BEP 48): the last component of its path must start with
 * "announce", which becomes "scrape" (`/x/announce.php?k=1` gives `/x/scrape.php?k=1`); any other
 * path means the tracker does not follow the convention, and undefined is returned.
 */
export function scrapeUrlOf(announceUrl: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(announceUrl);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const slash = parsed.pathname.lastIndexOf('/');
  const last = parsed.pathname.slice(slash + 1);
  if (!last.startsWith('announce')) return undefined;
  parsed.pathname = `${parsed.pathname.slice(0, slash + 1)}scrape${last.slice('announce'.length)}`;
  parsed.hash = '';
  return parsed.href;
}

/** The scrape URL with our info hashes appended (BEP 48: one `info_hash` each) after whatever query it already carries. */
export function buildScrapeUrl(scrapeUrl: string, infoHashes: readonly Buffer[]): string {
  const separator = scrapeUrl.endsWith('?') || scrapeUrl.endsWith('&') ? '' : scrapeUrl.includes('?') ? '&' : '?';
  return `${scrapeUrl}${separator}${infoHashes.map((hash) => `info_hash=${percentEncodeBytes(hash)}`).join('&')}`;
}

/**
 * Reads a scrape reply (BEP 48): the counts of each torrent of `infoHashes`, in that order;
 * undefined for one the reply does not list (a tracker may cut a long scrape short) or lists with
 * an entry that is not a dictionary, which costs the others nothing. A reply that is unusable as
 * a whole throws an AnnounceError.
 */
export function parseScrapeResponse(body: Buffer, infoHashes: readonly Buffer[]): (ScrapeCounts | undefined)[] {
  const value = replyDictionary(body, 'scrape response');
  const files = value.files;
  if (!isDict(files)) throw new AnnounceError('scrape response has no files dictionary', 'bencode');
  const count = (v: BencodeValue | undefined): number => Math.max(0, asInteger(v) ?? 0);
  return infoHashes.map((hash) => {
    const entry = files[hash.toString('latin1')];
    if (!isDict(entry)) return undefined;
    return { seeders: count(entry.complete), leechers: count(entry.incomplete), completed: count(entry.downloaded) };
  });
}

/** One scrape GET for several torrents: their counts in the order asked, as parseScrapeResponse reads them. */
export async function scrapeMany(scrapeUrl: string, infoHashes: readonly Buffer[], options: GetOptions = {}): Promise<(ScrapeCounts | undefined)[]> {
  const { status, body } = await trackerGet(buildScrapeUrl(scrapeUrl, infoHashes), options);
  if (status !== 200) throw httpStatusError(status, body);
  return parseScrapeResponse(body, infoHashes);
}

/** The counts of one torrent (for tests and tools); a reply that does not list it is an error. */
export async function scrapeOnce(scrapeUrl: string, infoHash: Buffer, options: GetOptions = {}): Promise<ScrapeCounts> {
  const [counts] = await scrapeMany(scrapeUrl, [infoHash], options);
  if (!counts) throw new AnnounceError(`the scrape reply of ${scrapeUrl} does not list torrent ${infoHash.toString('hex')}`, 'bencode');
  return counts;
}

/** An http:// or https:// tracker as a TrackerProtocol; `timeoutMs` bounds each request (settings.announceTimeoutMs by default). */
export function httpTracker(url: string, settings: HttpTrackerSettings = defaultSettings, timeoutMs = settings.announceTimeoutMs): TrackerProtocol {
  const bound = (options: TrackerCallOptions): number => Math.min(timeoutMs, options.deadlineMs ?? Infinity);
  const scrapeUrl = scrapeUrlOf(url);
  return {
    url,
    announce: (params, options = {}) => announceOnce(url, params, { timeoutMs: bound(options), signal: options.signal, settings }),
    ...(scrapeUrl !== undefined && {
      scrape: (infoHashes: readonly Buffer[], options: TrackerCallOptions = {}) =>
        scrapeMany(scrapeUrl, infoHashes, { timeoutMs: bound(options), signal: options.signal, settings }),
    }),
  };
}
