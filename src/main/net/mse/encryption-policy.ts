/**
 * `--encryption prefer|require|off` (docs/architecture.md, Encrypted connections): what each
 * policy offers and accepts, as pure functions of the policy and the other side's offer.
 */
export const ENCRYPTION_POLICIES = ['prefer', 'require', 'off'] as const;
export type EncryptionPolicy = (typeof ENCRYPTION_POLICIES)[number];

/** crypto_provide / crypto_select bits of the specification. */
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;

/** How the payload travels once the MSE handshake is done; the handshake itself is always RC4. */
export type CryptoMethod = 'plaintext' | 'rc4';

/**
 * What /status shows of a connection (`encryption` of each peer): `rc4` when its payload runs in
 * RC4, `handshake` when the handshake was encrypted (MSE) but the payload selected plaintext,
 * `none` for a plain BitTorrent handshake.
 */
export type PeerEncryption = 'rc4' | 'handshake' | 'none';

/** A connection's PeerEncryption from the payload method its MSE handshake selected, or none for a plain handshake. */
export function peerEncryption(method: CryptoMethod | null): PeerEncryption {
  if (method === null) return 'none';
  return method === 'rc4' ? 'rc4' : 'handshake';
}

export function methodBit(method: CryptoMethod): number {
  return method === 'rc4' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT;
}

/** Whether a plain BitTorrent handshake is taken, incoming, and tried, outgoing. */
export function allowsPlain(policy: EncryptionPolicy): boolean {
  return policy !== 'require';
}

/** Whether MSE handshakes are answered, incoming, and tried first, outgoing. */
export function allowsMse(policy: EncryptionPolicy): boolean {
  return policy !== 'off';
}

/** What we offer when we start a handshake. */
export function cryptoProvide(policy: EncryptionPolicy): number {
  return policy === 'require' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT | CRYPTO_RC4;
}

/**
 * What we pick, as the receiver, from what the initiator offers; null when nothing offered is
 * acceptable. Under `prefer` plaintext wins when offered: the handshake has already hidden the
 * connection from pattern matching (no "BitTorrent protocol" in clear), and a plaintext payload
 * costs no RC4 over every byte, which is the throughput a transfer is limited by. libtorrent
 * (prefer_rc4 off by default) and aria2 choose the same; Transmission's "preferred" picks RC4,
 * which changes nothing for interop since either choice is valid for the initiator.
 */
export function cryptoSelect(policy: EncryptionPolicy, provide: number): CryptoMethod | null {
  if (policy === 'require') return provide & CRYPTO_RC4 ? 'rc4' : null;
  if (provide & CRYPTO_PLAINTEXT) return 'plaintext';
  return provide & CRYPTO_RC4 ? 'rc4' : null;
}

export function describeProvide(provide: number): string {
  const names = [provide & CRYPTO_PLAINTEXT ? 'plaintext' : '', provide & CRYPTO_RC4 ? 'RC4' : ''].filter(Boolean);
  return `${names.length > 0 ? names.join(' and ') : 'nothing we know'} (crypto_provide 0x${provide.toString(16)})`;
}
