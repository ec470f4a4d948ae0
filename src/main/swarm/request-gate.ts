/**
 * Whether a peer's REQUEST is served, ignored, or ends the connection. Requests that were in
 * flight when we choked the peer arrive after the CHOKE: those that come within
 * `chokedRequestGraceMs` are ignored. After that, a peer that goes on requesting while choked
 * is ignoring the choke, and past `maxRequestsWhileChoked` it is dropped. An unchoked peer
 * may queue up to `maxIncomingRequests` (the `reqq` we advertise); one more drops it.
 * Pure: the time is an argument.
 */
import { defaultSettings, type Settings } from '../../io/settings.js';

export type RequestGateLimits = Pick<Settings, 'chokedRequestGraceMs' | 'maxRequestsWhileChoked' | 'maxIncomingRequests'>;

export type RequestVerdict = { action: 'serve' } | { action: 'ignore' } | { action: 'drop'; reason: string };

export class RequestGate {
  private chokedAt: number;
  private lateRequests = 0;

  /** A connection starts with the peer choked, as of `now`. */
  constructor(
    now: number,
    private readonly limits: RequestGateLimits = defaultSettings,
  ) {
    this.chokedAt = now;
  }

  choked(now: number): void {
    this.chokedAt = now;
    this.lateRequests = 0;
  }

  unchoked(): void {
    this.lateRequests = 0;
  }

  /** `choked`: whether the peer is choked now; `queued`: its requests already waiting at us. */
  judge(choked: boolean, queued: number, now: number): RequestVerdict {
    if (choked) {
      if (now - this.chokedAt < this.limits.chokedRequestGraceMs) return { action: 'ignore' };
      this.lateRequests++;
      if (this.lateRequests > this.limits.maxRequestsWhileChoked) {
        return { action: 'drop', reason: `it sent ${this.lateRequests} requests while choked (more than ${this.limits.maxRequestsWhileChoked}, maxRequestsWhileChoked)` };
      }
      return { action: 'ignore' };
    }
    if (queued >= this.limits.maxIncomingRequests) {
      return { action: 'drop', reason: `it queued more than ${this.limits.maxIncomingRequests} requests (maxIncomingRequests, the reqq we advertise)` };
    }
    return { action: 'serve' };
  }
}
