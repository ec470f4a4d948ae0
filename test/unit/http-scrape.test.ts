/**
 * The HTTP scrape (BEP 48): its URL derived from the announce URL, the request, and the reply read.
 */
import { encodeBencode } from '../../src/io/bencode.js';
import { buildScrapeUrl, parseScrapeResponse, scrapeUrlOf } from '../../src/main/tracker/http-tracker-client.js';

const HASH = Buffer.from(Array.from({ length: 20 }, (_, i) => i * 13));

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
    expect(buildScrapeUrl('http://t/scrape', Buffer.from('ab-_.~ /', 'latin1'))).toBe('http://t/scrape?info_hash=ab-_.~%20%2F');
    expect(buildScrapeUrl('http://t/scrape?passkey=1', Buffer.from('a'))).toBe('http://t/scrape?passkey=1&info_hash=a');
  });

  test('the counts of our torrent: complete, incomplete, downloaded', () => {
    const body = encodeBencode({ files: { [HASH.toString('latin1')]: { complete: 5, incomplete: 3, downloaded: 12 } } });
    expect(parseScrapeResponse(body, HASH)).toEqual({ seeders: 5, leechers: 3, completed: 12 });
  });

  test('a reply that does not list the torrent: nobody there', () => {
    expect(parseScrapeResponse(encodeBencode({ files: {} }), HASH)).toEqual({ seeders: 0, leechers: 0, completed: 0 });
  });

  test.each<[string, Buffer, RegExp]>([
    ['failure', encodeBencode({ 'failure reason': 'no scrape here' }), /^no scrape here$/],
    ['not bencode', Buffer.from('<html>'), /not valid bencode/],
    ['no files', encodeBencode({ x: 1 }), /no files dictionary/],
    ['an entry that is not a dictionary', encodeBencode({ files: { [HASH.toString('latin1')]: 3 } }), /not a dictionary/],
  ])('%s is an error with its reason', (_, body, reason) => {
    expect(() => parseScrapeResponse(body, HASH)).toThrow(reason);
  });
});
