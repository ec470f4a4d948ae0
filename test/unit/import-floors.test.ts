/** The import rule of docs/architecture.md: src/io and src/workers never import src/main, and io never imports workers. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { floorViolations, importSpecifiers } from '../helpers/import-floors.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

test('no source file imports from a floor above its own', async () => {
  expect(await floorViolations(SRC)).toEqual([]);
});

test('the check finds an import that goes up a floor, type-only and dynamic ones included', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'shoal-floors-'));
  try {
    await Promise.all(['io', 'workers', 'main'].map((floor) => mkdir(path.join(root, floor))));
    await writeFile(path.join(root, 'main', 'settings.ts'), 'export const x = 1;\n');
    await writeFile(path.join(root, 'workers', 'task.ts'), "import { x } from '../io/ok.js';\nimport type { y } from '../main/settings.js';\n");
    await writeFile(path.join(root, 'io', 'ok.ts'), "export const x = 1;\nexport { z } from './other.js';\nconst later = () => import('../workers/task.js');\n");
    await writeFile(path.join(root, 'main', 'swarm.ts'), "import { x } from '../io/ok.js';\nimport { t } from '../workers/task.js';\n");
    expect(await floorViolations(root)).toEqual([
      { file: path.join('io', 'ok.ts'), specifier: '../workers/task.js', floor: 'workers' },
      { file: path.join('workers', 'task.ts'), specifier: '../main/settings.js', floor: 'main' },
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('specifiers are read from every form of import and re-export', () => {
  const source = [
    "import a from './a.js';",
    "import type { B } from '../b.js';",
    "import {\n  c,\n  d,\n} from './cd.js';",
    "export * from './e.js';",
    "import './side-effect.js';",
    "import { readFile } from 'node:fs/promises';",
    "const f = await import('./f.js');",
  ].join('\n');
  expect(importSpecifiers(source)).toEqual(['./a.js', '../b.js', './cd.js', './e.js', './side-effect.js', './f.js']);
});
