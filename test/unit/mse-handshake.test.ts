/**
 * The MSE/PE handshake (src/main/net/mse/mse-handshake.ts), both sides in memory: padding, the
 * sync bounds, crypto_provide / crypto_select, the payload after it, and every malformed input
 * ending in an MseHandshakeError with a reason, never another exception.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, cryptoProvide, cryptoSelect, type EncryptionPolicy } from '../../src/main/net/mse/encryption-policy.js';
import { MseHandshakeError, MseInitiator, MseReceiver, MSE_MAX_PAD_BYTES, type MseEstablished, type PaddingSource } from '../../src/main/net/mse/mse-handshake.js';
import { maskedReq2, mseCiphers, newKeyPair, req1Hash, req2Hash, sharedSecret, type MseKeyPair } from '../../src/main/net/mse/mse-keys.js';
import type { Rc4 } from '../../src/main/net/mse/rc4.js';
import { encodeHandshake } from '../../src/main/wire/wire-codec.js';
import { propertyRuns } from '../helpers/property.js';

const infoHash = Buffer.alloc(20, 0xab);
const otherTorrents = [Buffer.alloc(20, 1), Buffer.alloc(20, 2)];
const ourHandshake = encodeHandshake(infoHash, Buffer.from('-XX0000-initiator000'));

const pad = (length: number): PaddingSource => () => randomBytes(length);

function initiator(options: { policy?: EncryptionPolicy; provide?: number; padding?: PaddingSource; infoHash?: Buffer; keys?: MseKeyPair } = {}): MseInitiator {
  return new MseInitiator({
    infoHash: options.infoHash ?? infoHash,
    provide: options.provide ?? cryptoProvide(options.policy ?? 'prefer'),
    initialPayload: ourHandshake,
    padding: options.padding,
    keys: options.keys,
  });
}

function receiver(options: { policy?: EncryptionPolicy; padding?: PaddingSource; keys?: MseKeyPair } = {}): MseReceiver {
  const ours = [...otherTorrents, infoHash];
  return new MseReceiver({
    findInfoHash: (req2) => ours.find((hash) => req2Hash(hash).equals(req2)) ?? null,
    select: (provide) => cryptoSelect(options.policy ?? 'prefer', provide),
    padding: options.padding,
    keys: options.keys,
  });
}

/** Pieces of `bytes` as `sizes` cut them (cycling through them), the way a socket may deliver them. */
function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes.length > 0 ? sizes[i % sizes.length] : bytes.length);
    parts.push(bytes.subarray(at, at + size));
    at += size;
  }
  return parts;
}

/** Runs both sides against each other until neither has anything to send; the sizes cut every transmission. */
function handshake(a: MseInitiator, b: MseReceiver, sizes: readonly number[] = []): { a: MseEstablished | null; b: MseEstablished | null } {
  let toB = [a.start()];
  let toA: Buffer[] = [];
  let doneA: MseEstablished | null = null;
  let doneB: MseEstablished | null = null;
  while (toB.length > 0 || toA.length > 0) {
    const nextA: Buffer[] = [];
    const nextB: Buffer[] = [];
    for (const part of toB.flatMap((bytes) => cut(bytes, sizes))) {
      const step = b.push(part);
      if (step.send.length > 0) nextA.push(step.send);
      doneB ??= step.established;
    }
    for (const part of toA.flatMap((bytes) => cut(bytes, sizes))) {
      const step = a.push(part);
      if (step.send.length > 0) nextB.push(step.send);
      doneA ??= step.established;
    }
    toA = nextA;
    toB = nextB;
  }
  return { a: doneA, b: doneB };
}

describe('the handshake completes both ways', () => {
  test.each([
    ['prefer', 'prefer', 'plaintext'],
    ['prefer', 'require', 'rc4'],
    ['require', 'prefer', 'rc4'],
    ['require', 'require', 'rc4'],
  ] as const)('initiator under %s, receiver under %s: the payload goes %s', (ours, theirs, method) => {
    const { a, b } = handshake(initiator({ policy: ours }), receiver({ policy: theirs }));
    expect(a?.method).toBe(method);
    expect(b?.method).toBe(method);
    expect(b?.infoHash).toEqual(infoHash);
    // The initial payload (our BitTorrent handshake) reaches the receiver decrypted, whatever the method.
    expect(b?.payload).toEqual(ourHandshake);
    expect(a?.payload).toHaveLength(0);
    expect(a?.ciphers === null).toBe(method === 'plaintext');
  });

  test('with RC4 the streams go on where the handshake left them, both ways', () => {
    const { a, b } = handshake(initiator({ policy: 'require' }), receiver());
    const fromB = Buffer.from('bitfield and unchoke');
    b!.ciphers!.encrypt.process(fromB);
    a!.ciphers!.decrypt.process(fromB);
    expect(fromB.toString()).toBe('bitfield and unchoke');
    const fromA = Buffer.from('interested');
    a!.ciphers!.encrypt.process(fromA);
    b!.ciphers!.decrypt.process(fromA);
    expect(fromA.toString()).toBe('interested');
  });

  test.each([0, 1, 511, 512])('with %i bytes of padding on both sides', (length) => {
    const { a, b } = handshake(initiator({ padding: pad(length) }), receiver({ padding: pad(length) }));
    expect(a?.method).toBe('plaintext');
    expect(b?.payload).toEqual(ourHandshake);
  });

  test.each(['prefer', 'require'] as const)('under %s, what follows step 4 in the same chunk is payload, decrypted when it is RC4', (policy) => {
    const a = initiator({ policy });
    const b = receiver();
    const { send: step4, established: atB } = b.push(a.push(b.push(a.start()).send).send);
    expect(() => b.push(Buffer.alloc(1))).toThrow('the MSE handshake is over');
    const reply = Buffer.from('our handshake and bitfield');
    const sent = Buffer.from(reply);
    atB!.ciphers?.encrypt.process(sent);
    expect(atB!.ciphers === null).toBe(policy === 'prefer');
    expect(a.push(Buffer.concat([step4, sent])).established!.payload).toEqual(reply);
  });

  test.each([CRYPTO_PLAINTEXT, CRYPTO_RC4])('what follows the initial payload in the same chunk is payload too (crypto_provide %i)', (provide) => {
    const keys = newKeyPair();
    const b = receiver();
    const yb = b.push(keys.publicKey).send;
    const { bytes, encrypt } = step3(keys, yb, { provide, ia: ourHandshake });
    const interested = Buffer.from([0, 0, 0, 1, 2]);
    const sent = Buffer.from(interested);
    if (provide === CRYPTO_RC4) encrypt.process(sent);
    expect(b.push(Buffer.concat([bytes, sent])).established!.payload).toEqual(Buffer.concat([ourHandshake, interested]));
  });

  test('any cutting of the bytes gives the same outcome', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }), fc.boolean(), (sizes, rc4) => {
        const { a, b } = handshake(initiator({ policy: rc4 ? 'require' : 'prefer' }), receiver(), sizes);
        expect(a?.method).toBe(rc4 ? 'rc4' : 'plaintext');
        expect(b?.payload).toEqual(ourHandshake);
      }),
      propertyRuns(30),
    );
  });
});

/** A hand-made step 3 from an initiator whose keys we hold, with fields as a test wants them; `encrypt` goes on after it. */
function step3(keys: MseKeyPair, receiverKey: Buffer, fields: { vc?: Buffer; provide?: number; padC?: number; ia?: Buffer } = {}): { bytes: Buffer; encrypt: Rc4 } {
  const secret = sharedSecret(keys, receiverKey.subarray(0, 96));
  const padC = fields.padC ?? 0;
  const ia = fields.ia ?? Buffer.alloc(0);
  const sealed = Buffer.alloc(8 + 4 + 2 + padC + 2 + ia.length);
  (fields.vc ?? Buffer.alloc(8)).copy(sealed, 0);
  sealed.writeUInt32BE(fields.provide ?? CRYPTO_RC4, 8);
  sealed.writeUInt16BE(padC, 12);
  sealed.writeUInt16BE(ia.length, 14 + padC);
  ia.copy(sealed, 16 + padC);
  const { encrypt } = mseCiphers(secret, infoHash, true);
  encrypt.process(sealed);
  return { bytes: Buffer.concat([req1Hash(secret), maskedReq2(req2Hash(infoHash), secret), sealed]), encrypt };
}

describe('a receiver ends a bad handshake with a reason', () => {
  test(`padding is searched for HASH('req1', S) no further than ${MSE_MAX_PAD_BYTES} bytes`, () => {
    const b = receiver();
    b.push(newKeyPair().publicKey);
    // 512 bytes of padding and 19 of a marker that could still come: nothing to say yet.
    expect(b.push(randomBytes(MSE_MAX_PAD_BYTES + 19)).established).toBeNull();
    expect(() => b.push(Buffer.alloc(1))).toThrow(new MseHandshakeError("no HASH('req1', S) after its padding within 512 bytes of padding: not an MSE handshake, or not for the keys we agreed"));
  });

  test('an initiator that pads with more than 512 bytes is refused', () => {
    expect(() => handshake(initiator({ padding: pad(513) }), receiver())).toThrow(MseHandshakeError);
  });

  test('a torrent we do not have', () => {
    expect(() => handshake(initiator({ infoHash: Buffer.alloc(20, 9) }), receiver())).toThrow('it asks for a torrent we do not have (its req2 hash matches none of our info hashes)');
  });

  test('a public key outside the group', () => {
    expect(() => receiver().push(Buffer.alloc(96))).toThrow(/^its Diffie-Hellman public key is not valid/);
  });

  test('a verification constant that does not decrypt to zeros', () => {
    const keys = newKeyPair();
    const b = receiver();
    const yb = b.push(keys.publicKey).send;
    expect(() => b.push(step3(keys, yb, { vc: Buffer.alloc(8, 1) }).bytes)).toThrow('its verification constant (VC) does not decrypt to zeros: its keys are not ours');
  });

  test('PadC over 512 bytes', () => {
    const keys = newKeyPair();
    const b = receiver();
    const yb = b.push(keys.publicKey).send;
    expect(() => b.push(step3(keys, yb, { padC: 513 }).bytes)).toThrow('PadC of 513 bytes, over the 512 the specification allows');
  });

  test('an offer we accept nothing of: plaintext only, to a receiver that requires RC4', () => {
    const keys = newKeyPair();
    const b = receiver({ policy: 'require' });
    const yb = b.push(keys.publicKey).send;
    expect(() => b.push(step3(keys, yb, { provide: CRYPTO_PLAINTEXT }).bytes)).toThrow('it offers plaintext (crypto_provide 0x1), none of which we accept');
  });

  test('random bytes of any length and cutting end in an MseHandshakeError or a wait, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.integer({ min: 1, max: 300 }), (bytes, size) => {
        const b = receiver();
        try {
          for (const part of cut(Buffer.from(bytes), [size])) b.push(part);
          // Still waiting: then it has not been given more than the bounds let through.
          expect(bytes.length).toBeLessThan(96 + MSE_MAX_PAD_BYTES + 20);
        } catch (error) {
          expect(error).toBeInstanceOf(MseHandshakeError);
        }
      }),
      propertyRuns(60),
    );
  });
});

describe('an initiator ends a bad handshake with a reason', () => {
  test(`padding is searched for the encrypted VC no further than ${MSE_MAX_PAD_BYTES} bytes`, () => {
    const a = initiator();
    a.start();
    expect(a.keyReceived).toBe(false);
    expect(a.push(newKeyPair().publicKey).send.length).toBeGreaterThan(0);
    expect(a.keyReceived).toBe(true);
    expect(a.push(randomBytes(MSE_MAX_PAD_BYTES + 7)).established).toBeNull();
    expect(() => a.push(Buffer.alloc(1))).toThrow('no verification constant (VC) after its padding within 512 bytes of padding');
  });

  test('a receiver that pads with more than 512 bytes is refused', () => {
    expect(() => handshake(initiator(), receiver({ padding: pad(513) }))).toThrow(MseHandshakeError);
  });

  test('a crypto_select we did not offer', () => {
    const a = initiator({ policy: 'require' });
    const ya = a.start();
    const keys = newKeyPair();
    a.push(keys.publicKey);
    const secret = sharedSecret(keys, ya.subarray(0, 96));
    const reply = Buffer.alloc(14);
    reply.writeUInt32BE(CRYPTO_PLAINTEXT, 8);
    mseCiphers(secret, infoHash, false).encrypt.process(reply);
    expect(() => a.push(reply)).toThrow('it selected crypto method 0x1, not one of those we offered: RC4 (crypto_provide 0x2)');
  });

  test('PadD over 512 bytes', () => {
    const a = initiator();
    const ya = a.start();
    const keys = newKeyPair();
    a.push(keys.publicKey);
    const secret = sharedSecret(keys, ya.subarray(0, 96));
    const reply = Buffer.alloc(14);
    reply.writeUInt32BE(CRYPTO_RC4, 8);
    reply.writeUInt16BE(600, 12);
    mseCiphers(secret, infoHash, false).encrypt.process(reply);
    expect(() => a.push(reply)).toThrow('PadD of 600 bytes, over the 512 the specification allows');
  });
});

describe('what each policy offers and picks', () => {
  test.each([
    ['prefer', CRYPTO_PLAINTEXT | CRYPTO_RC4, 'plaintext'],
    ['prefer', CRYPTO_RC4, 'rc4'],
    ['prefer', CRYPTO_PLAINTEXT, 'plaintext'],
    ['prefer', 0x10, null],
    ['require', CRYPTO_PLAINTEXT | CRYPTO_RC4, 'rc4'],
    ['require', CRYPTO_PLAINTEXT, null],
  ] as const)('under %s, an offer of 0x%s gets %s', (policy, provide, method) => {
    expect(cryptoSelect(policy, provide)).toBe(method);
  });

  test('prefer offers plaintext and RC4, require RC4 only', () => {
    expect(cryptoProvide('prefer')).toBe(CRYPTO_PLAINTEXT | CRYPTO_RC4);
    expect(cryptoProvide('require')).toBe(CRYPTO_RC4);
  });
});
