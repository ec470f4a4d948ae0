/**
 * shoal's version, as package.json says: read at run time, so a release changes one file. This
 * module sits two folders below the package root both as source (src/main/) and compiled
 * (dist/main/), in the repository and in an installed package alike.
 */
import { readFileSync } from 'node:fs';

export function shoalVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
