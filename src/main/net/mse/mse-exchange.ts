/**
 * Runs an MSE handshake (mse-handshake.ts) over a socket: the socket's bytes in, the machine's
 * replies out, under a deadline. Then hands on the connection's payload stream: the socket itself
 * when the payload is plaintext, an EncryptedStream over it when it is RC4.
 */
import { readUntil } from '../handshake-exchange.js';
import type { PeerSocket } from '../peer-socket.js';
import { EncryptedStream } from './encrypted-stream.js';
import { MseInitiator, type MseEstablished, type MseReceiver } from './mse-handshake.js';

/** The other side closed, or answered with something else, before sending its public key: it does not speak MSE, or will not. */
export class MseRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MseRefusedError';
  }
}

/**
 * Feeds the socket's bytes (and `received`, bytes already read from it) to `side` and writes
 * what it answers, until the handshake is done. Resolves with the socket paused, so that no
 * payload byte is lost before the next reader attaches; the machine's result holds those read.
 */
export function exchangeMse(socket: PeerSocket, side: MseInitiator | MseReceiver, timing: { leftMs: number; limitMs: number }, received?: Buffer): Promise<MseEstablished> {
  /** Whatever ends an initiator's handshake before the other side's key came is a refusal: `prefer` then dials in plain. */
  const refusedOr = (message: string, error: Error = new Error(message)): Error =>
    side instanceof MseInitiator && !side.keyReceived ? new MseRefusedError(message) : error;
  return readUntil<MseEstablished>(
    socket,
    timing.leftMs,
    {
      chunk: (chunk) => {
        try {
          const { send, established } = side.push(chunk);
          if (send.length > 0) socket.write(send);
          return established ?? undefined;
        } catch (error) {
          return refusedOr(`it did not answer our encrypted handshake with a key (${(error as Error).message})`, error as Error);
        }
      },
      ended: (error) =>
        error
          ? refusedOr(`it closed the connection on our encrypted handshake (${error.message})`, error)
          : refusedOr('it closed the connection on our encrypted handshake', new Error('connection closed during the encrypted handshake')),
      timedOut: () => new Error(`no complete encrypted handshake within ${timing.limitMs} ms (handshakeTimeoutMs)`),
    },
    received,
  );
}

/** The stream the peer wire runs on once the handshake is done. */
export function payloadStream(socket: PeerSocket, established: MseEstablished): PeerSocket {
  if (!established.ciphers) return socket;
  const stream = new EncryptedStream(socket, established.ciphers);
  // As on a bare socket, an error closes the stream and reaches its owner's 'close'; it must
  // never surface as an unhandled 'error' between two owners.
  stream.on('error', () => undefined);
  return stream;
}
