/** Jobs that arrive close together leave as one worker task (src/io/task-batcher.ts). */
import { TaskBatcher, type Schedule } from '../../src/io/task-batcher.js';

/** A clock that only moves when the test says so. */
class FakeTimers {
  private timers: { at: number; callback: () => void }[] = [];
  now = 0;
  readonly schedule: Schedule = (callback, ms) => {
    const timer = { at: this.now + ms, callback };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((t) => t !== timer));
  };

  advance(ms: number): void {
    this.now += ms;
    const due = this.timers.filter((t) => t.at <= this.now);
    this.timers = this.timers.filter((t) => t.at > this.now);
    for (const timer of due) timer.callback();
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** A batch runner that records its batches and answers each job with its double. */
function doubler() {
  const batches: number[][] = [];
  const run = async (jobs: number[]): Promise<number[]> => {
    batches.push(jobs);
    return jobs.map((job) => job * 2);
  };
  return { batches, run };
}

const limits = { lingerMs: 8, maxJobs: 4, maxBytes: 1000 };

describe('TaskBatcher', () => {
  test('jobs within the linger time leave together when it ends, each with its own result', async () => {
    const timers = new FakeTimers();
    const { batches, run } = doubler();
    const batcher = new TaskBatcher(run, () => 1, limits, timers.schedule);
    const results = [batcher.submit(1), batcher.submit(2)];
    timers.advance(7);
    results.push(batcher.submit(3));
    expect(batches).toEqual([]);
    expect(batcher.pending).toBe(3);
    timers.advance(1);
    expect(batches).toEqual([[1, 2, 3]]);
    await expect(Promise.all(results)).resolves.toEqual([2, 4, 6]);
    expect(timers.pending).toBe(0);
  });

  test('a full batch, by count or by bytes, leaves at once and the next one starts its own wait', async () => {
    const timers = new FakeTimers();
    const { batches, run } = doubler();
    const batcher = new TaskBatcher(run, (job) => job, limits, timers.schedule);
    const byCount = [1, 2, 3, 4].map((job) => batcher.submit(job));
    expect(batches).toEqual([[1, 2, 3, 4]]);
    expect(timers.pending).toBe(0);
    await Promise.all(byCount);

    const bySize = [batcher.submit(600), batcher.submit(400)];
    expect(batches[1]).toEqual([600, 400]);
    await Promise.all(bySize);

    const alone = batcher.submit(5);
    expect(batches).toHaveLength(2);
    timers.advance(8);
    expect(batches[2]).toEqual([5]);
    await expect(alone).resolves.toBe(10);
  });

  test('flush sends what waits at once; with nothing waiting it posts nothing', async () => {
    const timers = new FakeTimers();
    const { batches, run } = doubler();
    const batcher = new TaskBatcher(run, () => 1, limits, timers.schedule);
    batcher.flush();
    const waiting = batcher.submit(9);
    batcher.flush();
    expect(batches).toEqual([[9]]);
    expect(timers.pending).toBe(0);
    await expect(waiting).resolves.toBe(18);
  });

  test('a failed batch rejects its own jobs only', async () => {
    const timers = new FakeTimers();
    let calls = 0;
    const batcher = new TaskBatcher(
      async (jobs: number[]) => {
        if (++calls === 1) throw new Error('worker died');
        return jobs;
      },
      () => 1,
      limits,
      timers.schedule,
    );
    const first = [batcher.submit(1), batcher.submit(2)];
    timers.advance(8);
    const second = batcher.submit(3);
    timers.advance(8);
    await expect(first[0]).rejects.toThrow('worker died');
    await expect(first[1]).rejects.toThrow('worker died');
    await expect(second).resolves.toBe(3);
  });

  test('a runner that throws at once, or answers with the wrong number of results, rejects the batch', async () => {
    const timers = new FakeTimers();
    const throwing = new TaskBatcher<number, number>(
      () => {
        throw new Error('cannot post');
      },
      () => 1,
      limits,
      timers.schedule,
    );
    const posted = throwing.submit(1);
    timers.advance(8);
    await expect(posted).rejects.toThrow('cannot post');

    const short = new TaskBatcher(async (jobs: number[]) => jobs.slice(1), () => 1, limits, timers.schedule);
    const jobs = [short.submit(1), short.submit(2)];
    timers.advance(8);
    await expect(jobs[0]).rejects.toThrow('a batch of 2 jobs returned 1 results');
    await expect(jobs[1]).rejects.toThrow('a batch of 2 jobs returned 1 results');
  });

  test('limits that could never send a batch are refused', () => {
    expect(() => new TaskBatcher(doubler().run, () => 1, { lingerMs: 8, maxJobs: 0, maxBytes: 10 })).toThrow(RangeError);
    expect(() => new TaskBatcher(doubler().run, () => 1, { lingerMs: -1, maxJobs: 4, maxBytes: 10 })).toThrow(RangeError);
  });
});
