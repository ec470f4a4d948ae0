/**
 * The RC4 stream over a connection (src/main/net/mse/encrypted-stream.ts), over an in-memory
 * duplex pair: it must behave as the socket it wraps does for PeerConnection (writes, cork,
 * writableLength and 'drain', pause/resume, 'end', 'close', 'error', destroy), with every byte
 * encrypted on the wire and the caller's buffers left as they were.
 */
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { EncryptedStream } from '../../src/main/net/mse/encrypted-stream.js';
import { mseCiphers } from '../../src/main/net/mse/mse-keys.js';
import { memoryPair, type MemoryEnd } from '../helpers/memory-duplex.js';


function pair(): { rawA: MemoryEnd; rawB: MemoryEnd; a: EncryptedStream; b: EncryptedStream } {
  const [rawA, rawB] = memoryPair();
  const secret = Buffer.alloc(96, 7);
  const infoHash = Buffer.alloc(20, 1);
  return { rawA, rawB, a: new EncryptedStream(rawA, mseCiphers(secret, infoHash, true)), b: new EncryptedStream(rawB, mseCiphers(secret, infoHash, false)) };
}

/** Resolves once `predicate` holds, checked after each turn of the event loop; fails after a bound. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let turns = 0; !predicate(); turns++) {
    if (turns > 10_000) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const length = (chunks: Buffer[]): number => chunks.reduce((sum, chunk) => sum + chunk.length, 0);

function collect(stream: Duplex): Buffer[] {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return chunks;
}

test('what one side writes, single or corked, the other reads in order; the wire carries none of it in clear; the caller keeps its bytes', async () => {
  const { rawA, a, b } = pair();
  const got = collect(b);
  const block = Buffer.from('a block sent from slab memory, which must not change');
  const before = Buffer.from(block);
  const written = new Promise<void>((resolve) => a.write(block, () => resolve()));
  a.cork();
  a.write(Buffer.from(' header'));
  a.write(Buffer.from(' and body'));
  a.uncork();
  await written;
  await until(() => length(got) === before.length + 16, 'every byte read');
  expect(Buffer.concat(got).toString()).toBe(`${before.toString()} header and body`);
  expect(block).toEqual(before);
  const onWire = Buffer.concat(rawA.wire);
  expect(onWire).toHaveLength(before.length + 16);
  expect(onWire.includes(Buffer.from('slab'))).toBe(false);
  // The corked writes reached the socket as one write.
  expect(rawA.wire).toHaveLength(2);
});

test("writableLength counts what the socket has not taken, and 'drain' comes once it has", async () => {
  const { rawA, a, b } = pair();
  collect(b);
  rawA.stall();
  const big = Buffer.alloc(a.writableHighWaterMark + 1);
  expect(a.write(big)).toBe(false);
  a.write(Buffer.alloc(10));
  expect(a.writableLength).toBe(big.length + 10);
  const drained = once(a, 'drain');
  rawA.flow();
  rawA.flow();
  await drained;
  expect(a.writableLength).toBe(0);
});

test('pause holds the data and pauses the socket once the stream is full; resume delivers it in order', async () => {
  const { rawB, a, b } = pair();
  const got = collect(b);
  b.pause();
  const chunk = Buffer.alloc(16 * 1024, 3);
  const count = Math.ceil((2 * b.readableHighWaterMark) / chunk.length) + 1;
  for (let i = 0; i < count; i++) a.write(chunk);
  await until(() => rawB.isPaused(), 'the socket paused');
  expect(got).toHaveLength(0);
  b.resume();
  await until(() => length(got) === count * chunk.length, 'every byte read');
  expect(Buffer.concat(got)).toEqual(Buffer.concat(Array.from({ length: count }, () => chunk)));
});

test("the socket's end ends the stream, its close closes it, and destroying the stream destroys the socket", async () => {
  const { rawB, a, b } = pair();
  collect(b);
  const ended = once(b, 'end');
  const closed = once(b, 'close');
  a.end();
  await ended;
  await closed;
  expect(rawB.destroyed || rawB.writableEnded).toBe(true);

  const second = pair();
  const secondClosed = once(second.a, 'close');
  second.rawA.destroy();
  await secondClosed;

  const third = pair();
  third.a.destroy();
  expect(third.rawA.destroyed).toBe(true);
});

test("an error on the socket is the stream's error, then its close", async () => {
  const { rawA, a } = pair();
  const errors: Error[] = [];
  a.on('error', (error) => errors.push(error));
  const closed = new Promise((resolve) => a.once('close', resolve));
  rawA.destroy(new Error('ECONNRESET'));
  await closed;
  expect(errors.map((e) => e.message)).toEqual(['ECONNRESET']);
});
