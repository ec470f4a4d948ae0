/** A raw-socket HTTP client for tests of slow and oversized requests: it writes exactly what a test scripts. */
import net from 'node:net';

/** A raw client that keeps what it receives and knows when it was closed. */
export class RawHttpClient {
  received = '';
  readonly closed: Promise<number>;
  private readonly socket: net.Socket;
  private readonly openedAt = Date.now();

  constructor(
    port: number,
    /** Bound on every wait of this client. */
    private readonly waitMs: number,
  ) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('error', () => undefined);
    this.socket.setEncoding('latin1').on('data', (text: string) => (this.received += text));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve(Date.now() - this.openedAt)));
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  pause(): void {
    this.socket.pause();
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Writes `text` one byte every `gapMs` until it is all sent or the connection is closed. */
  async trickle(text: string, gapMs: number): Promise<void> {
    for (const char of text) {
      if (this.isClosed) return;
      this.write(char);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  }

  /** Waits until `count` responses are in, with a bound. */
  async responses(count: number): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    while (this.received.split('HTTP/1.1 200').length - 1 < count) {
      if (Date.now() > deadline || this.isClosed) throw new Error(`expected ${count} responses, got: ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}
