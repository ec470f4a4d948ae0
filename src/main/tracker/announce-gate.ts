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

/** What a request that left the gate before its turn (or lost its place before it was sent) fails with. */
export function cancelledAtGate(): AnnounceError {
  return new AnnounceError('announce cancelled before it was sent', 'aborted');
}

/** The lanes, most urgent first. */
export const GATE_LANES = ['stopped', 'completed', 'announce', 'scrape'] as const;
export type GateLane = (typeof GATE_LANES)[number];

/** One request's place at the gate: waiting in a lane, then holding a slot, then gone. */
export interface GateTicket {
  /** Whether the request holds a slot now. */
  readonly holding: boolean;
  /** Moves a waiting request to a more urgent lane, at its end (an announce that became event=completed). */
  raise(lane: GateLane): void;
  /** Gives the slot back, or leaves the queue unserved (its grant never comes). Any number of calls; the first counts. */
  leave(): void;
}

/**
 * A waiting ticket is all a request costs until it goes out: its lane, its state and the one
 * callback that sends it (ten thousand swarms starting together wait here at once).
 */
class Ticket implements GateTicket {
  state: 'waiting' | 'holding' | 'gone' = 'waiting';

  constructor(
    public lane: GateLane,
    private readonly gate: AnnounceGate,
    readonly onGrant: () => void,
  ) {}

  get holding(): boolean {
    return this.state === 'holding';
  }

  raise(lane: GateLane): void {
    this.gate.move(this, lane);
  }

  leave(): void {
    this.gate.release(this);
  }

  /** Calls onGrant, in a microtask of its own (never inside the caller's enter or leave), unless the ticket left meanwhile. */
  deliver(): void {
    queueMicrotask(() => {
      if (this.state === 'holding') this.onGrant();
    });
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

  /**
   * A place for one request in `lane`: `onGrant` is called (in a microtask) once it may go out,
   * unless the ticket left before; the caller then gives the slot back with leave().
   */
  enter(lane: GateLane, onGrant: () => void): GateTicket {
    const ticket = new Ticket(lane, this, onGrant);
    this.waiting.get(lane)!.add(ticket);
    this.admit();
    return ticket;
  }

  /**
   * enter() for code that awaits its place: the ticket at once, and its grant as a promise that
   * rejects (an 'aborted' AnnounceError) when `signal` aborts first. An abort after the grant
   * gives the slot back too; the caller checks `holding` before it sends.
   */
  wait(lane: GateLane, signal: AbortSignal): { ticket: GateTicket; granted: Promise<void> } {
    let ticket!: GateTicket;
    const granted = new Promise<void>((resolve, reject) => {
      ticket = this.enter(lane, resolve);
      const refuse = (): void => {
        ticket.leave();
        reject(cancelledAtGate());
      };
      if (signal.aborted) refuse();
      else signal.addEventListener('abort', refuse, { once: true });
    });
    // A caller that left before its turn need not wait on `granted` to learn it.
    granted.catch(() => undefined);
    return { ticket, granted };
  }

  /** For Ticket.raise: only a waiting request moves, and only to a more urgent lane. */
  move(ticket: Ticket, lane: GateLane): void {
    if (ticket.state !== 'waiting' || GATE_LANES.indexOf(lane) >= GATE_LANES.indexOf(ticket.lane)) return;
    this.waiting.get(ticket.lane)!.delete(ticket);
    ticket.lane = lane;
    this.waiting.get(lane)!.add(ticket);
  }

  /** For Ticket.leave. */
  release(ticket: Ticket): void {
    const was = ticket.state;
    if (was === 'gone') return;
    ticket.state = 'gone';
    if (was === 'waiting') {
      this.waiting.get(ticket.lane)!.delete(ticket);
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
      next.deliver();
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
