/**
 * The keys of Message Stream Encryption (MSE/PE, the Vuze specification that libtorrent,
 * Transmission and aria2 implement): Diffie-Hellman over the specification's 768-bit prime with
 * generator 2, the hashes each side sends to prove it holds the shared secret S and to name the
 * torrent (SKEY, its info hash) without sending it in clear, and the two RC4 streams derived from
 * S and SKEY.
 */
import { createDiffieHellman, createHash, randomBytes, type DiffieHellman } from 'node:crypto';
import { Rc4 } from './rc4.js';

/** The prime P of the specification; the generator is 2. */
const PRIME_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563';
/** Bytes of a public key and of the secret S: the prime's length, big-endian, zero-padded. */
export const MSE_KEY_BYTES = 96;
/** Bytes of a private key: the specification asks for at least 128 bits and sees no gain beyond 180. */
export const MSE_PRIVATE_KEY_BYTES = 20;
/** Keystream bytes dropped before use, as the specification asks (RC4's first bytes leak its key). */
export const RC4_DISCARD_BYTES = 1024;

/**
 * One DiffieHellman object for every connection: making one checks the prime, about 20 ms of
 * main-thread time, where a key pair or a secret costs a twentieth of a millisecond. Each use
 * sets its own private key first; all of it is synchronous, so connections cannot interleave.
 */
let group: DiffieHellman | null = null;
function dh(privateKey: Buffer): DiffieHellman {
  group ??= createDiffieHellman(Buffer.from(PRIME_HEX, 'hex'), Buffer.from([2]));
  group.setPrivateKey(privateKey);
  return group;
}

export interface MseKeyPair {
  privateKey: Buffer;
  /** G^X mod P, MSE_KEY_BYTES long. */
  publicKey: Buffer;
}

export class MseKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MseKeyError';
  }
}

function padded(value: Buffer): Buffer {
  if (value.length >= MSE_KEY_BYTES) return value;
  return Buffer.concat([Buffer.alloc(MSE_KEY_BYTES - value.length), value]);
}

export function newKeyPair(privateKey: Buffer = randomBytes(MSE_PRIVATE_KEY_BYTES)): MseKeyPair {
  return { privateKey, publicKey: padded(dh(privateKey).generateKeys()) };
}

/** S: the secret both sides compute. A public key outside 2..P-2 (0, 1, P-1: a secret anyone knows) is refused. */
export function sharedSecret(keys: MseKeyPair, remotePublicKey: Buffer): Buffer {
  try {
    return padded(dh(keys.privateKey).computeSecret(remotePublicKey));
  } catch (error) {
    throw new MseKeyError(`its Diffie-Hellman public key is not valid (${(error as Error).message})`);
  }
}

/** HASH of the specification: SHA-1 over the parts in order. */
export function mseHash(...parts: (string | Buffer)[]): Buffer {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** HASH('req1', S): the initiator's marker after its padding, which the receiver synchronizes on. */
export function req1Hash(secret: Buffer): Buffer {
  return mseHash('req1', secret);
}

/** HASH('req2', SKEY): what names a torrent, once the receiver has taken HASH('req3', S) off. */
export function req2Hash(infoHash: Buffer): Buffer {
  return mseHash('req2', infoHash);
}

/** HASH('req2', SKEY) xor HASH('req3', S): the torrent's name as sent; xor is its own inverse. */
export function maskedReq2(req2OrMasked: Buffer, secret: Buffer): Buffer {
  const req3 = mseHash('req3', secret);
  const out = Buffer.alloc(req3.length);
  for (let k = 0; k < out.length; k++) out[k] = req2OrMasked[k] ^ req3[k];
  return out;
}

/** The RC4 streams of one side: `encrypt` for what it sends, `decrypt` for what it receives, the first 1024 bytes dropped. */
export interface MseCiphers {
  encrypt: Rc4;
  decrypt: Rc4;
}

/** The initiator (A) encrypts with HASH('keyA', S, SKEY), the receiver (B) with HASH('keyB', S, SKEY). */
export function mseCiphers(secret: Buffer, infoHash: Buffer, initiator: boolean): MseCiphers {
  const stream = (name: string): Rc4 => {
    const rc4 = new Rc4(mseHash(name, secret, infoHash));
    rc4.skip(RC4_DISCARD_BYTES);
    return rc4;
  };
  const a = stream('keyA');
  const b = stream('keyB');
  return initiator ? { encrypt: a, decrypt: b } : { encrypt: b, decrypt: a };
}

/**
 * Finds which of our torrents an incoming handshake names, by HASH('req2', info hash). The
 * hashes are kept between connections (a session may hold thousands of torrents); entries of
 * torrents no longer offered are dropped when the index has grown well past the current count.
 */
export class Req2Index {
  /** req2 hash (hex) by info hash (hex). */
  private readonly hashes = new Map<string, string>();

  find(req2: Buffer, infoHashes: Iterable<Buffer>): Buffer | null {
    const wanted = req2.toString('hex');
    let count = 0;
    let found: Buffer | null = null;
    for (const infoHash of infoHashes) {
      count++;
      const key = infoHash.toString('hex');
      let hash = this.hashes.get(key);
      if (hash === undefined) {
        hash = req2Hash(infoHash).toString('hex');
        this.hashes.set(key, hash);
      }
      if (hash === wanted) found ??= infoHash;
    }
    if (this.hashes.size > 2 * count + 64) this.hashes.clear();
    return found;
  }
}
