/** The keys of MSE/PE (src/main/net/mse/mse-keys.ts): Diffie-Hellman on the 768-bit prime, the hashes, the RC4 streams. */
import { createHash, randomBytes } from 'node:crypto';
import { maskedReq2, mseCiphers, newKeyPair, Req2Index, req2Hash, sharedSecret, MSE_KEY_BYTES } from '../../src/main/net/mse/mse-keys.js';
import { Rc4 } from '../../src/main/net/mse/rc4.js';

const P = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
);

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

const big = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex') || '0'}`);
const bytes96 = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(2 * MSE_KEY_BYTES, '0'), 'hex');
const sha1 = (...parts: (string | Buffer)[]): Buffer => parts.reduce((hash, part) => hash.update(part), createHash('sha1')).digest();

test('a public key is 2^X mod P of the specification, 96 bytes with leading zeros kept', () => {
  for (let i = 0; i < 3; i++) {
    const keys = newKeyPair();
    expect(keys.publicKey).toEqual(bytes96(modPow(2n, big(keys.privateKey), P)));
  }
  // X = 1 gives the public key 2: 95 zero bytes, then 2.
  const one = newKeyPair(Buffer.concat([Buffer.alloc(19), Buffer.from([1])]));
  expect(one.publicKey).toHaveLength(MSE_KEY_BYTES);
  expect(one.publicKey.at(-1)).toBe(2);
  expect(one.publicKey.subarray(0, 95).every((b) => b === 0)).toBe(true);
});

test('both sides compute the same secret S = Y^X mod P, whatever keys were used in between', () => {
  const a = newKeyPair();
  const b = newKeyPair();
  newKeyPair();
  const s = sharedSecret(a, b.publicKey);
  newKeyPair();
  expect(sharedSecret(b, a.publicKey)).toEqual(s);
  expect(s).toEqual(bytes96(modPow(big(b.publicKey), big(a.privateKey), P)));
});

test.each([
  ['0', Buffer.alloc(96)],
  ['1', bytes96(1n)],
  ['P - 1', bytes96(P - 1n)],
  ['P', bytes96(P)],
])('a public key of %s is refused with a reason', (_name, key) => {
  expect(() => sharedSecret(newKeyPair(), key)).toThrow(/^its Diffie-Hellman public key is not valid \(/);
});

test("the RC4 streams are HASH('keyA' | 'keyB', S, SKEY) past their first 1024 bytes, A's encrypt being B's decrypt", () => {
  const secret = randomBytes(96);
  const infoHash = randomBytes(20);
  const a = mseCiphers(secret, infoHash, true);
  const b = mseCiphers(secret, infoHash, false);
  const expected = (name: string): Buffer => {
    const stream = Buffer.alloc(1024 + 32);
    new Rc4(sha1(name, secret, infoHash)).process(stream);
    return stream.subarray(1024);
  };
  const fromA = Buffer.alloc(32);
  a.encrypt.process(fromA);
  expect(fromA).toEqual(expected('keyA'));
  const fromB = Buffer.alloc(32);
  b.encrypt.process(fromB);
  expect(fromB).toEqual(expected('keyB'));
  const message = Buffer.from('a message from B to A');
  mseCiphers(secret, infoHash, false).encrypt.process(message);
  expect(message.toString()).not.toBe('a message from B to A');
  mseCiphers(secret, infoHash, true).decrypt.process(message);
  expect(message.toString()).toBe('a message from B to A');
});

test("req2 xor req3 names the torrent to whoever holds S, and the index finds it among many", () => {
  const secret = randomBytes(96);
  const ours = Array.from({ length: 50 }, () => randomBytes(20));
  const sent = maskedReq2(req2Hash(ours[17]), secret);
  expect(sent).toEqual(Buffer.from(req2Hash(ours[17]).map((byte, i) => byte ^ sha1('req3', secret)[i])));
  const index = new Req2Index();
  const req2 = maskedReq2(sent, secret);
  expect(index.find(req2, ours)).toEqual(ours[17]);
  // Found again, from the hashes kept, and not found among torrents that do not include it.
  expect(index.find(req2, ours)).toEqual(ours[17]);
  expect(index.find(req2, ours.filter((_, i) => i !== 17))).toBeNull();
});
