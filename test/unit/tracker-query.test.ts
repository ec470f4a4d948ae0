import { defaultSettings as settings } from '../../src/io/settings.js';
import {
  isTrackerFailure,
  parseAnnounceRequest,
  parseQueryString,
  parseScrapeRequest,
  unwrapMappedIpv4,
  type AnnounceRequest,
} from '../../src/main/tracker/tracker-query.js';

function escapeAll(bytes: Buffer, lowerCase = false): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).map((e) => (lowerCase ? e : e.toUpperCase())).join('');
}

function query(raw: string): Map<string, Buffer[]> {
  const parsed = parseQueryString(raw);
  if (isTrackerFailure(parsed)) throw new Error(parsed.failure);
  return parsed;
}

const HASH = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex');
const PEER = Buffer.from('-SH0100-abcdefghijkl', 'latin1');

function announceQuery(overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    info_hash: escapeAll(HASH),
    peer_id: escapeAll(PEER),
    port: '6882',
    uploaded: '10',
    downloaded: '20',
    left: '30',
    ...overrides,
  };
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function announce(overrides: Record<string, string | undefined> = {}, ip = '127.0.0.1'): AnnounceRequest {
  const parsed = parseAnnounceRequest(query(announceQuery(overrides)), ip);
  if (isTrackerFailure(parsed)) throw new Error(parsed.failure);
  return parsed;
}

function failure(overrides: Record<string, string | undefined>): string {
  const parsed = parseAnnounceRequest(query(announceQuery(overrides)), '127.0.0.1');
  if (!isTrackerFailure(parsed)) throw new Error('expected a failure');
  return parsed.failure;
}

describe('parseQueryString', () => {
  test('decodes %XX escapes of every byte value, upper and lower case', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const parsed = query(`a=${escapeAll(all)}&b=${escapeAll(all, true)}`);
    expect(parsed.get('a')).toEqual([all]);
    expect(parsed.get('b')).toEqual([all]);
  });

  test('keeps a binary info hash byte for byte, where UTF-8 decoding would mangle it', () => {
    const hash = Buffer.from('ff00c3288080e282acfeed0102030405060708ff', 'hex');
    const parsed = query(`info_hash=${escapeAll(hash)}`);
    expect(parsed.get('info_hash')?.[0].equals(hash)).toBe(true);
  });

  test('mixes unescaped characters with escapes', () => {
    expect(query('x=ab%20c-._~').get('x')?.[0].toString('latin1')).toBe('ab c-._~');
  });

  test("'+' is a space, and an escaped '+' is a plus", () => {
    expect(query('x=a+b%2Bc').get('x')?.[0].toString('latin1')).toBe('a b+c');
  });

  test('repeated keys keep every value in order; bare keys have an empty value', () => {
    const parsed = query('?k=1&k=2&&flag');
    expect(parsed.get('k')?.map((b) => b.toString())).toEqual(['1', '2']);
    expect(parsed.get('flag')).toEqual([Buffer.alloc(0)]);
  });

  test('escaped keys are decoded too', () => {
    expect(query('info%5Fhash=x').get('info_hash')?.[0].toString()).toBe('x');
  });

  test.each(['x=%', 'x=%4', 'x=%G0', 'x=ab%zz', 'x=%%41', '%=1'])('refuses the malformed escape in %s', (raw) => {
    const parsed = parseQueryString(raw);
    expect(isTrackerFailure(parsed)).toBe(true);
    expect(isTrackerFailure(parsed) && parsed.failure).toMatch(/malformed percent escape/);
  });
});

describe('parseAnnounceRequest', () => {
  test('reads every parameter, with compact on and numwant at the default', () => {
    const req = announce({ event: 'started' });
    expect(req.infoHash.equals(HASH)).toBe(true);
    expect(req.peerId.equals(PEER)).toBe(true);
    expect(req).toMatchObject({
      ip: '127.0.0.1',
      port: 6882,
      uploaded: 10,
      downloaded: 20,
      left: 30,
      event: 'started',
      compact: true,
      noPeerId: false,
      numwant: settings.trackerDefaultNumwant,
    });
  });

  test('takes the address from the connection, unwrapping IPv4-mapped IPv6, and ignores ip=', () => {
    expect(announce({ ip: '10.9.9.9' }, '::ffff:192.168.1.7').ip).toBe('192.168.1.7');
    expect(announce({}, '::1').ip).toBe('::1');
    expect(unwrapMappedIpv4('::FFFF:10.0.0.1')).toBe('10.0.0.1');
  });

  test('compact=0 asks for the dictionary model; no_peer_id=1 is read', () => {
    const req = announce({ compact: '0', no_peer_id: '1' });
    expect(req.compact).toBe(false);
    expect(req.noPeerId).toBe(true);
  });

  test('numwant is read and capped', () => {
    expect(announce({ numwant: '7' }).numwant).toBe(7);
    expect(announce({ numwant: '0' }).numwant).toBe(0);
    expect(announce({ numwant: String(settings.trackerMaxNumwant + 1000) }).numwant).toBe(settings.trackerMaxNumwant);
  });

  test('events: absent, empty and the BEP 3 ones; BEP 21 paused is a regular announce', () => {
    expect(announce().event).toBe('empty');
    expect(announce({ event: '' }).event).toBe('empty');
    expect(announce({ event: 'empty' }).event).toBe('empty');
    expect(announce({ event: 'completed' }).event).toBe('completed');
    expect(announce({ event: 'stopped' }).event).toBe('stopped');
    expect(announce({ event: 'paused' }).event).toBe('empty');
  });

  test('a seeder announces left=0', () => {
    expect(announce({ left: '0' }).left).toBe(0);
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['missing info_hash', { info_hash: undefined }, 'missing info_hash'],
    ['short info_hash', { info_hash: escapeAll(HASH.subarray(0, 19)) }, 'info_hash must be 20 bytes, got 19'],
    ['long info_hash', { info_hash: escapeAll(HASH) + 'A' }, 'info_hash must be 20 bytes, got 21'],
    ['repeated info_hash', { info_hash: `${escapeAll(HASH)}&info_hash=${escapeAll(HASH)}` }, 'info_hash given more than once'],
    ['missing peer_id', { peer_id: undefined }, 'missing peer_id'],
    ['short peer_id', { peer_id: 'abc' }, 'peer_id must be 20 bytes, got 3'],
    ['missing port', { port: undefined }, 'missing port'],
    ['port 0', { port: '0' }, 'invalid port: must be an integer from 1 to 65535'],
    ['port 65536', { port: '65536' }, 'invalid port: must be an integer from 1 to 65535'],
    ['port not a number', { port: 'http' }, 'invalid port: must be an integer from 1 to 65535'],
    ['negative port', { port: '-1' }, 'invalid port: must be an integer from 1 to 65535'],
    ['missing uploaded', { uploaded: undefined }, 'missing uploaded'],
    ['negative uploaded', { uploaded: '-5' }, 'invalid uploaded: must be a non-negative integer'],
    ['missing downloaded', { downloaded: undefined }, 'missing downloaded'],
    ['fractional downloaded', { downloaded: '1.5' }, 'invalid downloaded: must be a non-negative integer'],
    ['missing left', { left: undefined }, 'missing left'],
    ['left beyond a safe integer', { left: '99999999999999999' }, 'invalid left: must be a non-negative integer'],
    ['empty left', { left: '' }, 'invalid left: must be a non-negative integer'],
    ['unknown event', { event: 'finished' }, 'unknown event "finished": expected started, completed, stopped or none'],
    ['bad compact', { compact: 'yes' }, 'invalid compact: must be 0 or 1'],
    ['bad no_peer_id', { no_peer_id: '2' }, 'invalid no_peer_id: must be 0 or 1'],
    ['bad numwant', { numwant: '-1' }, 'invalid numwant: must be a non-negative integer'],
  ])('%s', (_name, overrides, reason) => {
    expect(failure(overrides)).toBe(reason);
  });
});

describe('parseScrapeRequest', () => {
  test('info_hash may repeat; none means every served swarm', () => {
    const other = Buffer.alloc(20, 0xff);
    const hashes = parseScrapeRequest(query(`info_hash=${escapeAll(HASH)}&info_hash=${escapeAll(other)}`));
    expect(hashes).toEqual([HASH, other]);
    expect(parseScrapeRequest(query(''))).toEqual([]);
  });

  test('an info_hash that is not 20 bytes is refused', () => {
    expect(parseScrapeRequest(query(`info_hash=${escapeAll(HASH)}&info_hash=abc`))).toEqual({
      failure: 'info_hash must be 20 bytes, got 3',
    });
  });
});
