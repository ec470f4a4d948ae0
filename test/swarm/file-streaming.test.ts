/**
 * Issue 18, streaming: GET /files/<info hash>/<path> with Range, on a leecher downloading from a
 * rate-limited seeder, returns exactly the source's bytes, verified, long before the download
 * ends; asking for the last MiB first makes its pieces come first; the answers carry the headers
 * a player needs and none that would let the file run as a page of the peer.
 */
import http from 'node:http';
import { generatedContent, InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { digest } from '../helpers/peer-process.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;

const swarm = new InProcessSwarm('movie.mp4');
afterEach(() => swarm.cleanup());

interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The leecher's pieces had when the answer ended. */
  haveAtEnd: number;
}

/** GET a file of the leecher, with a Range header when given, and note how far its download was when the answer ended. */
function fetchFile(peer: InProcessPeer, infoHash: string, range?: string, method = 'GET'): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const headers = range === undefined ? {} : { range };
    const req = http.request({ host: '127.0.0.1', port: peer.port, path: `/files/${infoHash}/movie.mp4`, method, headers, agent: false, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), haveAtEnd: peer.status().swarms[0].have }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('the file took more than 60 s')));
    req.once('error', reject);
    req.end();
  });
}

async function leecherOf(data: Buffer, uploadLimit: string, settings?: Parameters<InProcessSwarm['startPeer']>[2]): Promise<{ leecher: InProcessPeer; infoHash: string }> {
  const seeder = await swarm.startSeeder(data, ['--upload-limit', uploadLimit], PIECE);
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder to check its data');
  const leecher = await swarm.startPeer([], undefined, settings);
  await leecher.waitForStatus((s) => s.swarms[0]?.files?.length === 1, 20_000, 'the leecher to join');
  return { leecher, infoHash: swarm.meta.infoHashHex };
}

test('Range reads during the download return exactly the source bytes, the first long before the end, the whole file too', async () => {
  const data = generatedContent(6 * MiB);
  const { leecher, infoHash } = await leecherOf(data, '1M');
  const pieces = data.length / PIECE;

  const [head, middle, whole] = await Promise.all([
    fetchFile(leecher, infoHash, 'bytes=1000-300000'),
    fetchFile(leecher, infoHash, `bytes=${3 * MiB - 5}-${3 * MiB + 70_000}`),
    fetchFile(leecher, infoHash),
  ]);
  expect(head).toMatchObject({ status: 206 });
  expect(head.headers).toMatchObject({
    'content-range': `bytes 1000-300000/${data.length}`,
    'content-length': '299001',
    'accept-ranges': 'bytes',
    'content-type': 'video/mp4',
    'content-security-policy': 'sandbox',
    'x-content-type-options': 'nosniff',
  });
  expect(head.headers['access-control-allow-origin']).toBeUndefined();
  expect(digest(head.body)).toBe(digest(data.subarray(1000, 300001)));
  // The first bytes came while most of the file was still to come.
  expect(head.haveAtEnd).toBeLessThan(pieces / 2);
  expect(middle.status).toBe(206);
  expect(digest(middle.body)).toBe(digest(data.subarray(3 * MiB - 5, 3 * MiB + 70_001)));
  expect(whole).toMatchObject({ status: 200 });
  expect(whole.headers['content-length']).toBe(String(data.length));
  expect(digest(whole.body)).toBe(digest(data));

  const done = await leecher.waitForStatus((s) => s.swarms[0].role === 'seeder', 30_000, 'the leecher to complete');
  expect(done.swarms[0].downloaded).toBe(data.length);
  // Once complete, from shareable/: a HEAD, a suffix range, and a range past the end (416).
  const headOnly = await fetchFile(leecher, infoHash, 'bytes=-10', 'HEAD');
  expect(headOnly).toMatchObject({ status: 206, body: Buffer.alloc(0) });
  expect(headOnly.headers['content-range']).toBe(`bytes ${data.length - 10}-${data.length - 1}/${data.length}`);
  const tail = await fetchFile(leecher, infoHash, 'bytes=-10');
  expect(tail.body).toEqual(data.subarray(data.length - 10));
  const beyond = await fetchFile(leecher, infoHash, `bytes=${data.length}-`);
  expect(beyond.status).toBe(416);
  expect(beyond.headers['content-range']).toBe(`bytes */${data.length}`);
}, 90_000);

test('a read of the last MiB first makes those pieces arrive first', async () => {
  const data = generatedContent(8 * MiB);
  const { leecher, infoHash } = await leecherOf(data, '1M');
  const pieces = data.length / PIECE;

  const last = await fetchFile(leecher, infoHash, `bytes=-${MiB}`);
  expect(last.status).toBe(206);
  expect(digest(last.body)).toBe(digest(data.subarray(data.length - MiB)));
  // The 4 pieces of the last MiB, and few others: picked rarest first, they would have come
  // at random, after most of the file (the 4 among the first 10 of 32 once in 170 draws).
  expect(last.haveAtEnd).toBeGreaterThanOrEqual(MiB / PIECE);
  expect(last.haveAtEnd).toBeLessThanOrEqual(10);
  expect(leecher.status().swarms[0].have).toBeLessThan(pieces);
}, 90_000);

test('streams are bounded: one too many is answered 503, and a client that goes away frees its place', async () => {
  const data = generatedContent(4 * MiB);
  const { leecher, infoHash } = await leecherOf(data, '256k', { maxFileStreams: 1 });
  // The end of the file, which takes seconds to come at this rate: this stream holds the one place.
  const waiting = http.get({ host: '127.0.0.1', port: leecher.port, path: `/files/${infoHash}/movie.mp4`, headers: { range: `bytes=${3 * MiB}-` }, agent: false });
  const headers = await new Promise<http.IncomingMessage>((resolve, reject) => waiting.once('response', resolve).once('error', reject));
  expect(headers.statusCode).toBe(206);
  const refused = await fetchFile(leecher, infoHash, 'bytes=0-10');
  expect(refused.status).toBe(503);
  expect(refused.headers['retry-after']).toBe('5');
  expect(JSON.parse(refused.body.toString()).error).toContain('maxFileStreams');
  waiting.destroy();
  const deadline = Date.now() + 10_000;
  let served = await fetchFile(leecher, infoHash, 'bytes=0-10');
  while (served.status === 503 && Date.now() < deadline) served = await fetchFile(leecher, infoHash, 'bytes=0-10');
  expect(served.status).toBe(206);
  expect(served.body).toEqual(data.subarray(0, 11));
}, 60_000);
