/** A swarm's storage error (storage-fault.ts): its kind by errno, its log lines, when to check and when to resume. */
import { errorCode, roomToResume, StorageFault, storageErrorKind } from '../../src/main/swarm/storage-fault.js';

const errno = (code: string, message = `${code}: something, write`): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

describe('storageErrorKind', () => {
  test.each([
    ['ENOSPC', 'disk-full'],
    ['EDQUOT', 'disk-full'],
    ['EROFS', 'read-only'],
    ['EACCES', 'read-only'],
    ['EPERM', 'read-only'],
    ['ENOENT', 'missing-file'],
    ['EIO', 'io'],
    ['EISDIR', 'io'],
  ])('%s is %s', (code, kind) => {
    expect(storageErrorKind(errno(code))).toBe(kind);
  });

  test('the code is read from the message when the error has none (a reason from a worker)', () => {
    expect(storageErrorKind(new Error('ENOSPC: no space left on device, write'))).toBe('disk-full');
    expect(storageErrorKind('EROFS: read-only file system, open \'/x\'')).toBe('read-only');
    expect(errorCode(new Error('disk full'))).toBeUndefined();
    expect(storageErrorKind(new Error('disk full'))).toBe('io');
  });
});

test('room to resume after a full disk: free space for the given number of pieces', () => {
  expect(roomToResume(2 * 65536, 65536, 2)).toBe(true);
  expect(roomToResume(2 * 65536 - 1, 65536, 2)).toBe(false);
  expect(roomToResume(0, 65536, 1)).toBe(false);
});

describe('StorageFault', () => {
  const T0 = Date.parse('2026-01-01T00:00:00.000Z');

  test('the first failure is told with its reason, the next ones only counted', () => {
    const fault = new StorageFault(5_000, 60_000);
    expect(fault.error).toBeNull();
    expect(fault.failed('cannot write piece 3', errno('ENOSPC', 'ENOSPC: no space left on device, write'), T0)).toBe(
      'storage error (disk-full), downloading paused until it is gone: cannot write piece 3: ENOSPC: no space left on device, write',
    );
    expect(fault.active).toBe(true);
    expect(fault.error).toEqual({ kind: 'disk-full', message: 'cannot write piece 3: ENOSPC: no space left on device, write', since: '2026-01-01T00:00:00.000Z' });
    for (let i = 0; i < 30; i++) expect(fault.failed('cannot save resume data', errno('ENOSPC'), T0 + i * 100)).toBeNull();
    // The first error stays the one shown.
    expect(fault.error?.message).toMatch(/^cannot write piece 3/);
  });

  test('a check is due every retry period while in error, never without one', () => {
    const fault = new StorageFault(5_000, 60_000);
    expect(fault.checkDue(T0 + 10_000)).toBe(false);
    fault.failed('cannot write piece 1', errno('EROFS'), T0);
    expect(fault.checkDue(T0 + 4_999)).toBe(false);
    expect(fault.checkDue(T0 + 5_000)).toBe(true);
    expect(fault.checkDue(T0 + 6_000)).toBe(false);
    expect(fault.checkDue(T0 + 10_000)).toBe(true);
  });

  test('further failures are summed up at most once a minute, and only when there were some', () => {
    const fault = new StorageFault(5_000, 60_000);
    fault.failed('cannot write piece 1', errno('ENOSPC'), T0);
    expect(fault.summary(T0 + 60_000)).toBeNull();
    fault.failed('cannot write piece 2', errno('ENOSPC'), T0 + 1_000);
    fault.failed('cannot write piece 3', errno('ENOSPC'), T0 + 2_000);
    expect(fault.summary(T0 + 59_999)).toBeNull();
    expect(fault.summary(T0 + 60_000)).toBe('storage error (disk-full) goes on: 2 more failure(s) in the last 60 s');
    fault.failed('cannot write piece 4', errno('ENOSPC'), T0 + 61_000);
    expect(fault.summary(T0 + 90_000)).toBeNull();
    expect(fault.summary(T0 + 120_000)).toMatch(/: 1 more failure/);
  });

  test('recovering clears the error and tells how many failures came meanwhile; a new error is told again', () => {
    const fault = new StorageFault(5_000, 60_000);
    expect(fault.recovered(T0)).toBeNull();
    fault.failed('cannot write piece 1', errno('ENOSPC'), T0);
    fault.failed('cannot write piece 2', errno('ENOSPC'), T0 + 1_000);
    expect(fault.recovered(T0 + 12_000)).toBe('storage error (disk-full) is gone after 12 s, 1 further failure(s) meanwhile: downloading again');
    expect(fault.error).toBeNull();
    expect(fault.checkDue(T0 + 30_000)).toBe(false);
    expect(fault.failed('cannot write piece 9', errno('EIO'), T0 + 40_000)).toMatch(/^storage error \(io\)/);
  });
});
