/**
 * Gathers jobs that arrive close together into one worker task. Each task posted to the pool
 * costs the main thread a message to clone, a thread to wake and a reply to handle, whatever its
 * size: at a few hundred pieces a second that was a fifth of a downloading peer's main thread,
 * more than copying the blocks. A job waits at most `lingerMs` for company, and a batch leaves
 * at once when it is full, so a busy peer posts a few large tasks and a quiet one waits only a
 * few milliseconds for its piece.
 */

export interface BatchLimits {
  /** How long the first job of a batch waits for others. */
  lingerMs: number;
  /** A batch leaves once it holds this many jobs... */
  maxJobs: number;
  /** ...or this many bytes (job sizes as `sizeOf` gives them). */
  maxBytes: number;
}

/** Runs one batch; returns one result per job, in order. */
export type RunBatch<Job, Result> = (jobs: Job[]) => Promise<Result[]>;

/** Starts a timer; returns what cancels it. Injected so that tests drive a fake clock. */
export type Schedule = (callback: () => void, ms: number) => () => void;

/** A wait of 0 ms lasts until the I/O of this turn of the event loop is handled, no longer. */
const realSchedule: Schedule = (callback, ms) => {
  if (ms === 0) {
    const immediate = setImmediate(callback);
    return () => clearImmediate(immediate);
  }
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
};

interface Waiting<Job, Result> {
  job: Job;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export class TaskBatcher<Job, Result> {
  private waiting: Waiting<Job, Result>[] = [];
  private waitingBytes = 0;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly run: RunBatch<Job, Result>,
    private readonly sizeOf: (job: Job) => number,
    private readonly limits: BatchLimits,
    private readonly schedule: Schedule = realSchedule,
  ) {
    if (!(limits.maxJobs >= 1) || !(limits.lingerMs >= 0)) throw new RangeError(`bad batch limits ${JSON.stringify(limits)}`);
  }

  /** Jobs waiting for their batch to leave. */
  get pending(): number {
    return this.waiting.length;
  }

  submit(job: Job): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      this.waitingBytes += this.sizeOf(job);
      if (this.waiting.length >= this.limits.maxJobs || this.waitingBytes >= this.limits.maxBytes) this.flush();
      else this.cancelTimer ??= this.schedule(() => this.flush(), this.limits.lingerMs);
    });
  }

  /** Sends the waiting jobs now (at a stop, so that nothing lingers). */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    let running: Promise<Result[]>;
    try {
      running = this.run(batch.map((w) => w.job));
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (results) => {
        if (results.length !== batch.length) {
          const error = new Error(`a batch of ${batch.length} jobs returned ${results.length} results`);
          for (const w of batch) w.reject(error);
          return;
        }
        batch.forEach((w, i) => w.resolve(results[i]));
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}
