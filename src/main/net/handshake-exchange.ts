/** Waits for a peer's BitTorrent handshake on a fresh socket (or the encrypted stream over one), with a time-out. */
import type { Handshake } from '../wire/wire-messages.js';
import type { WireParser } from '../wire/wire-parser.js';
import type { PeerSocket } from './peer-socket.js';

/**
 * Resolves with the handshake and leaves the socket paused, so that no byte after it is
 * lost before the connection's owner attaches its own listener; the parser keeps those bytes.
 */
export function readHandshake(socket: PeerSocket, parser: WireParser, timing: { leftMs: number; limitMs: number }, firstChunk?: Buffer): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no complete handshake within ${timing.limitMs} ms (handshakeTimeoutMs)`)), Math.max(0, timing.leftMs));
    let done = false;
    const finish = (outcome: Handshake | Error): void => {
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      const { events, error } = parser.push(chunk);
      if (error) return finish(error);
      const first = events[0];
      if (first?.kind === 'handshake') finish(first.handshake);
    };
    const onError = (error: Error): void => finish(error);
    const onClose = (): void => finish(new Error('connection closed before the handshake'));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    if (firstChunk) onData(firstChunk);
    if (!done) socket.resume();
  });
}
