/**
 * When a swarm's resume data is written: at once after a check at start and after the role
 * change, at the next tick after pieces verified, and last at a clean stop. One save at a time:
 * one asked for while another runs waits for it, so the last written says the latest. A failed
 * save is logged and tried again at the next tick.
 */
import type { Logger } from '../logger.js';

export class ResumeSaver {
  /** Pieces verified since the last save. */
  private dirty = false;
  private saving: Promise<void> | null = null;

  constructor(
    /** Writes the resume data (TorrentData.saveResume with the pieces had). */
    private readonly write: (cleanStop: boolean) => Promise<void>,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** A piece was verified: the next tick saves. */
  markDirty(): void {
    this.dirty = true;
  }

  /** The swarm's tick: saves what changed since the last save, unless a save is under way. */
  tick(): void {
    if (this.dirty && !this.saving) void this.save(false);
  }

  async save(cleanStop: boolean): Promise<void> {
    while (this.saving) await this.saving;
    this.dirty = false;
    this.saving = this.write(cleanStop)
      .catch((error: Error) => {
        this.dirty = true;
        this.log.warn(`cannot save resume data: ${error.message}`);
      })
      .finally(() => {
        this.saving = null;
      });
    await this.saving;
  }
}
