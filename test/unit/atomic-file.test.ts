/**
 * Issue 22, disk faults: a write of running.json or of resume data that fails leaves no
 * half-written file and no temporary file behind, and the next write (the cause gone) succeeds.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { markRunning, runMarkerFile } from '../../src/io/run-marker.js';

let folder = '';
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'shoal-atomic-'));
});
afterEach(() => rm(folder, { recursive: true, force: true }));

test('a write whose rename fails (a folder stands at the name) throws and leaves no temporary file', async () => {
  const target = path.join(folder, 'resume.json');
  await mkdir(path.join(target, 'inside'), { recursive: true });
  await expect(writeFileAtomic(target, '{"a":1}')).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
  expect((await readdir(folder)).sort()).toEqual(['resume.json']);
  expect(await readdir(target)).toEqual(['inside']);

  // The cause gone, the same write succeeds.
  await rm(target, { recursive: true });
  await writeFileAtomic(target, '{"a":2}');
  expect(await readdir(folder)).toEqual(['resume.json']);
  expect(await readFile(target, 'utf8')).toBe('{"a":2}');
});

test('a write that keeps an existing file (overwrite: false) fails with EEXIST, keeps it whole, and leaves no temporary file', async () => {
  const target = path.join(folder, 'a.torrent');
  await writeFile(target, 'old');
  await expect(writeFileAtomic(target, 'new', { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' });
  expect(await readdir(folder)).toEqual(['a.torrent']);
  expect(await readFile(target, 'utf8')).toBe('old');
});

test('a run marker that cannot be written leaves nothing behind in cache/', async () => {
  await mkdir(path.join(runMarkerFile(folder), 'blocker'), { recursive: true });
  await expect(markRunning(folder)).rejects.toThrow();
  expect(await readdir(folder)).toEqual(['running.json']);
  await rm(runMarkerFile(folder), { recursive: true });
  await markRunning(folder, 42);
  expect(JSON.parse(await readFile(runMarkerFile(folder), 'utf8'))).toMatchObject({ pid: 42 });
  expect(await readdir(folder)).toEqual(['running.json']);
});
