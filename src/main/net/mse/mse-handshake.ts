/**
 * The MSE/PE handshake as two pure state machines over bytes, one per side; the socket code
 * (mse-exchange.ts) only moves bytes in and out. The exchange, in the specification's words:
 *
 *   1 A->B  Ya, PadA
 *   2 B->A  Yb, PadB
 *   3 A->B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
 *           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B->A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 *   5 A->B  ENCRYPT2(payload)
 *
 * Pads are 0 to 512 bytes of unknown length, so each side finds where the next part starts by
 * searching for a marker: B for HASH('req1', S), A for VC encrypted with B's key. A marker not
 * found within 512 bytes of padding is an error, which bounds what a side buffers; so do the
 * 2-byte lengths of PadC, PadD (at most 512) and IA. Every fault is an MseHandshakeError with a
 * reason for the log; the connection is then the caller's to close.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { describeProvide, CRYPTO_PLAINTEXT, CRYPTO_RC4, methodBit, type CryptoMethod } from './encryption-policy.js';
import { PROTOCOL_NAME } from '../../wire/wire-messages.js';
import { maskedReq2, mseCiphers, MseKeyError, newKeyPair, req1Hash, req2Hash, sharedSecret, MSE_KEY_BYTES, type MseCiphers, type MseKeyPair } from './mse-keys.js';

/** The most padding the specification allows, in PadA, PadB, PadC and PadD. */
export const MSE_MAX_PAD_BYTES = 512;
/** VC, the verification constant: 8 zero bytes. */
const VC_BYTES = 8;
const HASH_BYTES = 20;
/** How a plain BitTorrent handshake starts: a peer that answers ours with it does not speak MSE. */
const PLAIN_START = Buffer.from(`\x13${PROTOCOL_NAME}`, 'latin1');

export class MseHandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MseHandshakeError';
  }
}

/** The handshake is over: how the payload travels, and what of it has arrived already. */
export interface MseEstablished {
  method: CryptoMethod;
  /** SKEY: the torrent the connection is for. */
  infoHash: Buffer;
  /** The RC4 streams of the payload, each past the handshake's bytes; null under plaintext. */
  ciphers: MseCiphers | null;
  /** Payload bytes received with the handshake, decrypted: for the receiver, the initial payload (IA) first. */
  payload: Buffer;
}

export interface MseStep {
  /** Bytes to send the other side now; empty when there is nothing to send. */
  send: Buffer;
  /** Set once, when the handshake completes; the machine takes no more bytes after that. */
  established: MseEstablished | null;
}

/** Random padding of a random length up to `max` bytes (tests hand in their own). */
export type PaddingSource = (max: number) => Buffer;
export const randomPadding: PaddingSource = (max) => randomBytes(randomInt(max + 1));

/** Chunks as they came, joined only for what is read: a peer dripping bytes costs no quadratic copying. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first `count` bytes (fewer if fewer are held), left in the queue. */
  peek(count: number): Buffer {
    const head = this.chunks[0];
    if (head === undefined) return Buffer.alloc(0);
    if (head.length >= count || this.chunks.length === 1) return head.subarray(0, count);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, count);
  }

  /** Removes and returns the first `count` bytes, copied, so that decrypting them in place touches no caller's buffer. */
  take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const head = this.chunks[0];
      const part = Math.min(head.length, count - filled);
      head.copy(out, filled, 0, part);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    this.length -= count;
    return out;
  }

  takeAll(): Buffer {
    return this.take(this.length);
  }
}

abstract class MseSide {
  protected readonly queue = new ByteQueue();
  private over = false;

  /** Takes bytes from the other side; throws MseHandshakeError when they break the handshake. */
  push(chunk: Buffer): MseStep {
    if (this.over) throw new Error('the MSE handshake is over: later bytes belong to the payload stream');
    this.queue.push(chunk);
    const send: Buffer[] = [];
    let established: MseEstablished | null;
    try {
      established = this.advance(send);
    } catch (error) {
      this.over = true;
      if (error instanceof MseKeyError) throw new MseHandshakeError(error.message);
      throw error;
    }
    if (established) this.over = true;
    return { send: Buffer.concat(send), established };
  }

  /** Moves through as many states as the queued bytes allow; the result once the handshake is done. */
  protected abstract advance(send: Buffer[]): MseEstablished | null;

  /**
   * Drops bytes up to and including `marker`, which must start within MSE_MAX_PAD_BYTES of the
   * queue's head; returns false while it may still come.
   */
  protected syncOn(marker: Buffer, what: string): boolean {
    const window = MSE_MAX_PAD_BYTES + marker.length;
    const at = this.queue.peek(window).indexOf(marker);
    if (at < 0) {
      if (this.queue.length >= window) throw new MseHandshakeError(`no ${what} within ${MSE_MAX_PAD_BYTES} bytes of padding: not an MSE handshake, or not for the keys we agreed`);
      return false;
    }
    this.queue.take(at + marker.length);
    return true;
  }

  /** The payload that came with the handshake, decrypted when the method is RC4. */
  protected payload(ciphers: MseCiphers | null, head: Buffer = Buffer.alloc(0)): Buffer {
    const rest = this.queue.takeAll();
    ciphers?.decrypt.process(rest);
    return head.length === 0 ? rest : Buffer.concat([head, rest]);
  }
}

function checkPadLength(length: number, which: string): number {
  if (length > MSE_MAX_PAD_BYTES) throw new MseHandshakeError(`${which} of ${length} bytes, over the ${MSE_MAX_PAD_BYTES} the specification allows`);
  return length;
}

export interface InitiatorSetup {
  infoHash: Buffer;
  /** crypto_provide: the methods we offer (encryption-policy.ts). */
  provide: number;
  /** IA: sent encrypted inside step 3, so that our BitTorrent handshake costs no extra round trip. */
  initialPayload: Buffer;
  keys?: MseKeyPair;
  padding?: PaddingSource;
}

/** Side A: the one that dialled. */
export class MseInitiator extends MseSide {
  private state: 'key' | 'vc' | 'select' | 'pad-d' = 'key';
  private readonly keys: MseKeyPair;
  private readonly padding: PaddingSource;
  private ciphers: MseCiphers | null = null;
  /** VC as B's RC4 stream encrypts it: A's marker for the end of PadB. */
  private encryptedVc: Buffer | null = null;
  private method: CryptoMethod = 'rc4';
  private padDLength = 0;

  constructor(private readonly setup: InitiatorSetup) {
    super();
    if (setup.initialPayload.length > 0xffff) throw new RangeError('the initial payload (IA) has a 2-byte length');
    this.keys = setup.keys ?? newKeyPair();
    this.padding = setup.padding ?? randomPadding;
  }

  /** Step 1: Ya and PadA, the first bytes on the connection. */
  start(): Buffer {
    return Buffer.concat([this.keys.publicKey, this.padding(MSE_MAX_PAD_BYTES)]);
  }

  /** Whether B's public key has arrived: a peer that closes or fails before is taken not to speak MSE. */
  get keyReceived(): boolean {
    return this.state !== 'key';
  }

  protected advance(send: Buffer[]): MseEstablished | null {
    const { queue } = this;
    if (this.state === 'key') {
      if (queue.length >= PLAIN_START.length && queue.peek(PLAIN_START.length).equals(PLAIN_START)) {
        throw new MseHandshakeError('it answered with a plain BitTorrent handshake: it does not speak MSE');
      }
      if (queue.length < MSE_KEY_BYTES) return null;
      const secret = sharedSecret(this.keys, queue.take(MSE_KEY_BYTES));
      const { infoHash, provide, initialPayload } = this.setup;
      this.ciphers = mseCiphers(secret, infoHash, true);
      const sealed = Buffer.alloc(VC_BYTES + 4 + 2 + 2 + initialPayload.length);
      sealed.writeUInt32BE(provide, VC_BYTES);
      // PadC stays empty: the specification reserves it, and nobody has found a use for it.
      sealed.writeUInt16BE(0, VC_BYTES + 4);
      sealed.writeUInt16BE(initialPayload.length, VC_BYTES + 6);
      initialPayload.copy(sealed, VC_BYTES + 8);
      this.ciphers.encrypt.process(sealed);
      send.push(req1Hash(secret), maskedReq2(req2Hash(infoHash), secret), sealed);
      this.encryptedVc = Buffer.alloc(VC_BYTES);
      this.ciphers.decrypt.process(this.encryptedVc);
      this.state = 'vc';
    }
    const ciphers = this.ciphers!;
    if (this.state === 'vc') {
      if (!this.syncOn(this.encryptedVc!, 'verification constant (VC) after its padding')) return null;
      this.state = 'select';
    }
    if (this.state === 'select') {
      if (queue.length < 6) return null;
      const fields = queue.take(6);
      ciphers.decrypt.process(fields);
      const select = fields.readUInt32BE(0);
      if ((select !== CRYPTO_PLAINTEXT && select !== CRYPTO_RC4) || !(select & this.setup.provide)) {
        throw new MseHandshakeError(`it selected crypto method 0x${select.toString(16)}, not one of those we offered: ${describeProvide(this.setup.provide)}`);
      }
      this.method = select === CRYPTO_RC4 ? 'rc4' : 'plaintext';
      this.padDLength = checkPadLength(fields.readUInt16BE(4), 'PadD');
      this.state = 'pad-d';
    }
    if (queue.length < this.padDLength) return null;
    ciphers.decrypt.process(queue.take(this.padDLength));
    const payloadCiphers = this.method === 'rc4' ? ciphers : null;
    return { method: this.method, infoHash: this.setup.infoHash, ciphers: payloadCiphers, payload: this.payload(payloadCiphers) };
  }
}

export interface ReceiverSetup {
  /** The info hash of ours whose HASH('req2', ·) this is; null when we have no such torrent. */
  findInfoHash(req2: Buffer): Buffer | null;
  /** crypto_select from the initiator's crypto_provide (encryption-policy.ts); null when nothing offered suits us. */
  select(provide: number): CryptoMethod | null;
  keys?: MseKeyPair;
  padding?: PaddingSource;
}

/** Side B: the one that was dialled, which learns the torrent from the handshake. */
export class MseReceiver extends MseSide {
  private state: 'key' | 'req1' | 'skey' | 'provide' | 'pad-c' | 'ia' = 'key';
  private readonly keys: MseKeyPair;
  private readonly padding: PaddingSource;
  private secret: Buffer | null = null;
  private infoHash: Buffer | null = null;
  private ciphers: MseCiphers | null = null;
  private provide = 0;
  private padCLength = 0;
  private iaLength = 0;

  constructor(private readonly setup: ReceiverSetup) {
    super();
    this.keys = setup.keys ?? newKeyPair();
    this.padding = setup.padding ?? randomPadding;
  }

  protected advance(send: Buffer[]): MseEstablished | null {
    const { queue } = this;
    if (this.state === 'key') {
      if (queue.length < MSE_KEY_BYTES) return null;
      this.secret = sharedSecret(this.keys, queue.take(MSE_KEY_BYTES));
      send.push(this.keys.publicKey, this.padding(MSE_MAX_PAD_BYTES));
      this.state = 'req1';
    }
    const secret = this.secret!;
    if (this.state === 'req1') {
      if (!this.syncOn(req1Hash(secret), "HASH('req1', S) after its padding")) return null;
      this.state = 'skey';
    }
    if (this.state === 'skey') {
      if (queue.length < HASH_BYTES) return null;
      this.infoHash = this.setup.findInfoHash(maskedReq2(queue.take(HASH_BYTES), secret));
      if (!this.infoHash) throw new MseHandshakeError('it asks for a torrent we do not have (its req2 hash matches none of our info hashes)');
      this.ciphers = mseCiphers(secret, this.infoHash, false);
      this.state = 'provide';
    }
    const ciphers = this.ciphers!;
    if (this.state === 'provide') {
      if (queue.length < VC_BYTES + 6) return null;
      const fields = queue.take(VC_BYTES + 6);
      ciphers.decrypt.process(fields);
      if (!fields.subarray(0, VC_BYTES).equals(Buffer.alloc(VC_BYTES))) throw new MseHandshakeError('its verification constant (VC) does not decrypt to zeros: its keys are not ours');
      this.provide = fields.readUInt32BE(VC_BYTES);
      this.padCLength = checkPadLength(fields.readUInt16BE(VC_BYTES + 4), 'PadC');
      this.state = 'pad-c';
    }
    if (this.state === 'pad-c') {
      if (queue.length < this.padCLength + 2) return null;
      const fields = queue.take(this.padCLength + 2);
      ciphers.decrypt.process(fields);
      this.iaLength = fields.readUInt16BE(this.padCLength);
      this.state = 'ia';
    }
    if (queue.length < this.iaLength) return null;
    const initialPayload = queue.take(this.iaLength);
    ciphers.decrypt.process(initialPayload);
    const method = this.setup.select(this.provide);
    if (!method) throw new MseHandshakeError(`it offers ${describeProvide(this.provide)}, none of which we accept`);
    const reply = Buffer.alloc(VC_BYTES + 4 + 2);
    reply.writeUInt32BE(methodBit(method), VC_BYTES);
    // PadD stays empty, as PadC: reserved by the specification.
    ciphers.encrypt.process(reply);
    send.push(reply);
    const payloadCiphers = method === 'rc4' ? ciphers : null;
    return { method, infoHash: this.infoHash!, ciphers: payloadCiphers, payload: this.payload(payloadCiphers, initialPayload) };
  }
}
