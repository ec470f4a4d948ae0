/**
 * The session-wide count of peer-wire connections (settings.maxConnections): incoming ones once
 * their handshake is complete, outgoing ones from the moment we dial. A connection is counted
 * from its claim until its socket closes, whoever closes it.
 */
import type { EventEmitter } from 'node:events';

export class ConnectionBudget {
  private open = 0;

  constructor(private readonly limit: number) {}

  get count(): number {
    return this.open;
  }

  get hasRoom(): boolean {
    return this.open < this.limit;
  }

  /** Counts `socket` if there is room, until it emits 'close'; returns whether it was counted. */
  claim(socket: EventEmitter): boolean {
    if (!this.hasRoom) return false;
    this.open++;
    socket.once('close', () => this.open--);
    return true;
  }
}
