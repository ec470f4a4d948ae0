/**
 * The secret that every changing request of the control API must carry (docs/security-and-limits.md,
 * Control API): `cache/api-token`, 32 random bytes in hex, made at the first start with mode 0600,
 * so that only the user who runs the peer (and root) can read it. The peer and `npm run ctl` read
 * the same file; the dashboard gets it from the start-up line's URL or asks for it.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { systemReason } from '../../io/system-error.js';

const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export function apiTokenFile(cacheFolder: string): string {
  return path.join(cacheFolder, 'api-token');
}

/** A token file that cannot be used, with what to do about it. */
export class ApiTokenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiTokenError';
  }
}

/** Reads the token; ApiTokenError when the file is missing, unreadable or not a token. */
export async function readApiToken(cacheFolder: string): Promise<string> {
  const file = apiTokenFile(cacheFolder);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ApiTokenError(
      missing ? `${file} does not exist: start the peer once with this --cache to make it` : `cannot read ${file}: ${systemReason(error)}`,
      { cause: error },
    );
  }
  const token = text.trim();
  if (!TOKEN_PATTERN.test(token)) throw new ApiTokenError(`${file} does not hold a token (64 hexadecimal characters); remove it and the peer makes a new one at its next start`);
  return token;
}

/**
 * The peer's token: the one in cache/ (its permissions narrowed to 0600 if they were wider), or a
 * new one written there atomically. `created` says whether it is new.
 */
export async function ensureApiToken(cacheFolder: string): Promise<{ token: string; created: boolean }> {
  const file = apiTokenFile(cacheFolder);
  const existing = await stat(file).catch(() => null);
  if (existing) {
    const token = await readApiToken(cacheFolder);
    if ((existing.mode & 0o077) !== 0) await chmod(file, 0o600);
    return { token, created: false };
  }
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  try {
    // Never replaces a token another process wrote meanwhile: that one is read instead.
    await writeFileAtomic(file, `${token}\n`, { overwrite: false, mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { token: await readApiToken(cacheFolder), created: false };
    throw new ApiTokenError(`cannot write ${file}: ${systemReason(error)}`, { cause: error });
  }
  return { token, created: true };
}
