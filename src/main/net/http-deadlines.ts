/**
 * Time limits of HTTP clients on the peer port. node:http enforces its own `headersTimeout` and
 * `requestTimeout` only on a server that listens itself (its check starts on 'listening'); ours
 * is handed its sockets by the port listener, so without these deadlines a client that sends its
 * headers a byte at a time would hold its connection for ever.
 *
 * The headers of each request must be in within `headersTimeoutMs` of the connection being
 * handed over, or of the previous response on a kept-alive connection; a client too slow is
 * answered 408 and cut off. The response must then be taken within `requestTimeoutMs`, so that
 * a client that never reads a large /status cannot pin it either. A response under way whose
 * every byte the client has taken (a file streamed as its pieces arrive, GET /files/...) waits on
 * us, not on the client: its time starts again; the number of such streams is bounded apart.
 */
import type http from 'node:http';
import type net from 'node:net';

export interface HttpTimeLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

const REQUEST_TIMEOUT_REPLY = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export class HttpDeadlines {
  private readonly timers = new Map<net.Socket, NodeJS.Timeout>();

  constructor(private readonly limits: HttpTimeLimits) {}

  /** A connection handed to the HTTP server: its first request's headers are awaited from now. */
  adopt(socket: net.Socket): void {
    socket.once('close', () => {
      clearTimeout(this.timers.get(socket));
      this.timers.delete(socket);
    });
    this.awaitHeaders(socket);
  }

  /** The headers of a request are in (the server's 'request' event): the response is awaited. */
  requestStarted(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    if (!this.timers.has(socket)) return;
    const expire = (): void => {
      if (res.headersSent && !res.writableEnded && socket.writableLength === 0) return this.arm(socket, this.limits.requestTimeoutMs, expire);
      socket.destroy();
    };
    this.arm(socket, this.limits.requestTimeoutMs, expire);
    res.once('finish', () => {
      if (!socket.destroyed) this.awaitHeaders(socket);
    });
  }

  private awaitHeaders(socket: net.Socket): void {
    this.arm(socket, this.limits.headersTimeoutMs, () => {
      // Destroyed at once rather than ended, as node:http does: a client that reads nothing
      // would leave an ended socket waiting for ever to flush.
      socket.write(REQUEST_TIMEOUT_REPLY);
      socket.destroy();
    });
  }

  private arm(socket: net.Socket, ms: number, expire: () => void): void {
    clearTimeout(this.timers.get(socket));
    this.timers.set(socket, setTimeout(expire, ms));
  }
}
