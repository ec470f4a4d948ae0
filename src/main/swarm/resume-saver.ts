/**
 * When a swarm's resume data is written: at once after a check at start and after the role
 * change, at the next tick after pieces verified, and last at a clean stop. One save at a time:
 * one asked for while another runs waits for it, so the last written says the latest. A failed
 * save is reported (the swarm's storage error, storage-fault.ts, logs it once, not every second)
 * and tried again at the next tick.
 */

/**
 * Resume saves under way at once, every swarm of the session together
 * (settings.maxConcurrentResumeSaves): a peer of 10,000 torrents that stops would otherwise flush,
 * write and fsync 10,000 files at once, and hold every save's buffers and promises meanwhile
 * (about 300 MB). Each save waits for a slot, first come, first served.
 */
export class SaveSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(count: number) {
    this.free = Math.max(1, count);
  }

  async run(save: () => Promise<void>): Promise<void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      await save();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export class ResumeSaver {
  /** Pieces verified since the last save. */
  private dirty = false;
  private saving: Promise<void> | null = null;

  constructor(
    /** Writes the resume data (TorrentData.saveResume with the pieces had). */
    private readonly write: (cleanStop: boolean) => Promise<void>,
    /** A save failed (the swarm's storage error). */
    private readonly failed: (error: unknown) => void,
    /** Shared with the other swarms of the session. */
    private readonly slots: SaveSlots = new SaveSlots(Infinity),
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
    this.saving = this.slots
      .run(() => this.write(cleanStop))
      .catch((error: unknown) => {
        this.dirty = true;
        this.failed(error);
      })
      .finally(() => {
        this.saving = null;
      });
    await this.saving;
  }
}
