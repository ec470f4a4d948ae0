/**
 * Issue 22, disk faults: running.json is written at start and removed at a clean stop, each once
 * per run, so a failure that can pass by itself (a full disk, a busy file) is tried again a few
 * times with growing waits; a write tried again still leaves no half-written or temporary file.
 * Faults are injected through markRunning's `write` and markStoppedCleanly's `remove`, and the
 * waits through `sleep`, so nothing here depends on the real disk filling or on real time.
 */
import { mkdtemp, readdir, readFile, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { markRunning, markStoppedCleanly, previousRunWasClean, runMarkerFile } from '../../src/io/run-marker.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EBUSY: 'resource busy or locked',
  EIO: 'i/o error',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
};

/** An error shaped like Node's own. */
function fault(code: string, call: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${REASONS[code]}, ${call}`), { code });
}

let folder = '';
/** The waits asked for, and what cache/ held at each (that is, after each failed try). */
let delays: number[] = [];
let between: string[][] = [];
/** What the temporary file held each time a write failed, before writeFileAtomic removed it. */
let halfWritten: string[] = [];
const sleep = async (ms: number): Promise<void> => {
  delays.push(ms);
  between.push(await readdir(folder));
};
const schedule = { attempts: 3, firstDelayMs: 10, sleep };

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'shoal-run-marker-'));
  delays = [];
  between = [];
  halfWritten = [];
});
afterEach(() => rm(folder, { recursive: true, force: true }));

/**
 * The real atomic write, made to fail with `code` halfway through writing its temporary file, as
 * a disk that fills up would: writeFileAtomic hands its data to FileHandle.writeFile, which also
 * takes an async iterable, so the iterable writes half the marker and then throws.
 */
function writeHalfThenFail(code: string) {
  return (file: string, data: string): Promise<void> => {
    async function* chunks(): AsyncGenerator<string> {
      yield data.slice(0, data.length >> 1);
      const temporary = (await readdir(folder)).filter((name) => name.endsWith('.tmp'));
      halfWritten.push(...(await Promise.all(temporary.map((name) => readFile(path.join(folder, name), 'utf8')))));
      throw fault(code, 'write');
    }
    return writeFileAtomic(file, chunks() as unknown as string);
  };
}

test('a write that fails twice with ENOSPC is tried again and ends with a whole marker and no temporary file', async () => {
  let calls = 0;
  const failing = writeHalfThenFail('ENOSPC');
  await markRunning(folder, 42, { ...schedule, write: (file, data) => (++calls <= 2 ? failing(file, data) : writeFileAtomic(file, data)) });

  expect(calls).toBe(3);
  expect(delays).toEqual([10, 20]);
  // Each failed try had half a marker in a temporary file, and left nothing in cache/.
  expect(halfWritten).toHaveLength(2);
  for (const text of halfWritten) expect(() => JSON.parse(text)).toThrow();
  expect(between).toEqual([[], []]);
  expect(await readdir(folder)).toEqual(['running.json']);
  const marker = JSON.parse(await readFile(runMarkerFile(folder), 'utf8')) as { pid: number; startedAt: string };
  expect(marker.pid).toBe(42);
  expect(new Date(marker.startedAt).toISOString()).toBe(marker.startedAt);
  expect(await previousRunWasClean(folder)).toBe(false);
});

test('a write that keeps failing throws, after the last try, the file and the reason, and leaves nothing behind', async () => {
  let calls = 0;
  const failing = writeHalfThenFail('ENOSPC');
  const marking = markRunning(folder, 42, { ...schedule, write: (file, data) => (calls++, failing(file, data)) });

  await expect(marking).rejects.toThrow(`cannot write ${runMarkerFile(folder)}: no space left on device (ENOSPC) (tried 3 times)`);
  expect(calls).toBe(3);
  expect(delays).toEqual([10, 20]);
  expect(halfWritten).toHaveLength(3);
  expect(await readdir(folder)).toEqual([]);
});

test('by default a write is tried 4 times, with waits that double and add up to under 2 s', async () => {
  let calls = 0;
  const marking = markRunning(folder, 42, { sleep, write: () => (calls++, Promise.reject(fault('EIO', 'write'))) });

  await expect(marking).rejects.toThrow(`cannot write ${runMarkerFile(folder)}: i/o error (EIO) (tried 4 times)`);
  expect(calls).toBe(4);
  expect(delays).toEqual([250, 500, 1000]);
});

test('a removal that fails twice with EBUSY is tried again and the marker is gone', async () => {
  await markRunning(folder, 42);
  let calls = 0;
  const remove = (file: string): Promise<void> => (++calls <= 2 ? Promise.reject(fault('EBUSY', 'unlink')) : unlink(file));
  await markStoppedCleanly(folder, { ...schedule, remove });

  expect(calls).toBe(3);
  expect(delays).toEqual([10, 20]);
  expect(between).toEqual([['running.json'], ['running.json']]);
  expect(await readdir(folder)).toEqual([]);
  expect(await previousRunWasClean(folder)).toBe(true);
});

test('a removal that keeps failing throws the file and the reason, and the marker stays', async () => {
  await markRunning(folder, 42);
  let calls = 0;
  const stopping = markStoppedCleanly(folder, { ...schedule, remove: () => (calls++, Promise.reject(fault('EIO', 'unlink'))) });

  await expect(stopping).rejects.toThrow(`cannot remove ${runMarkerFile(folder)}: i/o error (EIO) (tried 3 times)`);
  expect(calls).toBe(3);
  expect(delays).toEqual([10, 20]);
  expect(await previousRunWasClean(folder)).toBe(false);
});

test('a failure no wait can cure (permission, read-only file system) is not tried again', async () => {
  let writes = 0;
  const marking = markRunning(folder, 42, { ...schedule, write: () => (writes++, Promise.reject(fault('EACCES', 'open'))) });
  await expect(marking).rejects.toThrow(`cannot write ${runMarkerFile(folder)}: permission denied (EACCES)`);
  await expect(marking).rejects.not.toThrow('tried');
  expect(writes).toBe(1);

  await markRunning(folder, 42);
  let removals = 0;
  const stopping = markStoppedCleanly(folder, { ...schedule, remove: () => (removals++, Promise.reject(fault('EROFS', 'unlink'))) });
  await expect(stopping).rejects.toThrow(`cannot remove ${runMarkerFile(folder)}: read-only file system (EROFS)`);
  expect(removals).toBe(1);
  expect(delays).toEqual([]);
  expect(await readdir(folder)).toEqual(['running.json']);
});
