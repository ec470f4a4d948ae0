/**
 * Whether a peer's REQUEST is served, ignored, or ends the connection. Requests that were in
 * flight when we choked the peer arrive after the CHOKE: those that come within
 * `chokedRequestGraceMs` are ignored. After that, a peer that goes on requesting while choked
 * is ignoring the choke, and past `maxRequestsWhileChoked` it is dropped. An unchoked peer
 * may queue up to `maxIncomingRequests` (the `reqq` we advertise); one more drops it.
 * Pure: the time is an argument.
 */
import { settings } from '../settings.js';

export type RequestVerdict = { action: 'serve' } | { action: 'ignore' } | { action: 'drop'; reason: string };

export class RequestGate {
  private chokedAt: number;
  private lateRequests = 0;

  /** A connection starts with the peer choked, as of `now`. */
  constructor(now: number) {
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
      if (now - this.chokedAt < settings.chokedRequestGraceMs) return { action: 'ignore' };
      this.lateRequests++;
      if (this.lateRequests > settings.maxRequestsWhileChoked) {
        return { action: 'drop', reason: `it sent ${this.lateRequests} requests while choked (more than ${settings.maxRequestsWhileChoked}, maxRequestsWhileChoked)` };
      }
      return { action: 'ignore' };
    }
    if (queued >= settings.maxIncomingRequests) {
      return { action: 'drop', reason: `it queued more than ${settings.maxIncomingRequests} requests (maxIncomingRequests, the reqq we advertise)` };
    }
    return { action: 'serve' };
  }
}
