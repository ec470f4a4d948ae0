/**
 * Which of this machine's addresses other peers reach it at: the address of the interface
 * that routes towards the announce host. A connected UDP socket gives it without sending
 * anything (connect() on UDP only picks the route).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';

export async function addressTowards(host: string, port: number): Promise<string | undefined> {
  if (!net.isIP(host)) return undefined;
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => resolve());
    });
    return socket.address().address;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}

/** The first IPv4 address of a non-loopback interface, or loopback when there is none. */
export function firstLanAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}
