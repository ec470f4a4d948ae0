/**
 * Whether the other end of a loopback connection is a process of the user who runs this peer:
 * then the dashboard may be handed the token (GET /api-token) without asking for it, since that
 * user can read cache/api-token anyway. Any local connection would not do: on a shared machine
 * another user's browser or program could take the token that mode 0600 keeps from them.
 *
 * Linux lists every TCP socket in /proc/net/tcp and /proc/net/tcp6 with the uid that owns it;
 * the client's socket is the one whose local address is the connection's remote one. Anywhere
 * else (no /proc, another network namespace, an address not found) the answer is no, and the
 * dashboard asks for the token.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';

/** An address and port as /proc/net/tcp writes them: IPv4 in little-endian hex, then the port in hex. */
export function procAddress(ip: string, port: number): string {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIPv4(v4)) {
    const bytes = v4.split('.').map(Number).reverse();
    const hex = bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
    return ip.startsWith('::ffff:') ? `0000000000000000FFFF0000${hex}:${portHex}` : `${hex}:${portHex}`;
  }
  return `${ipv6Words(ip)}:${portHex}`;
}

/** An IPv6 address as /proc/net/tcp6 writes it: four 32-bit words, each in little-endian hex. */
function ipv6Words(ip: string): string {
  const [head, tail = ''] = ip.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === '' ? [] : tail.split(':');
  const groups = [...headParts, ...new Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts].map((g) => parseInt(g, 16));
  const bytes: number[] = [];
  for (const group of groups) bytes.push(group >> 8, group & 0xff);
  let out = '';
  for (let word = 0; word < 4; word++) {
    for (let i = 3; i >= 0; i--) out += bytes[word * 4 + i].toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The uid owning the socket whose local end is `local` (procAddress form) in a /proc/net/tcp text; undefined if none. */
export function ownerIn(table: string, local: string, remote: string): number | undefined {
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote) return Number(fields[7]);
  }
  return undefined;
}

export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return (isIPv4(v4) && v4.startsWith('127.')) || ip === '::1';
}

/**
 * Whether the connection from `remote` to `local` (as the server's socket sees them) comes from
 * a process of this user on this machine.
 */
export async function isOwnLocalClient(remote: { ip: string; port: number }, local: { ip: string; port: number }): Promise<boolean> {
  if (!isLoopback(remote.ip) || typeof process.getuid !== 'function') return false;
  const clientEnd = procAddress(remote.ip, remote.port);
  const serverEnd = procAddress(local.ip, local.port);
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const table = await readFile(file, 'utf8').catch(() => '');
    const uid = ownerIn(table, clientEnd, serverEnd);
    if (uid !== undefined) return uid === process.getuid();
  }
  return false;
}
