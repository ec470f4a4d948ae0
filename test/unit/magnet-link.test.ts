/** Magnet links (BEP 9): parsing what can be trusted, dropping the rest, the canonical form, .magnet files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MagnetError, formatMagnet, magnetFileName, parseMagnet, readMagnetFile, type MagnetLink } from '../../src/io/magnet-link.js';
import { KiB, defaultSettings } from '../../src/io/settings.js';

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
// The same 20 bytes in RFC 4648 base32.
const BASE32 = 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK';

function magnetError(uri: string): MagnetError {
  try {
    parseMagnet(uri);
  } catch (err) {
    if (err instanceof MagnetError) return err;
    throw err;
  }
  throw new Error(`expected ${uri} to be refused`);
}

describe('parseMagnet: the info hash', () => {
  test('40 hex characters, in either case', () => {
    const link = parseMagnet(`magnet:?xt=urn:btih:${HEX.toUpperCase()}`);
    expect(link.infoHash).toEqual(Buffer.from(HEX, 'hex'));
    expect(link.infoHashHex).toBe(HEX);
    expect(link).toMatchObject({ announceList: [], peers: [] });
    expect(link.name).toBeUndefined();
  });

  test('32 base32 characters, in either case, give the same hash', () => {
    expect(parseMagnet(`magnet:?xt=urn:btih:${BASE32}`).infoHashHex).toBe(HEX);
    expect(parseMagnet(`magnet:?xt=urn:btih:${BASE32.toLowerCase()}`).infoHashHex).toBe(HEX);
    expect(parseMagnet(`MAGNET:?XT=URN:BTIH:${BASE32}`).infoHashHex).toBe(HEX);
  });

  test.each([
    ['a hash one character short', `magnet:?xt=urn:btih:${HEX.slice(1)}`, /has 39 characters/],
    ['a hex hash with a character that is not hex', `magnet:?xt=urn:btih:${HEX.slice(1)}g`, /not hexadecimal/],
    ['a base32 hash with a 1 (not in the alphabet)', `magnet:?xt=urn:btih:${BASE32.slice(1)}1`, /not base32/],
    ['an empty hash', 'magnet:?xt=urn:btih:', /has 0 characters/],
    ['no xt', 'magnet:?dn=x&tr=http://t/announce', /no info hash: it needs xt=urn:btih:/],
    ['an xt of another kind only', 'magnet:?xt=urn:sha1:ABCDEF', /no info hash/],
    ['a v2-only link', `magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}`, /only a BitTorrent v2 info hash \(xt=urn:btmh:\)/],
    ['two different info hashes', `magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${'0'.repeat(40)}`, /two different info hashes/],
    ['a URL that is not a magnet link', `http://example.com/?xt=urn:btih:${HEX}`, /is not a magnet link: it must start with magnet:\?/],
    ['magnet: without ?', `magnet:xt=urn:btih:${HEX}`, /must start with magnet:\?/],
    ['a malformed escape in xt', 'magnet:?xt=urn:btih:%zz', /malformed percent-escape/],
  ])('%s is refused with a reason', (_what, uri, reason) => {
    expect(magnetError(uri).message).toMatch(reason);
  });

  test('the same hash twice, hex and base32, is one link', () => {
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt.2=urn:btih:${BASE32}`).infoHashHex).toBe(HEX);
  });

  test('a hybrid link joins the v1 swarm and notes the v2 hash it ignored', () => {
    const link = parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}&xt=urn:btih:${HEX}`);
    expect(link.infoHashHex).toBe(HEX);
    expect(link.ignored).toEqual([expect.stringMatching(/urn:btmh:.*v1 info hash \(urn:btih:\) is used/)]);
  });

  test('an overlong value is cut short in the message', () => {
    expect(magnetError(`magnet:?xt=urn:btih:${'a'.repeat(1000)}`).message.length).toBeLessThan(300);
  });
});

describe('parseMagnet: the hints', () => {
  test('dn is percent-decoded, + is a space', () => {
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=Big+Buck%20Bunny%E2%80%94HD`).name).toBe('Big Buck Bunny\u2014HD');
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=`).name).toBeUndefined();
    // A name is only a hint: a broken escape keeps the text as written.
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=50%`).name).toBe('50%');
  });

  test('each tracker is its own tier, in order, duplicates once, numbered keys too', () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${HEX}&tr=udp%3A%2F%2Ftracker.example%3A6969%2Fannounce&tr.1=http://a.example/announce` +
        '&tr=udp://tracker.example:6969/announce&tr.2=https://b.example/announce',
    );
    expect(link.announceList).toEqual([['udp://tracker.example:6969/announce'], ['http://a.example/announce'], ['https://b.example/announce']]);
    expect(link.ignored).toBeUndefined();
  });

  test('trackers shoal cannot announce to are dropped and noted', () => {
    const link = parseMagnet(`magnet:?xt=urn:btih:${HEX}&tr=wss://tracker.example&tr=udp://noport.example/announce&tr=%zz&tr=http://ok.example/announce`);
    expect(link.announceList).toEqual([['http://ok.example/announce']]);
    expect(link.ignored).toEqual([
      expect.stringMatching(/wss:, which shoal cannot announce to/),
      expect.stringMatching(/names no port/),
      expect.stringMatching(/"%zz": malformed percent-escape/),
    ]);
  });

  test('x.pe peers: IPv4 and bracketed IPv6 kept, duplicates once, bad ones dropped and noted', () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${HEX}&x.pe=10.0.0.2:6881&x.pe.1=%5B2001:DB8::1%5D:51413&x.pe=10.0.0.2:6881` +
        '&x.pe=host.example:6881&x.pe=10.0.0.3:0&x.pe=10.0.0.3:65536&x.pe=10.0.0.300:1&x.pe=2001:db8::2:80&x.pe=[fe80::1%25eth0]:1',
    );
    expect(link.peers).toEqual([
      { ip: '10.0.0.2', port: 6881 },
      { ip: '2001:db8::1', port: 51413 },
    ]);
    expect(link.ignored).toHaveLength(6);
    expect(link.ignored?.[0]).toMatch(/peer "host.example:6881": not an IPv4 a.b.c.d:port or \[IPv6\]:port/);
  });

  test('other parameters are ignored quietly', () => {
    const link = parseMagnet(`magnet:?xt=urn:btih:${HEX}&ws=http://seed.example/file&kt=a+b&&as=x`);
    expect(link).toEqual({ infoHash: Buffer.from(HEX, 'hex'), infoHashHex: HEX, announceList: [], peers: [] });
  });
});

describe('formatMagnet', () => {
  const link: MagnetLink = {
    infoHash: Buffer.from(HEX, 'hex'),
    infoHashHex: HEX,
    name: 'a & b = 100% +ok',
    announceList: [['udp://tracker.example:6969/announce'], ['http://a.example/announce?x=1&y=2']],
    peers: [
      { ip: '10.0.0.2', port: 6881 },
      { ip: '2001:db8::1', port: 51413 },
    ],
  };

  test('writes hex xt, dn, tr and x.pe, readable where the syntax allows', () => {
    expect(formatMagnet(link)).toBe(
      `magnet:?xt=urn:btih:${HEX}&dn=a%20%26%20b%20%3D%20100%25%20%2Bok&tr=udp://tracker.example:6969/announce` +
        '&tr=http://a.example/announce%3Fx%3D1%26y%3D2&x.pe=10.0.0.2:6881&x.pe=[2001:db8::1]:51413',
    );
  });

  test('parsing the canonical form gives the link back', () => {
    expect(parseMagnet(formatMagnet(link))).toEqual(link);
    const base32 = parseMagnet(`magnet:?xt=urn:btih:${BASE32}&dn=x`);
    expect(formatMagnet(base32)).toBe(`magnet:?xt=urn:btih:${HEX}&dn=x`);
  });
});

describe('magnetFileName', () => {
  const named = (name?: string): string => magnetFileName({ ...parseMagnet(`magnet:?xt=urn:btih:${HEX}`), ...(name !== undefined && { name }) });

  test('is the name, made safe for a file system, or the info hash', () => {
    expect(named('Big Buck Bunny')).toBe('Big Buck Bunny.magnet');
    expect(named('../../etc/passwd')).toBe('_.._etc_passwd.magnet');
    expect(named('a\\b:c*d?"e"<f>|g\n')).toBe('a_b_c_d__e__f__g_.magnet');
    expect(named('...hidden')).toBe('hidden.magnet');
    expect(named()).toBe(`${HEX}.magnet`);
    expect(named('  ')).toBe(`${HEX}.magnet`);
    expect(named('..')).toBe(`${HEX}.magnet`);
  });

  test('is cut to fit 255 bytes with the extension, never inside a character', () => {
    const name = named('\u00e9'.repeat(200));
    expect(Buffer.byteLength(name)).toBe(defaultSettings.maxFileNameBytes);
    expect(name).toBe(`${'\u00e9'.repeat(124)}.magnet`);
  });
});

describe('readMagnetFile', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'shoal-magnet-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function fileWith(name: string, content: string | Buffer): Promise<string> {
    const file = path.join(tmp, name);
    await writeFile(file, content);
    return file;
  }

  async function readError(file: string, maxBytes?: number): Promise<MagnetError> {
    try {
      await readMagnetFile(file, maxBytes);
    } catch (err) {
      if (err instanceof MagnetError) return err;
      throw err;
    }
    throw new Error(`expected ${file} to be refused`);
  }

  test('the first non-empty line is the link; a byte-order mark, blank lines and CRLF are fine', async () => {
    const file = await fileWith('ok.magnet', `\uFEFF\r\n  \r\n magnet:?xt=urn:btih:${HEX}&dn=x \r\nnot read\n`);
    expect(await readMagnetFile(file)).toMatchObject({ infoHashHex: HEX, name: 'x' });
  });

  test('an empty file, or one of blank lines, is refused naming the file', async () => {
    for (const content of ['', '\n \r\n\t\n']) {
      const file = await fileWith('empty.magnet', content);
      expect((await readError(file)).message).toBe(`${file}: is empty; a .magnet file holds a magnet URI (magnet:?xt=urn:btih:...) on its first line`);
    }
  });

  test('a file over the limit is refused before it is read', async () => {
    const file = await fileWith('big.magnet', `magnet:?xt=urn:btih:${HEX}&dn=${'x'.repeat(defaultSettings.maxMagnetFileBytes)}`);
    expect((await readError(file)).message).toMatch(/big\.magnet: is \d+ bytes, larger than the 65536 bytes allowed for a \.magnet file/);
    expect((await readError(await fileWith('small-limit.magnet', `magnet:?xt=urn:btih:${HEX}`), KiB / 64)).message).toMatch(/larger than the 16 bytes/);
  });

  test('a bad link names the file and the problem; a missing file or a folder is refused', async () => {
    const file = await fileWith('bad.magnet', 'magnet:?xt=urn:btih:1234\n');
    const err = await readError(file);
    expect(err.message).toMatch(/bad\.magnet: xt "urn:btih:1234" is not an info hash/);
    expect(err.file).toBe(file);
    expect((await readError(path.join(tmp, 'missing.magnet'))).message).toMatch(/missing\.magnet: cannot read: .*ENOENT/);
    expect((await readError(tmp)).message).toMatch(/not a regular file/);
  });
});

test('so (BEP 53) selects files by index and ranges, kept in the canonical form; a malformed one is ignored with a note', () => {
  const link = parseMagnet(`magnet:?xt=urn:btih:${'ab'.repeat(20)}&so=4-6,0,2,5`);
  expect(link.select).toEqual([0, 2, 4, 5, 6]);
  expect(formatMagnet(link)).toBe(`magnet:?xt=urn:btih:${'ab'.repeat(20)}&so=0,2,4-6`);
  expect(parseMagnet(formatMagnet(link)).select).toEqual([0, 2, 4, 5, 6]);
  for (const bad of ['x', '3-1', '1,,2', '-1', '0-99999999']) {
    const parsed = parseMagnet(`magnet:?xt=urn:btih:${'ab'.repeat(20)}&so=${bad}`);
    expect(parsed.select).toBeUndefined();
    expect(parsed.ignored).toEqual([expect.stringContaining('not a list of file indices')]);
  }
});
