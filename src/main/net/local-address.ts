/**
 * Which of this machine's addresses other peers reach it at: the address of the interface
 * that routes towards the announce host. A connected UDP socket gives it without sending
 * anything (connect() on UDP only picks the route).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import type { Metainfo } from '../../io/metainfo.js';
import { trackerIpAddresses } from '../tracker/tracker-tiers.js';

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

/**
 * Our address on the route to the first tracker named by an IP address: of the torrents in
 * order, every tracker URL (`announce`, then each `announce-list` tier; http, https or udp). A
 * tracker with no route from here is passed over for the next.
 */
export async function addressTowardsTrackers(metas: Pick<Metainfo, 'announce' | 'announceList'>[]): Promise<string | undefined> {
  for (const meta of metas) {
    for (const { host, port } of trackerIpAddresses(meta.announce, meta.announceList)) {
      const address = await addressTowards(host, port);
      if (address !== undefined) return address;
    }
  }
  return undefined;
}
