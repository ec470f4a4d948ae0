/**
 * The events of a swarm's life that a person watching the peer wants to read about, one log line
 * each: joining, completing, changing role, banning a peer, a tracker that fails. Typed, so that
 * whatever reports them (the swarm, the ban logic, the tracker client) says the same thing the
 * same way, and the wording is tested in one place.
 */
import type { Role } from './role.js';

/** How the pieces had at start were known. */
export type StartedFrom = 'fast' | 'after-crash' | 'checked';

export type SwarmEvent =
  | { kind: 'joined'; role: Role; have: number; pieces: number; from: StartedFrom; location: 'cache' | 'shareable' }
  | { kind: 'completed'; pieces: number; path: string }
  | { kind: 'role-changed'; from: Role; to: Role }
  | { kind: 'peer-banned'; address: string; reason: string }
  | { kind: 'tracker-error'; url: string; reason: string; failures: number; retryInMs: number };

export interface EventLine {
  level: 'info' | 'warn';
  text: string;
}

const STARTED_FROM: Record<StartedFrom, string> = {
  fast: 'resume data after a clean stop',
  'after-crash': 'resume data after an unclean stop, the rest checked',
  checked: 'a check of the data',
};

/** The log line of an event (the logger adds the time and the swarm's name). */
export function describeSwarmEvent(event: SwarmEvent): EventLine {
  switch (event.kind) {
    case 'joined':
      return {
        level: 'info',
        text:
          event.role === 'seeder'
            ? `joined as seeder: all ${event.pieces} pieces verified in shareable/, from ${STARTED_FROM[event.from]}`
            : `joined as leecher: ${event.have} of ${event.pieces} pieces verified, from ${STARTED_FROM[event.from]} (data in ${event.location}/)`,
      };
    case 'completed':
      return { level: 'info', text: `download complete: all ${event.pieces} pieces verified, data in ${event.path}` };
    case 'role-changed':
      return { level: 'info', text: `role changed: ${event.from} -> ${event.to}` };
    case 'peer-banned':
      return { level: 'warn', text: `banned peer ${event.address}: ${event.reason}` };
    case 'tracker-error':
      return {
        level: 'warn',
        text: `tracker ${event.url}: announce failed (${event.failures} in a row), retrying in ${Math.ceil(event.retryInMs / 1000)} s: ${event.reason}`,
      };
  }
}
