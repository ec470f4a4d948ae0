/**
 * The HTTP scrape (BEP 48): its URL derived from the announce URL, the request of several torrents
 * and the reply read, and such a scrape answered by our own tracker over loopback.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeBencode } from '../../src/io/bencode.js';
import { defaultSettings, KiB } from '../../src/io/settings.js';
import { buildScrapeUrl, httpTracker, parseScrapeResponse, scrapeUrlOf } from '../../src/main/tracker/http-tracker-client.js';
import { handleTrackerRequest } from '../../src/main/tracker/tracker-http.js';
import { TrackerRegistry } from '../../src/main/tracker/tracker-registry.js';

const HASH = Buffer.from(Array.from({ length: 20 }, (_, i) => i * 13));
const OTHER = Buffer.alloc(20, 0x42);
const THIRD = Buffer.alloc(20, 0x43);

describe('scrapeUrlOf', () => {
  test.each([
    ['http://example.com/announce', 'http://example.com/scrape'],
    ['http://example.com/x/announce', 'http://example.com/x/scrape'],
    ['http://example.com/announce.php', 'http://example.com/scrape.php'],
    ['http://example.com/announce?x2%0644', 'http://example.com/scrape?x2%0644'],
    ['https://example.com:8443/a/b/announce?passkey=1&k=2#frag', 'https://example.com:8443/a/b/scrape?passkey=1&k=2'],
    ['http://192.168.1.10:6881/announce', 'http://192.168.1.10:6881/scrape'],
  ])('%s scrapes at %s', (announce, scrape) => {
    expect(scrapeUrlOf(announce)).toBe(scrape);
  });

  test.each([
    'http://example.com/a',
    'http://example.com/announce/',
    'http://example.com/x%064announce',
    'http://example.com/',
    'http://example.com/announce-not/x',
    'udp://example.com:80/announce',
    'not a url',
  ])('%s cannot be scraped (BEP 48: the last component must start with "announce")', (announce) => {
    expect(scrapeUrlOf(announce)).toBeUndefined();
  });
});

describe('the scrape request and reply', () => {
  test('the info hash goes after any query the URL has, percent-encoded', () => {
    expect(buildScrapeUrl('http://t/scrape', [Buffer.from('ab-_.~ /', 'latin1')])).toBe('http://t/scrape?info_hash=ab-_.~%20%2F');
    expect(buildScrapeUrl('http://t/scrape?passkey=1', [Buffer.from('a')])).toBe('http://t/scrape?passkey=1&info_hash=a');
  });

  test('several torrents: one info_hash parameter each, in the order asked (BEP 48)', () => {
    expect(buildScrapeUrl('http://t/scrape', [Buffer.from('a'), Buffer.from('b/')])).toBe('http://t/scrape?info_hash=a&info_hash=b%2F');
  });

  test('a scrape of as many torrents as a request takes, every byte of their hashes escaped, fits what our own peer port accepts with a KiB to spare for headers', () => {
    const hashes = Array.from({ length: defaultSettings.maxInfoHashesPerScrape }, () => Buffer.alloc(20, 0xff));
    const url = new URL(buildScrapeUrl('http://192.168.100.100:65535/scrape', hashes));
    expect(`GET ${url.pathname}${url.search} HTTP/1.1\r\n`.length).toBeLessThan(defaultSettings.httpMaxHeaderBytes - KiB);
  });

  test('the counts of our torrent: complete, incomplete, downloaded', () => {
    const body = encodeBencode({ files: { [HASH.toString('latin1')]: { complete: 5, incomplete: 3, downloaded: 12 } } });
    expect(parseScrapeResponse(body, [HASH])).toEqual([{ seeders: 5, leechers: 3, completed: 12 }]);
  });

  test('a reply that does not list a torrent, or lists it with no dictionary, gives no counts for it and costs the others nothing', () => {
    const body = encodeBencode({ files: { [HASH.toString('latin1')]: { complete: 5, incomplete: 3, downloaded: 12 }, [OTHER.toString('latin1')]: 3 } });
    expect(parseScrapeResponse(body, [THIRD, HASH, OTHER])).toEqual([undefined, { seeders: 5, leechers: 3, completed: 12 }, undefined]);
    expect(parseScrapeResponse(encodeBencode({ files: {} }), [HASH])).toEqual([undefined]);
  });

  test.each<[string, Buffer, RegExp]>([
    ['failure', encodeBencode({ 'failure reason': 'no scrape here' }), /^no scrape here$/],
    ['not bencode', Buffer.from('<html>'), /not valid bencode/],
    ['no files', encodeBencode({ x: 1 }), /no files dictionary/],
  ])('%s is an error with its reason', (_, body, reason) => {
    expect(() => parseScrapeResponse(body, [HASH])).toThrow(reason);
  });
});

describe('a scrape of several torrents at our own tracker, over loopback', () => {
  let server: http.Server;
  let base: string;
  const targets: string[] = [];

  beforeAll(async () => {
    const served = new Set([HASH, OTHER].map((hash) => hash.toString('hex')));
    const registry = new TrackerRegistry({ served: (hex) => (served.has(hex) ? { selfPort: 6881, selfComplete: true } : null) });
    const leecher = { peerId: Buffer.alloc(20, 7), ip: '10.0.0.1', port: 7001, uploaded: 0, downloaded: 0, left: 1, compact: true, noPeerId: false, numwant: 50 };
    registry.announce({ ...leecher, infoHash: OTHER, event: 'started' }, '127.0.0.1', 0);
    registry.announce({ ...leecher, infoHash: OTHER, left: 0, event: 'completed' }, '127.0.0.1', 0);
    registry.announce({ ...leecher, infoHash: OTHER, peerId: Buffer.alloc(20, 8), port: 7002, event: 'started' }, '127.0.0.1', 0);
    server = http.createServer((req, res) => {
      targets.push(req.url ?? '');
      if (!handleTrackerRequest(req, res, registry, () => 0)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('one GET with an info_hash per torrent brings each torrent its own counts, and none for one the tracker does not serve', async () => {
    const tracker = httpTracker(`${base}/announce`);
    expect(await tracker.scrape!([OTHER, THIRD, HASH])).toEqual([
      { seeders: 2, leechers: 1, completed: 1 },
      undefined,
      { seeders: 1, leechers: 0, completed: 0 },
    ]);
    expect(targets).toHaveLength(1);
    expect(targets[0].match(/info_hash=/g)).toHaveLength(3);
  });
});
