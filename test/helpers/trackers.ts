/**
 * Torrents pointed at any tracker, and a look into any HTTP tracker's peer lists, for the tests of
 * shoal against other trackers (opentracker) and of other clients against shoal's UDP tracker.
 */
import http from 'node:http';
import { asBytes, asInteger, decodeBencode, decodeBencodeWithSpans, encodeBencode, isDict } from '../../src/io/bencode.js';

/**
 * The torrent with `announce` (and `announce-list`, when given) as its only trackers, udp:// URLs
 * included, which setAnnounce refuses while shoal cannot announce to them. The info dictionary is
 * copied byte for byte, so the info hash stays; every other top-level key is dropped.
 */
export function withTrackers(torrent: Buffer, announce: string, announceList?: string[][]): Buffer {
  const { spans } = decodeBencodeWithSpans(torrent);
  const info = spans.get('info');
  if (!info) throw new Error('the torrent has no info dictionary');
  const parts = [Buffer.from('d8:announce', 'latin1'), encodeBencode(announce)];
  if (announceList) parts.push(Buffer.from('13:announce-list', 'latin1'), encodeBencode(announceList));
  parts.push(Buffer.from('4:info', 'latin1'), torrent.subarray(info[0], info[1]), Buffer.from('e', 'latin1'));
  return Buffer.concat(parts);
}

/** Gap between two probes of waitUntil. */
const WAIT_GAP_MS = 100;

/** Every byte as %XX, as a tracker query wants an info hash or a peer id. */
export function percentEncoded(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** A tracker's counts for one torrent (BEP 48 scrape). */
export interface ScrapeCounts {
  /** Peers announced as seeders. */
  complete: number;
  /** Peers announced as leechers. */
  incomplete: number;
  /** Announces with event=completed. */
  downloaded: number;
}

/**
 * Scrapes an HTTP tracker (`http://host:port/announce` becomes `.../scrape`) for one torrent:
 * its counts, or undefined when the tracker lists no such torrent.
 */
export async function scrapeOverHttp(announceUrl: string, infoHashHex: string): Promise<ScrapeCounts | undefined> {
  const url = `${announceUrl.replace(/\/announce$/, '/scrape')}?info_hash=${percentEncoded(Buffer.from(infoHashHex, 'hex'))}`;
  const { status, body } = await httpGetBytes(url);
  if (status !== 200) throw new Error(`GET ${url} answered ${status}: ${body.toString('latin1')}`);
  const reply = decodeBencode(body);
  const files = isDict(reply) && isDict(reply.files) ? reply.files : undefined;
  if (!files) throw new Error(`GET ${url}: not a scrape reply: ${body.toString('latin1')}`);
  const entry = files[Buffer.from(infoHashHex, 'hex').toString('latin1')];
  if (!isDict(entry)) return undefined;
  return { complete: asInteger(entry.complete) ?? -1, incomplete: asInteger(entry.incomplete) ?? -1, downloaded: asInteger(entry.downloaded) ?? -1 };
}

/** The failure reason of an HTTP tracker's bencoded reply, if it is one. */
export function failureReason(reply: Buffer): string | undefined {
  try {
    const decoded = decodeBencode(reply);
    const reason = isDict(decoded) ? asBytes(decoded['failure reason']) : undefined;
    return reason?.toString('utf8');
  } catch {
    return `not bencode: ${reply.toString('latin1')}`;
  }
}

/**
 * One GET on a fresh connection, bounded in time, its body kept as bytes (a tracker's replies
 * hold binary info hashes and peers).
 */
export function httpGetBytes(url: string, timeoutMs = 5_000): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
  });
}

/**
 * Calls `probe` until `done` holds for its result (a failed call counts as not yet), at most for
 * `timeoutMs`; fails naming `what`, the last result or error, and what `explain` adds (logs).
 */
export async function waitUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
  explain: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const value = await probe();
      if (done(value)) return value;
      last = JSON.stringify(value) ?? String(value);
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}\n${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_GAP_MS));
  }
}
