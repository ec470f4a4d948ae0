/**
 * An in-memory connection for unit tests of what runs over a socket (PeerConnection, the MSE
 * handshake, the encrypted stream): two ends, each a Duplex whose writes the other reads.
 */
import { Duplex } from 'node:stream';

/**
 * One end. What it writes reaches the other end as a copy, since a reader may change its chunks
 * in place (the encrypted stream decrypts them), and is kept in `wire` as sent. While stalled,
 * writes wait, as on a socket whose peer reads nothing. Destroying it ends the other side.
 */
export class MemoryEnd extends Duplex {
  other!: MemoryEnd;
  readonly wire: Buffer[] = [];
  private stalled: (() => void)[] | null = null;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const deliver = (): void => {
      this.wire.push(Buffer.from(chunk));
      if (!this.destroyed && !this.other.destroyed) this.other.push(Buffer.from(chunk));
      callback();
    };
    if (this.stalled) this.stalled.push(deliver);
    else deliver();
  }

  override _final(callback: () => void): void {
    this.other.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.other.push(null);
    callback(error);
  }

  stall(): void {
    this.stalled = [];
  }

  flow(): void {
    const held = this.stalled ?? [];
    this.stalled = null;
    for (const deliver of held) deliver();
  }
}

export function memoryPair(): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}
