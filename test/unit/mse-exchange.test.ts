/**
 * An MSE handshake run over a connection (src/main/net/mse/mse-exchange.ts), on an in-memory
 * duplex pair: both sides end established, with their payload streams working; an initiator
 * whose peer closes, or answers in plain, before its key is refused (so `prefer` dials again in
 * plain), later faults are not; and a silent peer runs into the deadline.
 */
import { cryptoProvide, cryptoSelect } from '../../src/main/net/mse/encryption-policy.js';
import { exchangeMse, MseRefusedError, payloadStream } from '../../src/main/net/mse/mse-exchange.js';
import { MseInitiator, MseReceiver } from '../../src/main/net/mse/mse-handshake.js';
import { newKeyPair, req2Hash } from '../../src/main/net/mse/mse-keys.js';
import { encodeHandshake } from '../../src/main/wire/wire-codec.js';
import { memoryPair } from '../helpers/memory-duplex.js';

const infoHash = Buffer.alloc(20, 0x42);
const handshake = encodeHandshake(infoHash, Buffer.from('-XX0000-abcdefghijkl'));
const timing = { leftMs: 5_000, limitMs: 5_000 };

function initiator(policy: 'prefer' | 'require'): MseInitiator {
  return new MseInitiator({ infoHash, provide: cryptoProvide(policy), initialPayload: handshake });
}

function receiver(): MseReceiver {
  return new MseReceiver({ findInfoHash: (req2) => (req2.equals(req2Hash(infoHash)) ? infoHash : null), select: (provide) => cryptoSelect('prefer', provide) });
}

test.each(['prefer', 'require'] as const)('initiator under %s: both sides established, and their payload streams carry bytes both ways', async (policy) => {
  const [a, b] = memoryPair();
  const side = initiator(policy);
  a.write(side.start());
  const [atA, atB] = await Promise.all([exchangeMse(a, side, timing), exchangeMse(b, receiver(), timing)]);
  expect(atA.method).toBe(policy === 'require' ? 'rc4' : 'plaintext');
  expect(atB.payload).toEqual(handshake);
  const streamA = payloadStream(a, atA);
  const streamB = payloadStream(b, atB);
  expect(streamA === a).toBe(policy === 'prefer');
  const got = new Promise<Buffer>((resolve) => streamA.once('data', resolve));
  // The exchange leaves the connection paused for the next reader, as readHandshake then is.
  streamA.resume();
  streamB.write(Buffer.from('bitfield'));
  expect((await got).toString()).toBe('bitfield');
});

test('an initiator whose peer closes before its key is refused', async () => {
  const [a, b] = memoryPair();
  const side = initiator('prefer');
  a.write(side.start());
  const outcome = exchangeMse(a, side, timing);
  b.end();
  await expect(outcome).rejects.toThrow(new MseRefusedError('it closed the connection on our encrypted handshake'));
});

test('an initiator whose peer answers with a plain handshake is refused at once', async () => {
  const [a, b] = memoryPair();
  const side = initiator('prefer');
  const outcome = exchangeMse(a, side, timing);
  b.write(handshake.subarray(0, 30));
  await expect(outcome).rejects.toBeInstanceOf(MseRefusedError);
  await expect(outcome).rejects.toThrow('it answered with a plain BitTorrent handshake: it does not speak MSE');
});

test('an initiator whose peer closes after its key is not refused: it speaks MSE, and failed', async () => {
  const [a, b] = memoryPair();
  const side = initiator('prefer');
  const outcome = exchangeMse(a, side, timing);
  b.write(newKeyPair().publicKey);
  b.end();
  const error = await outcome.catch((e: Error) => e);
  expect(error).not.toBeInstanceOf(MseRefusedError);
  expect((error as Error).message).toBe('connection closed during the encrypted handshake');
});

test('a peer that never finishes runs into the deadline', async () => {
  const [a, b] = memoryPair();
  const outcome = exchangeMse(b, receiver(), { leftMs: 50, limitMs: 1_000 });
  a.write(Buffer.alloc(10, 1));
  await expect(outcome).rejects.toThrow('no complete encrypted handshake within 1000 ms (handshakeTimeoutMs)');
});
