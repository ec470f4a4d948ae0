/**
 * Which addresses are this very peer: every interface address (and --host) at our port. A peer
 * must not dial itself, nor announce to a tracker URL that names it (it is that tracker: it
 * serves it instead, docs/architecture.md, Tracker services).
 */
import os from 'node:os';
import type { Metainfo } from '../../io/metainfo.js';
import { allTrackerUrls } from '../tracker/tracker-tiers.js';

export class SelfAddress {
  private readonly addresses = new Set(['127.0.0.1', '0.0.0.0']);
  /** Our port: known once the session chose it. */
  port = 0;

  constructor(host: string | undefined) {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const entry of list ?? []) this.addresses.add(entry.address);
    }
    if (host) this.addresses.add(host);
  }

  /** Whether ip:port is this peer. */
  isSelf(ip: string, port: number): boolean {
    return port === this.port && this.addresses.has(ip);
  }

  /**
   * Whether a host name (a Host header's, without port or brackets) names this machine: one of
   * its addresses or `localhost` (the control API's check against DNS rebinding).
   */
  isOwnHostName(hostname: string): boolean {
    const name = hostname.toLowerCase();
    return name === 'localhost' || this.addresses.has(name.startsWith('::ffff:') ? name.slice(7) : name);
  }

  /** Whether a tracker URL names this peer: one of its addresses (or --host, or localhost) and its port. */
  isSelfTracker(trackerUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(trackerUrl);
    } catch {
      return false;
    }
    const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
    // A udp:// URL has no default port (BEP 15); http and https have theirs.
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : NaN;
    return this.isSelf(host, port);
  }

  /**
   * This peer is a torrent's announcer when one of its tracker URLs (`announce` or any of
   * `announce-list`, BEP 12; http, https or udp) names one of its addresses and its port.
   */
  isAnnouncer(meta: Pick<Metainfo, 'announce' | 'announceList'>): boolean {
    return allTrackerUrls(meta.announce, meta.announceList).some((url) => this.isSelfTracker(url));
  }
}
