/**
 * The three floors of the source tree (docs/architecture.md): src/io at the bottom, src/workers
 * above it, src/main on top. A floor imports only from itself and the floors below, so that a
 * worker thread never loads the main thread's code and io can be tested on its own.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Each floor, and the floors it may import from (itself included). */
export const FLOORS: Readonly<Record<string, readonly string[]>> = {
  io: ['io'],
  workers: ['workers', 'io'],
  main: ['main', 'workers', 'io'],
};

export interface FloorViolation {
  /** The importing file, relative to the source root. */
  file: string;
  /** The import as written. */
  specifier: string;
  /** The floor it reaches. */
  floor: string;
}

/** Every relative import or export-from specifier of a TypeScript source, type-only ones included. */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(pattern)) found.push(match[1] ?? match[2]);
  return found.filter((specifier) => specifier.startsWith('.'));
}

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

/** The imports under `srcRoot` that go up a floor (or out of the three floors). */
export async function floorViolations(srcRoot: string): Promise<FloorViolation[]> {
  const violations: FloorViolation[] = [];
  for (const [floor, allowed] of Object.entries(FLOORS)) {
    const files = await sourceFiles(path.join(srcRoot, floor)).catch(() => []);
    for (const file of files) {
      for (const specifier of importSpecifiers(await readFile(file, 'utf8'))) {
        const target = path.relative(srcRoot, path.resolve(path.dirname(file), specifier));
        const reached = target.split(path.sep)[0];
        if (!allowed.includes(reached)) violations.push({ file: path.relative(srcRoot, file), specifier, floor: reached });
      }
    }
  }
  return violations;
}
