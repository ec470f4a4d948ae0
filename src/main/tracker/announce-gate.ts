/**
 * The session's gate for requests to outside trackers: at most `maxInFlight` announces and
 * scrapes out at once, all swarms together, so that a peer starting with thousands of torrents
 * that share a tracker sends their announces at the pace the tracker answers them, not all in one
 * burst of sockets (libtorrent bounds its HTTP announces the same way, 50 by default).
 *
 * Requests that find no room wait in four lanes, each first come, first served, and a lane goes
 * before the ones after it: event=stopped (the program or the swarm is going away and has little
 * time), event=completed (a new seeder should not wait behind a start-up's thousands of
 * started), every other announce, then scrapes (counts for /status, the least urgent).
 * A swarm has at most one announce per tracker waiting, so order of arrival is also fairness.
 *
 * Given a pace, it also lets out at most `perSecond` requests a second, in bursts of as many,
 * event=stopped excepted (the program has little time left): ten thousand torrents starting
 * together then reach their trackers over a minute or two, as Transmission spaces its announces,
 * and their re-announces, each one interval after its own start, stay as spread out. A peer with
 * a few torrents never waits.
 *
 * Its caller decides when a request gives its place back (when it ends, or when it has waited
 * long enough for an answer to be counted as slow: announce-client.ts).
 */
import { after, type Clock } from '../clock.js';
import { AnnounceError } from './tracker-protocol.js';

function cancelled(): AnnounceError {
  return new AnnounceError('announce cancelled before it was sent', 'aborted');
}

/** The lanes, most urgent first. */
export const GATE_LANES = ['stopped', 'completed', 'announce', 'scrape'] as const;
export type GateLane = (typeof GATE_LANES)[number];

/** One request's place at the gate: waiting in a lane, then holding a slot, then gone. */
export interface GateTicket {
  /** Resolves once the request may go out; rejects (an 'aborted' AnnounceError) when it leaves before that. */
  readonly granted: Promise<void>;
  /**
   * Calls `request` once the request may go out, unless the ticket left meanwhile (its signal
   * aborted after the grant, before the caller's turn came): then it rejects as `granted` does.
   */
  run<T>(request: () => Promise<T>): Promise<T>;
  /** Whether the request holds a slot now. */
  readonly holding: boolean;
  /** Moves a waiting request to a more urgent lane, at its end (an announce that became event=completed). */
  raise(lane: GateLane): void;
  /** Gives the slot back, or leaves the queue unserved. Any number of calls; the first counts. */
  leave(): void;
}

class Ticket implements GateTicket {
  readonly granted: Promise<void>;
  state: 'waiting' | 'holding' | 'gone' = 'waiting';
  grant!: () => void;
  refuse!: (error: Error) => void;
  /** Undoes the listener on the caller's abort signal. */
  unlisten = (): void => undefined;

  constructor(
    public lane: GateLane,
    private readonly onRaise: (ticket: Ticket, lane: GateLane) => void,
    private readonly onLeave: (ticket: Ticket) => void,
  ) {
    this.granted = new Promise<void>((resolve, reject) => {
      this.grant = resolve;
      this.refuse = reject;
    });
    // A caller that left before its turn need not wait on `granted` to learn it.
    this.granted.catch(() => undefined);
  }

  get holding(): boolean {
    return this.state === 'holding';
  }

  async run<T>(request: () => Promise<T>): Promise<T> {
    await this.granted;
    if (this.state !== 'holding') throw cancelled();
    return request();
  }

  raise(lane: GateLane): void {
    this.onRaise(this, lane);
  }

  leave(): void {
    this.onLeave(this);
  }
}

/** Requests let out a second (settings.maxAnnouncesPerSecond), on the session's clock. */
export interface GatePace {
  perSecond: number;
  clock: Clock;
}

export class AnnounceGate {
  private inFlight = 0;
  private readonly waiting = new Map<GateLane, Set<Ticket>>(GATE_LANES.map((lane) => [lane, new Set()]));
  /** Requests the pace allows now, up to perSecond; refilled as time passes. */
  private allowance: number;
  private allowanceAt: number;
  /** Cancels the timer that admits again once the pace allows, while one is set. */
  private wake: (() => void) | null = null;

  /** `maxInFlight`: settings.maxConcurrentAnnounces; `pace`: none lets requests out as fast as places free up. */
  constructor(
    readonly maxInFlight: number,
    private readonly pace?: GatePace,
  ) {
    if (!(maxInFlight >= 1)) throw new RangeError(`maxConcurrentAnnounces must allow at least one tracker request at once, not ${maxInFlight}`);
    if (pace && !(pace.perSecond > 0)) throw new RangeError(`maxAnnouncesPerSecond must be positive, not ${pace.perSecond}`);
    this.allowance = pace?.perSecond ?? 0;
    this.allowanceAt = pace?.clock.now() ?? 0;
  }

  /** Requests out now. */
  get holding(): number {
    return this.inFlight;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    let count = 0;
    for (const lane of this.waiting.values()) count += lane.size;
    return count;
  }

  /** A place for one request in `lane`; `signal` aborted makes it leave (waiting or holding). */
  enter(lane: GateLane, signal?: AbortSignal): GateTicket {
    const ticket = new Ticket(lane, (t, to) => this.move(t, to), (t) => this.release(t));
    this.waiting.get(lane)!.add(ticket);
    if (signal) {
      if (signal.aborted) {
        ticket.leave();
        return ticket;
      }
      const onAbort = (): void => ticket.leave();
      signal.addEventListener('abort', onAbort, { once: true });
      ticket.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    this.admit();
    return ticket;
  }

  private move(ticket: Ticket, lane: GateLane): void {
    if (ticket.state !== 'waiting' || GATE_LANES.indexOf(lane) >= GATE_LANES.indexOf(ticket.lane)) return;
    this.waiting.get(ticket.lane)!.delete(ticket);
    ticket.lane = lane;
    this.waiting.get(lane)!.add(ticket);
  }

  private release(ticket: Ticket): void {
    const was = ticket.state;
    if (was === 'gone') return;
    ticket.state = 'gone';
    ticket.unlisten();
    if (was === 'waiting') {
      this.waiting.get(ticket.lane)!.delete(ticket);
      ticket.refuse(cancelled());
      return;
    }
    this.inFlight--;
    this.admit();
  }

  /** Lets the most urgent waiting requests out while there is room and the pace allows. */
  private admit(): void {
    while (this.inFlight < this.maxInFlight) {
      const next = this.nextWaiting();
      if (!next) return;
      if (next.lane !== 'stopped' && !this.paced()) return;
      this.waiting.get(next.lane)!.delete(next);
      next.state = 'holding';
      this.inFlight++;
      next.grant();
    }
  }

  /** Spends the pace's share of one request, or sets the timer that admits again when it comes back. */
  private paced(): boolean {
    if (!this.pace) return true;
    const { perSecond, clock } = this.pace;
    const now = clock.now();
    this.allowance = Math.min(perSecond, this.allowance + ((now - this.allowanceAt) * perSecond) / 1000);
    this.allowanceAt = now;
    if (this.allowance >= 1) {
      this.allowance--;
      return true;
    }
    this.wake ??= after(clock, Math.ceil(((1 - this.allowance) * 1000) / perSecond), () => {
      this.wake = null;
      this.admit();
    });
    return false;
  }

  private nextWaiting(): Ticket | undefined {
    for (const lane of GATE_LANES) {
      const first = this.waiting.get(lane)!.values().next();
      if (!first.done) return first.value;
    }
    return undefined;
  }
}
