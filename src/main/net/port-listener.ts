/**
 * The one TCP port of a peer (docs/architecture.md, One port per peer): the first byte of a
 * connection decides its protocol. 19 is the length of "BitTorrent protocol": the peer wire. An
 * ASCII capital letter starts an HTTP method: tracker, status. Anything else (an encrypted MSE
 * handshake, say) is closed at once, so that the remote client retries in plain.
 *
 * Until a connection has shown what it is (a complete handshake, or the first bytes of an HTTP
 * request) it is pending: it has `handshakeTimeoutMs` in all, and at most
 * `maxPendingConnections` are pending at once, the oldest closed to make room for a newcomer,
 * so that a flood of silent or half-open connections cannot lock out real peers or /status.
 * HTTP connections are bounded apart (`maxHttpConnections`); peer-wire connections are the
 * session's to count once their handshake is read.
 */
import http from 'node:http';
import net from 'node:net';
import type { Logger } from '../logger.js';
import type { Settings } from '../../io/settings.js';
import type { Handshake } from '../wire/wire-messages.js';
import { WireParser } from '../wire/wire-parser.js';
import { readHandshake } from './handshake-exchange.js';
import { HttpDeadlines } from './http-deadlines.js';

export interface PortHandlers {
  /** A connection that sent a complete BitTorrent handshake; `parser` holds any bytes after it. */
  onPeerConnection(socket: net.Socket, parser: WireParser, handshake: Handshake): void;
  onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse): void;
  log: Logger;
  settings: Settings;
}

const HANDSHAKE_FIRST_BYTE = 19;

export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

export class PortListener {
  private readonly server: net.Server;
  private readonly http: http.Server;
  /** Every open socket, closed when the listener closes. */
  private readonly sockets = new Set<net.Socket>();
  /** Sockets not yet identified, oldest first. */
  private readonly pending = new Set<net.Socket>();
  private readonly httpSockets = new Set<net.Socket>();
  private readonly httpDeadlines: HttpDeadlines;
  private readonly settings: Settings;

  constructor(private readonly handlers: PortHandlers) {
    this.settings = handlers.settings;
    this.httpDeadlines = new HttpDeadlines({
      headersTimeoutMs: this.settings.httpHeadersTimeoutMs,
      requestTimeoutMs: this.settings.httpRequestTimeoutMs,
    });
    // Headers over the size limit are answered 431 by node:http itself; its time-outs would never
    // fire here (see HttpDeadlines), so they are left off.
    this.http = http.createServer({ maxHeaderSize: this.settings.httpMaxHeaderBytes, headersTimeout: 0, requestTimeout: 0 }, (req, res) => {
      this.httpDeadlines.requestStarted(req, res);
      handlers.onHttpRequest(req, res);
    });
    this.server = net.createServer((socket) => this.sniff(socket));
  }

  private sniff(socket: net.Socket): void {
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    const close = (reason: string): void => {
      this.handlers.log.debug(`closed incoming connection from ${from}: ${reason}`);
      socket.destroy();
    };
    if (this.pending.size >= this.settings.maxPendingConnections) {
      const oldest = this.pending.values().next().value!;
      this.pending.delete(oldest);
      this.handlers.log.debug(`closed incoming connection from ${oldest.remoteAddress}:${oldest.remotePort}: not identified yet, and ${this.settings.maxPendingConnections} connections were waiting (maxPendingConnections)`);
      oldest.destroy();
    }
    this.sockets.add(socket);
    this.pending.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.pending.delete(socket);
      this.httpSockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    const startedAt = Date.now();
    const deadline = setTimeout(() => close(`no handshake within ${this.settings.handshakeTimeoutMs} ms (handshakeTimeoutMs)`), this.settings.handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(deadline));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const first = chunk[0];
      if (first === HANDSHAKE_FIRST_BYTE) {
        socket.setNoDelay(true);
        const parser = new WireParser({ expectHandshake: true, maxFrameLength: this.settings.maxFrameLength });
        const timeLeft = this.settings.handshakeTimeoutMs - (Date.now() - startedAt);
        clearTimeout(deadline);
        readHandshake(socket, parser, { leftMs: timeLeft, limitMs: this.settings.handshakeTimeoutMs }, chunk).then(
          (handshake) => {
            this.pending.delete(socket);
            if (!socket.destroyed) this.handlers.onPeerConnection(socket, parser, handshake);
          },
          (error: Error) => close(error.message),
        );
      } else if (first >= 0x41 && first <= 0x5a) {
        clearTimeout(deadline);
        this.pending.delete(socket);
        if (this.httpSockets.size >= this.settings.maxHttpConnections) {
          return close(`${this.settings.maxHttpConnections} HTTP connections are open already (maxHttpConnections)`);
        }
        this.httpSockets.add(socket);
        // The HTTP server reads the bytes already taken from the socket once they are put back.
        socket.unshift(chunk);
        this.httpDeadlines.adopt(socket);
        this.http.emit('connection', socket);
        socket.resume();
      } else {
        close('neither a BitTorrent handshake nor HTTP (an encrypted handshake?)');
      }
    });
  }

  /** Starts listening; a busy port or a bad address becomes a ListenError with a clear reason. */
  listen(port: number, host: string | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const where = `${host ?? '0.0.0.0'}:${port}`;
        if (error.code === 'EADDRINUSE') reject(new ListenError(`port ${port} is already in use (${where}); choose another with --port`));
        else if (error.code === 'EADDRNOTAVAIL') reject(new ListenError(`${host} is not an address of this machine (--host)`));
        else if (error.code === 'EACCES') reject(new ListenError(`not allowed to listen on ${where}; choose a port above 1023 with --port`));
        else reject(new ListenError(`cannot listen on ${where}: ${error.message}`));
      };
      this.server.once('error', onError);
      this.server.listen({ port, host: host ?? '0.0.0.0' }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** Incoming connections not yet identified. */
  get pendingCount(): number {
    return this.pending.size;
  }

  get httpCount(): number {
    return this.httpSockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
