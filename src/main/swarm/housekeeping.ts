/**
 * One timer for the housekeeping of every swarm of a session (time-outs, keep-alives, new
 * connections), in place of a timer per swarm: ten thousand idle swarms cost ten thousand timers
 * firing every second otherwise. The timer runs on the session's clock while any swarm is in,
 * and never keeps the process alive.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

/** Period of the housekeeping: requests timed out, keep-alives, choker rounds, new connections. */
export const HOUSEKEEPING_PERIOD_MS = 1000;

/** A swarm's part: its tick, and its log, which names it. */
interface Member {
  readonly tick: () => void;
  readonly log: Pick<Logger, 'warn'>;
  /** The message of the last failure logged, so a tick that keeps failing the same way is logged once. */
  lastFailure: string | null;
}

export class Housekeeping {
  /** In the order they joined; a live Set, so one that leaves during a round is not ticked later in it. */
  private readonly members = new Set<Member>();
  private stopTimer: (() => void) | null = null;

  constructor(private readonly clock: Clock) {}

  /**
   * Ticks `tick` at each round of the session's timer (the first within a period) until the
   * returned function is called, which may be during a round. A tick that throws is logged to
   * `log` and the others go on.
   */
  join(log: Pick<Logger, 'warn'>, tick: () => void): () => void {
    const member: Member = { tick, log, lastFailure: null };
    this.members.add(member);
    this.stopTimer ??= this.clock.every(HOUSEKEEPING_PERIOD_MS, () => this.round());
    return () => this.leave(member);
  }

  private leave(member: Member): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    this.stopTimer?.();
    this.stopTimer = null;
  }

  private round(): void {
    for (const member of this.members) {
      try {
        member.tick();
        member.lastFailure = null;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message !== member.lastFailure) member.log.warn(`housekeeping failed, a bug worth reporting (ticked again each second): ${message}`);
        member.lastFailure = message;
      }
    }
  }
}
