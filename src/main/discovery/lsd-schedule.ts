/**
 * When local service discovery announces which swarms (BEP 14): each swarm every
 * lsdAnnounceIntervalMs, and never more than one announcement per lsdMinPacketIntervalMs, so a
 * large network is not flooded. When more swarms are due than one announcement holds (under
 * lsdMaxPacketBytes, as BEP 14 asks), those waiting longest go first and the others wait for the
 * next one: a round robin. A new swarm is due at once. Pure: the time is an argument.
 */
import type { Settings } from '../../io/settings.js';
import { INFOHASH_LINE_BYTES } from './lsd-message.js';

export type LsdScheduleSettings = Pick<Settings, 'lsdAnnounceIntervalMs' | 'lsdMinPacketIntervalMs' | 'lsdMaxPacketBytes'>;

export class LsdSchedule {
  /** When each swarm (hex info hash) is next due. */
  private readonly dueAt = new Map<string, number>();
  private lastPacketAt = -Infinity;
  /** Info hashes one announcement holds. */
  private readonly capacity: number;

  constructor(
    private readonly settings: LsdScheduleSettings,
    /** Bytes of an announcement without its info hashes. */
    overheadBytes: number,
  ) {
    this.capacity = Math.max(1, Math.floor((settings.lsdMaxPacketBytes - overheadBytes) / INFOHASH_LINE_BYTES));
  }

  add(infoHashHex: string, now: number): void {
    if (!this.dueAt.has(infoHashHex)) this.dueAt.set(infoHashHex, now);
  }

  remove(infoHashHex: string): void {
    this.dueAt.delete(infoHashHex);
  }

  /** The info hashes to announce now (empty: nothing to send yet), each then due again an interval later. */
  next(now: number): string[] {
    if (now - this.lastPacketAt < this.settings.lsdMinPacketIntervalMs) return [];
    const due = [...this.dueAt].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).slice(0, this.capacity);
    if (due.length === 0) return [];
    this.lastPacketAt = now;
    for (const [infoHash] of due) this.dueAt.set(infoHash, now + this.settings.lsdAnnounceIntervalMs);
    return due.map(([infoHash]) => infoHash);
  }
}
