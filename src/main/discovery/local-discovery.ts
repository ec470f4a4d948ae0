/**
 * Local service discovery (BEP 14; DESIGN.md, Discovery beyond the tracker): our swarms are
 * announced on the multicast group 239.192.152.143:6771 of each IPv4 interface we listen on (or
 * of --host alone), paced by lsd-schedule.ts, and peers heard announcing a swarm of ours join
 * its peer list, with no tracker at all. It has a socket of its own, bound to port 6771 with
 * address reuse so that several peers (and other clients) on one machine can all listen. A
 * private torrent is never handed here (BEP 27). Nothing here is fatal: a socket that cannot be
 * bound turns discovery off with one log line, and a datagram of any content is parsed or
 * ignored, never thrown.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import os from 'node:os';
import type { Settings } from '../../io/settings.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { PeerAddress } from '../tracker/announce-client.js';
import { encodeLsdAnnouncement, LSD_GROUP, LSD_PORT, lsdOverheadBytes, parseLsdAnnouncement } from './lsd-message.js';
import { LsdSchedule, type LsdScheduleSettings } from './lsd-schedule.js';

export interface LocalDiscoverySetup {
  /** Our listening port, which the announcements name. */
  peerPort: number;
  /** --host: announce on that interface only; all IPv4 interfaces when undefined. */
  host: string | undefined;
  settings: LsdScheduleSettings & Pick<Settings, 'lsdMulticastTtl'>;
  clock: Clock;
  log: Logger;
}

/** How often the schedule is asked whether an announcement is due. */
const TICK_MS = 1_000;

/** The IPv4 addresses of the interfaces to announce on: --host's, else every one but loopback. */
function interfaceAddresses(host: string | undefined): string[] {
  if (host !== undefined && host !== '0.0.0.0') return isIPv4(host) ? [host] : [];
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry!.address);
}

export class LocalDiscovery {
  private readonly swarms = new Map<string, (peers: PeerAddress[]) => void>();
  private readonly schedule: LsdSchedule;
  /** Ours alone: an announcement that comes back through multicast loopback is recognized by it. */
  private readonly cookie = randomBytes(8).toString('hex');
  private readonly stopTicking: () => void;
  private sending = false;
  private closed = false;

  /** Binds the group's port on the interfaces to announce on; null (with a log line) when discovery cannot run. */
  static async open(setup: LocalDiscoverySetup): Promise<LocalDiscovery | null> {
    const interfaces = interfaceAddresses(setup.host);
    if (interfaces.length === 0) {
      setup.log.info(`local service discovery is off: no IPv4 interface to announce on${setup.host ? ` (--host ${setup.host})` : ''}`);
      return null;
    }
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: LSD_PORT, address: '0.0.0.0' }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.setMulticastTTL(setup.settings.lsdMulticastTtl);
      socket.setMulticastLoopback(true);
    } catch (error) {
      socket.close();
      setup.log.warn(`local service discovery is off: cannot bind UDP port ${LSD_PORT} (${(error as Error).message})`);
      return null;
    }
    const joined = interfaces.filter((address) => {
      try {
        socket.addMembership(LSD_GROUP, address);
        return true;
      } catch (error) {
        setup.log.warn(`local service discovery: cannot join ${LSD_GROUP} on ${address} (${(error as Error).message})`);
        return false;
      }
    });
    if (joined.length === 0) {
      socket.close();
      return null;
    }
    return new LocalDiscovery(setup, socket, joined);
  }

  private constructor(
    private readonly setup: LocalDiscoverySetup,
    private readonly socket: dgram.Socket,
    private readonly interfaces: string[],
  ) {
    this.schedule = new LsdSchedule(setup.settings, lsdOverheadBytes(setup.peerPort, this.cookie));
    socket.on('message', (packet, from) => this.heard(packet, from.address));
    socket.on('error', (error) => setup.log.debug(`local service discovery: ${error.message}`));
    this.stopTicking = setup.clock.every(TICK_MS, () => void this.announceDue());
    setup.log.debug(`local service discovery on ${interfaces.join(', ')}`);
  }

  /** Announces the swarm from now on, and hands it the peers heard for it; the returned function stops both. */
  add(infoHashHex: string, learnPeers: (peers: PeerAddress[]) => void): () => void {
    this.swarms.set(infoHashHex, learnPeers);
    // Sent at the next tick, with the other swarms joined in the same second.
    this.schedule.add(infoHashHex, this.setup.clock.now());
    return () => {
      if (this.swarms.get(infoHashHex) !== learnPeers) return;
      this.swarms.delete(infoHashHex);
      this.schedule.remove(infoHashHex);
    };
  }

  private heard(packet: Buffer, address: string): void {
    const announcement = parseLsdAnnouncement(packet);
    if (!announcement || announcement.cookie === this.cookie) return;
    for (const infoHash of announcement.infoHashes) this.swarms.get(infoHash)?.([{ ip: address, port: announcement.port }]);
  }

  /** Sends the announcement that is due, if any, on each interface in turn. */
  private async announceDue(): Promise<void> {
    if (this.sending || this.closed) return;
    const infoHashes = this.schedule.next(this.setup.clock.now());
    if (infoHashes.length === 0) return;
    const packet = encodeLsdAnnouncement({ port: this.setup.peerPort, infoHashes, cookie: this.cookie });
    this.sending = true;
    try {
      // One interface after the other: the outgoing interface is a socket option, read as each datagram leaves.
      for (const address of this.interfaces) {
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          const done = (error: Error | null): void => {
            if (error) this.setup.log.debug(`local service discovery: cannot announce on ${address}: ${error.message}`);
            resolve();
          };
          try {
            this.socket.setMulticastInterface(address);
            this.socket.send(packet, LSD_PORT, LSD_GROUP, done);
          } catch (error) {
            // The interface's address is gone (a network change): the others are still tried.
            done(error as Error);
          }
        });
      }
    } finally {
      this.sending = false;
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.stopTicking();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
