/** Issue 18: cache/api-token is made once, readable by its owner alone, and read back the same. */
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiTokenError, apiTokenFile, ensureApiToken, readApiToken } from '../../src/main/control/api-token.js';

let cache = '';
beforeEach(async () => {
  cache = await mkdtemp(path.join(os.tmpdir(), 'shoal-token-'));
});
afterEach(() => rm(cache, { recursive: true, force: true }));

test('the first start makes a random token with mode 0600; later starts read the same one', async () => {
  const first = await ensureApiToken(cache);
  expect(first.created).toBe(true);
  expect(first.token).toMatch(/^[0-9a-f]{64}$/);
  expect((await stat(apiTokenFile(cache))).mode & 0o777).toBe(0o600);
  expect(await readdir(cache)).toEqual(['api-token']);
  expect(await ensureApiToken(cache)).toEqual({ token: first.token, created: false });
  expect(await readApiToken(cache)).toBe(first.token);

  const other = await mkdtemp(path.join(os.tmpdir(), 'shoal-token-'));
  try {
    expect((await ensureApiToken(other)).token).not.toBe(first.token);
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});

test('a token file others could read is narrowed to 0600', async () => {
  await writeFile(apiTokenFile(cache), `${'c'.repeat(64)}\n`);
  await chmod(apiTokenFile(cache), 0o644);
  expect(await ensureApiToken(cache)).toEqual({ token: 'c'.repeat(64), created: false });
  expect((await stat(apiTokenFile(cache))).mode & 0o777).toBe(0o600);
});

test('a missing or damaged token file is an error that says what to do', async () => {
  await expect(readApiToken(cache)).rejects.toThrow(/does not exist: start the peer once/);
  await writeFile(apiTokenFile(cache), 'not a token');
  await expect(ensureApiToken(cache)).rejects.toThrow(ApiTokenError);
  await expect(readApiToken(cache)).rejects.toThrow(/remove it and the peer makes a new one/);
});
