/**
 * A peer-wire connection whose payload is RC4-encrypted (MSE with crypto_select RC4), as a
 * Duplex that behaves like the socket it wraps, so that PeerConnection and the handshake code
 * take either: writes are encrypted on their way to the socket, the socket's bytes decrypted on
 * their way out, and pause/resume, back-pressure, 'end', 'close' and 'error' pass through.
 *
 * Writes are copied as they are encrypted: the caller's buffers may be slab memory, which must
 * never change. Each batch of writes becomes one socket write, and the next batch waits for its
 * callback, so `writableLength` counts every byte not yet handed to the kernel, as a socket's does.
 */
import { Duplex } from 'node:stream';
import type { PeerSocket } from '../peer-socket.js';
import type { Rc4 } from './rc4.js';

export class EncryptedStream extends Duplex {
  constructor(
    private readonly socket: PeerSocket,
    private readonly ciphers: { encrypt: Rc4; decrypt: Rc4 },
  ) {
    super({
      // As a net.Socket: the peer's end of stream ends ours too.
      allowHalfOpen: false,
      readableHighWaterMark: socket.readableHighWaterMark,
      writableHighWaterMark: socket.writableHighWaterMark,
    });
    socket.on('data', (chunk: Buffer) => {
      // The socket's chunk is ours alone: decrypted in place.
      ciphers.decrypt.process(chunk);
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const out = Buffer.allocUnsafe(chunk.length);
    this.ciphers.encrypt.process(chunk, out);
    this.socket.write(out, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    let length = 0;
    for (const { chunk } of chunks) length += chunk.length;
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (const { chunk } of chunks) {
      this.ciphers.encrypt.process(chunk, out.subarray(at, at + chunk.length));
      at += chunk.length;
    }
    this.socket.write(out, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A socket that ended or failed already says so through its own events.
    if (this.socket.writableEnded || this.socket.destroyed) return callback();
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
