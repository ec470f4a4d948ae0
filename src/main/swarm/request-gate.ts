/**
 * Whether a peer's REQUEST is served, ignored, rejected, or ends the connection. Requests that
 * were in flight when we choked the peer arrive after the CHOKE: those that come within
 * `chokedRequestGraceMs` are ignored. After that, a peer that goes on requesting while choked
 * is ignoring the choke, and past `maxRequestsWhileChoked` it is dropped. An unchoked peer
 * may queue up to `maxIncomingRequests` (the `reqq` we advertise); one more drops it.
 * A Fast peer (BEP 6) is told of every request we do not serve, with a REJECT: while choked its
 * requests are rejected, never held against it, and past its queue it is rejected too, until
 * `maxRejectedOverQueue` such requests in a row drop it.
 * Pure: the time is an argument.
 */
import { defaultSettings, type Settings } from '../../io/settings.js';

export type RequestGateLimits = Pick<Settings, 'chokedRequestGraceMs' | 'maxRequestsWhileChoked' | 'maxIncomingRequests' | 'maxRejectedOverQueue'>;

export type RequestVerdict = { action: 'serve' } | { action: 'ignore' } | { action: 'reject' } | { action: 'drop'; reason: string };

const SERVE: RequestVerdict = Object.freeze({ action: 'serve' });
const IGNORE: RequestVerdict = Object.freeze({ action: 'ignore' });
const REJECT: RequestVerdict = Object.freeze({ action: 'reject' });

export class RequestGate {
  private chokedAt: number;
  private lateRequests = 0;
  /** A Fast peer's requests past its queue since it last had one queued. */
  private overQueue = 0;

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

  /**
   * `choked`: whether the choke applies to the request (the peer is choked, and the piece is not
   * in its allowed-fast set); `queued`: its requests already waiting at us; `fast`: whether the
   * connection speaks BEP 6, so that a request may be rejected.
   */
  judge(choked: boolean, queued: number, now: number, fast = false): RequestVerdict {
    if (fast) return this.judgeFast(choked, queued);
    if (choked) {
      if (now - this.chokedAt < this.limits.chokedRequestGraceMs) return IGNORE;
      this.lateRequests++;
      if (this.lateRequests > this.limits.maxRequestsWhileChoked) {
        return { action: 'drop', reason: `it sent ${this.lateRequests} requests while choked (more than ${this.limits.maxRequestsWhileChoked}, maxRequestsWhileChoked)` };
      }
      return IGNORE;
    }
    if (queued >= this.limits.maxIncomingRequests) {
      return { action: 'drop', reason: `it queued more than ${this.limits.maxIncomingRequests} requests (maxIncomingRequests, the reqq we advertise)` };
    }
    return SERVE;
  }

  /**
   * BEP 6 lets a peer's requests cross our CHOKE and gives it the REJECT to learn of each: a
   * request while choked is answered, not counted. Past the queue, a REJECT costs us as much as
   * the request cost the peer, so only a long run of them, a peer deaf to our reqq, drops it.
   */
  private judgeFast(choked: boolean, queued: number): RequestVerdict {
    if (choked) return REJECT;
    if (queued < this.limits.maxIncomingRequests) {
      this.overQueue = 0;
      return SERVE;
    }
    this.overQueue++;
    if (this.overQueue > this.limits.maxRejectedOverQueue) {
      return {
        action: 'drop',
        reason: `it sent ${this.overQueue} requests in a row past the ${this.limits.maxIncomingRequests} it may queue (maxIncomingRequests, the reqq we advertise), each rejected (more than ${this.limits.maxRejectedOverQueue}, maxRejectedOverQueue)`,
      };
    }
    return REJECT;
  }
}
