/**
 * The one TCP port of a peer (DESIGN.md, One port per peer): the first byte of a connection
 * decides its protocol. 19 is the length of "BitTorrent protocol": the peer wire. An ASCII
 * capital letter starts an HTTP method: tracker, status. Anything else (an encrypted MSE
 * handshake, say) is closed at once, so that the remote client retries in plain.
 */
import http from 'node:http';
import net from 'node:net';
import { settings } from '../settings.js';
import { HttpDeadlines } from './http-deadlines.js';

export interface PortHandlers {
  /** A connection that starts a BitTorrent handshake; `firstChunk` holds its first bytes. */
  onPeerConnection(socket: net.Socket, firstChunk: Buffer): void;
  onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse): void;
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
  private readonly sockets = new Set<net.Socket>();
  private readonly httpDeadlines = new HttpDeadlines({
    headersTimeoutMs: settings.httpHeadersTimeoutMs,
    requestTimeoutMs: settings.httpRequestTimeoutMs,
  });

  constructor(private readonly handlers: PortHandlers) {
    // Headers over the size limit are answered 431 by node:http itself; its time-outs would never
    // fire here (see HttpDeadlines), so they are left off.
    this.http = http.createServer({ maxHeaderSize: settings.httpMaxHeaderBytes, headersTimeout: 0, requestTimeout: 0 }, (req, res) => {
      this.httpDeadlines.requestStarted(req, res);
      handlers.onHttpRequest(req, res);
    });
    this.server = net.createServer((socket) => this.sniff(socket));
  }

  private sniff(socket: net.Socket): void {
    if (this.sockets.size >= settings.maxConnections) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(settings.handshakeTimeoutMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      const first = chunk[0];
      if (first === HANDSHAKE_FIRST_BYTE) {
        socket.setNoDelay(true);
        this.handlers.onPeerConnection(socket, chunk);
      } else if (first >= 0x41 && first <= 0x5a) {
        // The HTTP server reads the bytes already taken from the socket once they are put back.
        socket.unshift(chunk);
        this.httpDeadlines.adopt(socket);
        this.http.emit('connection', socket);
        socket.resume();
      } else {
        socket.destroy();
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

  get connectionCount(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
