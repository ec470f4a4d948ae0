/** Waits for a peer's BitTorrent handshake on a fresh socket (or the encrypted stream over one), with a time-out. */
import type { Handshake } from '../wire/wire-messages.js';
import type { WireParser } from '../wire/wire-parser.js';
import type { PeerSocket } from './peer-socket.js';

/** One read of readUntil: what each chunk completes, and the errors for an end or a time-out first. */
export interface SocketRead<T> {
  /** The outcome this chunk completes (an Error to fail), or undefined while more is needed. */
  chunk(chunk: Buffer): T | Error | undefined;
  /** The error when the socket errs (`error`), or closes or ends (none), before an outcome. */
  ended(error?: Error): Error;
  /** The error when `leftMs` pass first. */
  timedOut(): Error;
}

/**
 * Feeds the socket's chunks (`firstChunk` first, bytes already read from it) to `read` until it
 * has an outcome, the socket ends, or `leftMs` pass. Resolves with the socket paused, so that no
 * byte after the outcome is lost before the next reader attaches; `read` keeps those it took.
 */
export function readUntil<T>(socket: PeerSocket, leftMs: number, read: SocketRead<T>, firstChunk?: Buffer): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => finish(read.timedOut()), Math.max(0, leftMs));
    const finish = (outcome: T | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onEnd);
      socket.off('end', onEnd);
      socket.pause();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      const outcome = read.chunk(chunk);
      if (outcome !== undefined) finish(outcome);
    };
    const onError = (error: Error): void => finish(read.ended(error));
    const onEnd = (): void => finish(read.ended());
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onEnd);
    socket.on('end', onEnd);
    if (firstChunk) onData(firstChunk);
    if (!done) socket.resume();
  });
}

/**
 * Resolves with the handshake and leaves the socket paused, so that no byte after it is
 * lost before the connection's owner attaches its own listener; the parser keeps those bytes.
 */
export function readHandshake(socket: PeerSocket, parser: WireParser, timing: { leftMs: number; limitMs: number }, firstChunk?: Buffer): Promise<Handshake> {
  return readUntil<Handshake>(
    socket,
    timing.leftMs,
    {
      chunk: (chunk) => {
        const { events, error } = parser.push(chunk);
        if (error) return error;
        const first = events[0];
        return first?.kind === 'handshake' ? first.handshake : undefined;
      },
      ended: (error) => error ?? new Error('connection closed before the handshake'),
      timedOut: () => new Error(`no complete handshake within ${timing.limitMs} ms (handshakeTimeoutMs)`),
    },
    firstChunk,
  );
}
