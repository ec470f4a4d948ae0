/** A raw-socket peer for tests: sends exactly the bytes a test scripts, and reads what comes back. */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { encodeExtensionHandshake } from '../../src/main/wire/extension-handshake.js';
import { encodeHandshake, encodeMessage } from '../../src/main/wire/wire-codec.js';
import type { ParserEvent } from '../../src/main/wire/wire-parser.js';
import { WireParser } from '../../src/main/wire/wire-parser.js';
import { FAST_EXTENSION_BIT, FAST_EXTENSION_BYTE, PROTOCOL_NAME, type WireMessage } from '../../src/main/wire/wire-messages.js';

export interface ScriptedPeerOptions {
  peerId?: Buffer;
  /** The loopback address to connect from (any of 127.0.0.0/8), so that tests can play many hosts. */
  localAddress?: string;
  /**
   * Set the Fast extension bit (BEP 6) in the handshake. Off by default, so that a script
   * written for BEP 3 (a choked peer that requests, no HAVE_NONE) means what it says.
   */
  fast?: boolean;
  /** Set the DHT bit (BEP 5) in the handshake: we run a DHT node, send us PORT. */
  dht?: boolean;
}

export function randomPeerId(): Buffer {
  return Buffer.concat([Buffer.from('-XX0000-'), randomBytes(12)]);
}

/** A bitfield with every one of `count` pieces set (spare bits clear, as BEP 3 asks). */
export function allPieces(count: number): Buffer {
  const bits = Buffer.alloc(Math.ceil(count / 8), 0xff);
  if (count % 8) bits[bits.length - 1] = (0xff << (8 - (count % 8))) & 0xff;
  return bits;
}

/** A plain TCP connection to a peer's port, for tests that send bytes that are not a peer's. */
export async function rawConnection(port: number, localAddress?: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    closed.then(() => reject(new Error(`could not connect to port ${port}`)), () => undefined);
  });
  return { socket, closed };
}

/** Resolves true if `closed` settles within the bound. */
export async function settlesWithin(closed: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const result = await Promise.race([closed.then(() => true), timedOut]);
  clearTimeout(timer);
  return result;
}

export class ScriptedPeer {
  readonly events: ParserEvent[] = [];
  readonly closed: Promise<void>;
  private readonly parser = new WireParser({ expectHandshake: true });
  private waiters: (() => void)[] = [];
  private listeners: ((event: ParserEvent) => void)[] = [];

  private constructor(
    readonly socket: net.Socket,
    pieceCount: number,
    readonly peerId: Buffer,
  ) {
    this.parser.setPieceCount(pieceCount);
    socket.on('data', (chunk: Buffer) => {
      const { events, error } = this.parser.push(chunk);
      this.events.push(...events);
      for (const event of events) for (const listener of this.listeners) listener(event);
      if (error) throw error;
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(port: number, infoHash: Buffer, pieceCount: number, options: ScriptedPeerOptions = {}): Promise<ScriptedPeer> {
    const peerId = options.peerId ?? randomPeerId();
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const peer = new ScriptedPeer(socket, pieceCount, peerId);
    const handshake = encodeHandshake(infoHash, peerId, { dht: options.dht });
    if (!options.fast) handshake[1 + PROTOCOL_NAME.length + FAST_EXTENSION_BYTE] &= ~FAST_EXTENSION_BIT;
    socket.write(handshake);
    return peer;
  }

  /** Connects as a peer that has every piece and unchokes at once, once the handshakes are done. */
  static async connectAsSeeder(port: number, infoHash: Buffer, pieceCount: number): Promise<ScriptedPeer> {
    const peer = await ScriptedPeer.connect(port, infoHash, pieceCount);
    await peer.waitFor((e) => e.kind === 'handshake', 5_000, 'the handshake');
    peer.send({ kind: 'bitfield', bits: allPieces(pieceCount) });
    peer.send({ kind: 'unchoke' });
    return peer;
  }

  /** Tells the peer, in a BEP 10 handshake, the port we would listen on (it shows in /status as ip:port). */
  sendListenPort(port: number): void {
    this.send({ kind: 'extended', extId: 0, payload: encodeExtensionHandshake({ m: {}, p: port }) });
  }

  /**
   * Answers every request from `data` (pieces of `pieceLength`), with the block `corrupt` returns
   * instead of the true one when it returns one. Returns the list of blocks sent, as "index:begin".
   */
  serve(data: Buffer, pieceLength: number, corrupt: (index: number, begin: number, block: Buffer) => Buffer | undefined = () => undefined): string[] {
    const sent: string[] = [];
    this.onEvent((event) => {
      if (event.kind !== 'request' || this.isClosed) return;
      const start = event.index * pieceLength + event.begin;
      const block = data.subarray(start, start + event.length);
      this.send({ kind: 'piece', index: event.index, begin: event.begin, block: corrupt(event.index, event.begin, block) ?? block });
      sent.push(`${event.index}:${event.begin}`);
    });
    return sent;
  }

  /** Calls `listener` for every event from now on (a scripted answer to requests, say). */
  onEvent(listener: (event: ParserEvent) => void): void {
    this.listeners.push(listener);
  }

  send(message: WireMessage): void {
    this.socket.write(encodeMessage(message));
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed';
  }

  /** Waits for an event matching `predicate`, with a bound. */
  async waitFor(predicate: (event: ParserEvent) => boolean, timeoutMs: number, what: string): Promise<ParserEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.kind).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves true if the remote side closes the connection within the bound. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true), timedOut]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
