/**
 * When the resume data is written: one save at a time, at the tick after a change, retried after
 * a failure; and, across the swarms of a session, a few saves at once (issue 20: a stop of 10,000
 * swarms held 10,000 writes in memory together).
 */
import { ResumeSaver, SaveSlots } from '../../src/main/swarm/resume-saver.js';

function setup(slots?: SaveSlots) {
  const writes: { cleanStop: boolean; finish(): void; fail(error: Error): void }[] = [];
  const failures: string[] = [];
  const saver = new ResumeSaver(
    (cleanStop) =>
      new Promise<void>((resolve, reject) => {
        writes.push({ cleanStop, finish: resolve, fail: reject });
      }),
    (error) => void failures.push((error as Error).message),
    slots,
  );
  return { saver, writes, failures };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('the tick saves only after a piece was verified', async () => {
  const { saver, writes } = setup();
  saver.tick();
  expect(writes).toHaveLength(0);
  saver.markDirty();
  saver.tick();
  expect(writes.map((w) => w.cleanStop)).toEqual([false]);
  writes[0].finish();
  await settle();
  saver.tick();
  expect(writes).toHaveLength(1);
});

test('a save asked for while one runs waits for it; the tick does not start a second', async () => {
  const { saver, writes } = setup();
  saver.markDirty();
  saver.tick();
  saver.markDirty();
  saver.tick();
  const last = saver.save(true);
  await settle();
  expect(writes.map((w) => w.cleanStop)).toEqual([false]);
  writes[0].finish();
  await settle();
  expect(writes.map((w) => w.cleanStop)).toEqual([false, true]);
  writes[1].finish();
  await last;
});

test('a failed save is reported (the storage error of the swarm logs it) and tried again at the next tick', async () => {
  const { saver, writes, failures } = setup();
  const first = saver.save(false);
  writes[0].fail(new Error('disk full'));
  await first;
  expect(failures).toEqual(['disk full']);
  saver.tick();
  expect(writes).toHaveLength(2);
});

test('swarms sharing save slots write at most that many at once, the others in turn as slots free', async () => {
  const slots = new SaveSlots(2);
  const swarms = [setup(slots), setup(slots), setup(slots), setup(slots)];
  const stops = swarms.map(({ saver }) => saver.save(true));
  await settle();
  const started = (): number[] => swarms.flatMap(({ writes }, i) => writes.map(() => i));
  expect(started()).toEqual([0, 1]);
  swarms[1].writes[0].fail(new Error('disk full'));
  await settle();
  expect(started()).toEqual([0, 1, 2]);
  swarms[0].writes[0].finish();
  await settle();
  expect(started()).toEqual([0, 1, 2, 3]);
  swarms[2].writes[0].finish();
  swarms[3].writes[0].finish();
  await Promise.all(stops);
  expect(swarms.map(({ failures }) => failures)).toEqual([[], ['disk full'], [], []]);
});
