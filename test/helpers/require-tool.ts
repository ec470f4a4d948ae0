/**
 * Suites that compare shoal with real tools (mktorrent, transmission-show, aria2c, ...) need them
 * installed. On a developer machine a missing tool skips the suite with a message; in CI
 * (CI=true) it fails the suite, so a broken image cannot pass by testing less.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Whether `name` is an executable file on PATH. */
export function toolAvailable(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return true;
    } catch {
      // Not in this folder; try the next one.
    }
  }
  return false;
}

export function missingTools(tools: string[]): string[] {
  return tools.filter((tool) => !toolAvailable(tool));
}

/** Whether Debian's python3 can import `module` (python3-libtorrent installs `libtorrent`). */
export function pythonModuleAvailable(module: string): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `describe(name, fn)` when every tool is installed; otherwise skipped, or failed in CI. */
export function describeWithTool(tools: string[], name: string, fn: () => void): void {
  describeUnlessMissing(missingTools(tools), tools, name, fn);
}

/** `describe(name, fn)` when nothing is `missing`; otherwise skipped, or failed in CI. */
export function describeUnlessMissing(missing: string[], tools: string[], name: string, fn: () => void): void {
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const what = `${missing.join(', ')} not installed`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      test(`needs ${tools.join(', ')}`, () => {
        throw new Error(`${what}; CI must provide it to run "${name}"`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${what} (install it to run these tests; in CI this fails)`);
  describe.skip(`${name} (skipped: ${what})`, fn);
}
