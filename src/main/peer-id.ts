/** Our peer id (BEP 20, Azureus style): the client prefix, then random characters. */
import { randomBytes } from 'node:crypto';

const PEER_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An Azureus-style peer id, printable so that it reads well in /status. */
export function newPeerId(prefix: string): Buffer {
  const random = [...randomBytes(20 - prefix.length)].map((b) => PEER_ID_ALPHABET[b % PEER_ID_ALPHABET.length]);
  return Buffer.from(prefix + random.join(''), 'latin1');
}
