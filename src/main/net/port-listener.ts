/**
 * The one TCP port of a peer (docs/architecture.md, One port per peer): the first bytes of a
 * connection decide its protocol (connection-kind.ts). 19 and "BitTorrent protocol" is the plain
 * peer wire; an HTTP method is HTTP: tracker, status. Anything else is taken for an encrypted
 * handshake (MSE/PE, mse/), answered under `--encryption prefer` or `require` and closed at once
 * under `off`; `require` closes plain handshakes too. An encrypted handshake names its torrent by
 * a hash of the info hash, looked up among the session's (`infoHashes`); the BitTorrent handshake
 * inside it must name the same one.
 *
 * Until a connection has shown what it is (a complete handshake, encrypted or not, or the first
 * bytes of an HTTP request) it is pending: it has `handshakeTimeoutMs` in all, and at most
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
import { connectionKind } from './connection-kind.js';
import { readHandshake } from './handshake-exchange.js';
import { HttpDeadlines } from './http-deadlines.js';
import { allowsMse, allowsPlain, cryptoSelect, peerEncryption, type EncryptionPolicy, type PeerEncryption } from './mse/encryption-policy.js';
import { exchangeMse, payloadStream } from './mse/mse-exchange.js';
import { MseReceiver } from './mse/mse-handshake.js';
import { Req2Index } from './mse/mse-keys.js';
import type { PeerSocket } from './peer-socket.js';

export interface PortHandlers {
  /**
   * A connection that sent a complete BitTorrent handshake; `parser` holds any bytes after it.
   * `encryption` is what its handshake chose, for /status.
   */
  onPeerConnection(socket: PeerSocket, parser: WireParser, handshake: Handshake, encryption: PeerEncryption): void;
  onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse): void;
  log: Logger;
  settings: Settings;
  /** --encryption: whether encrypted handshakes are answered and plain ones taken. */
  encryption: EncryptionPolicy;
  /** The info hashes of every torrent of the session, magnets included: those an encrypted handshake may name. */
  infoHashes(): Iterable<Buffer>;
}

/** The length of "BitTorrent protocol", the first byte of a plain handshake. */
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
  private readonly req2Index = new Req2Index();

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
    const timing = (): { leftMs: number; limitMs: number } => ({ leftMs: this.settings.handshakeTimeoutMs - (Date.now() - startedAt), limitMs: this.settings.handshakeTimeoutMs });
    const deadline = setTimeout(() => close(`no handshake within ${this.settings.handshakeTimeoutMs} ms (handshakeTimeoutMs)`), this.settings.handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(deadline));
    const policy = this.handlers.encryption;
    /** A peer-wire connection whose BitTorrent handshake is read: to the session, unless closed meanwhile. */
    const identified = (stream: PeerSocket, parser: WireParser, handshake: Handshake, encryption: PeerEncryption): void => {
      this.pending.delete(socket);
      if (!socket.destroyed) this.handlers.onPeerConnection(stream, parser, handshake, encryption);
    };
    const firstBytes: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      firstBytes.push(chunk);
      const bytes = firstBytes.length === 1 ? chunk : Buffer.concat(firstBytes);
      // Under `off` the first byte decides as it always did: nothing else is answered anyway.
      const kind = policy === 'off' && bytes[0] === HANDSHAKE_FIRST_BYTE ? 'bittorrent' : connectionKind(bytes);
      if (kind === null) return;
      socket.off('data', onData);
      socket.pause();
      if (kind === 'bittorrent') {
        if (!allowsPlain(policy)) return close('a plain BitTorrent handshake, and --encryption require takes encrypted ones only');
        socket.setNoDelay(true);
        const parser = new WireParser({ expectHandshake: true, maxFrameLength: this.settings.maxFrameLength });
        clearTimeout(deadline);
        readHandshake(socket, parser, timing(), bytes).then(
          (handshake) => identified(socket, parser, handshake, peerEncryption(null)),
          (error: Error) => close(error.message),
        );
      } else if (kind === 'http') {
        clearTimeout(deadline);
        this.pending.delete(socket);
        if (this.httpSockets.size >= this.settings.maxHttpConnections) {
          return close(`${this.settings.maxHttpConnections} HTTP connections are open already (maxHttpConnections)`);
        }
        this.httpSockets.add(socket);
        // The HTTP server reads the bytes already taken from the socket once they are put back.
        socket.unshift(bytes);
        this.httpDeadlines.adopt(socket);
        this.http.emit('connection', socket);
        socket.resume();
      } else if (!allowsMse(policy)) {
        close('neither a BitTorrent handshake nor HTTP, and encrypted handshakes are refused (--encryption off)');
      } else {
        socket.setNoDelay(true);
        clearTimeout(deadline);
        this.answerEncrypted(socket, from, bytes, timing, policy).then(
          ({ stream, parser, handshake, encryption }) => identified(stream, parser, handshake, encryption),
          (error: Error) => close(`encrypted handshake (--encryption ${policy}): ${error.message}`),
        );
      }
    };
    socket.on('data', onData);
  }

  /** The receiving side of an encrypted handshake, then the BitTorrent handshake inside it. */
  private async answerEncrypted(
    socket: net.Socket,
    from: string,
    received: Buffer,
    timing: () => { leftMs: number; limitMs: number },
    policy: EncryptionPolicy,
  ): Promise<{ stream: PeerSocket; parser: WireParser; handshake: Handshake; encryption: PeerEncryption }> {
    const receiver = new MseReceiver({
      findInfoHash: (req2) => this.req2Index.find(req2, this.handlers.infoHashes()),
      select: (provide) => cryptoSelect(policy, provide),
    });
    const established = await exchangeMse(socket, receiver, timing(), received);
    this.handlers.log.debug(`encrypted handshake from ${from}: payload in ${established.method}`);
    const stream = payloadStream(socket, established);
    const parser = new WireParser({ expectHandshake: true, maxFrameLength: this.settings.maxFrameLength });
    const handshake = await readHandshake(stream, parser, timing(), established.payload.length > 0 ? established.payload : undefined);
    if (!handshake.infoHash.equals(established.infoHash)) throw new Error('its BitTorrent handshake names another torrent than its encrypted handshake did');
    return { stream, parser, handshake, encryption: peerEncryption(established.method) };
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
