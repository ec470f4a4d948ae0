/**
 * What `npm pack` makes installs as a `shoal` command that runs from any folder, on that folder's
 * torrents/, shareable/ and cache/ (issue 21). It packs the dist/ that `npm test` built, with
 * --ignore-scripts: the pack's own clean build would pull dist/ from under the other tests. The
 * install fetches piscina and undici (from npm's cache when it has them) and must not need a
 * compiler: the tarball ships compiled code, and npm runs no `prepare` for a tarball.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { runMarkerFile } from '../../src/io/run-marker.js';
import { AGE_TORRENT, AGE_TXT, expectSuccess, freePort, NO_DISCOVERY, PROJECT_ROOT, runProgram, type ProgramResult } from '../helpers/peer-process.js';

/**
 * Without jest's NODE_OPTIONS, and without the node_modules/.bin folders that `npm test` puts on
 * the PATH: an install that needed the project's tsc would fail here.
 */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  env.PATH = (env.PATH ?? '')
    .split(path.delimiter)
    .filter((folder) => !folder.includes(`node_modules${path.sep}.bin`))
    .join(path.delimiter);
  return env;
}

/** Runs a program to completion in `cwd` (killed after `timeoutMs`), in the clean environment. */
function run(file: string, args: string[], cwd: string, timeoutMs: number): Promise<ProgramResult> {
  return runProgram(file, args, timeoutMs, cwd, cleanEnvironment());
}

interface PackReport {
  filename: string;
  size: number;
  entryCount: number;
  files: { path: string }[];
}

let root: string;
let packed: PackReport;
let shoal: string;
const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'shoal-packed-'));
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], PROJECT_ROOT, 30_000);
  expectSuccess(pack, 'npm pack');
  [packed] = JSON.parse(pack.stdout) as PackReport[];
  const install = await run(
    'npm',
    ['install', '--prefix', path.join(root, 'install'), path.join(root, packed.filename), '--no-audit', '--no-fund', '--prefer-offline'],
    root,
    45_000,
  );
  expectSuccess(install, 'npm install of the tarball');
  shoal = path.join(root, 'install', 'node_modules', '.bin', 'shoal');
}, 80_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed package', () => {
  test('holds the compiled program, package.json and the README, and no sources, tests or benchmarks', async () => {
    const files = packed.files.map((file) => file.path);
    for (const file of files) expect(file).toMatch(/^(package\.json|README\.md|dist\/(main|io|workers)\/[\w/.-]+\.js)$/);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', manifest.bin.shoal, 'dist/main/version.js', 'dist/workers/piece-tasks.js']));
    const installed = path.join(root, 'install', 'node_modules', 'shoal', manifest.bin.shoal);
    expect((await readFile(installed, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('installs a shoal command that prints the version from any folder', async () => {
    const elsewhere = await mkdtemp(path.join(root, 'elsewhere-'));
    const result = await run(shoal, ['--version'], elsewhere, 10_000);
    expect(result).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  test('shoal seeds from the folders of the directory it runs in and keeps its cache there', async () => {
    const here = await mkdtemp(path.join(root, 'peer-'));
    const port = await freePort();
    await mkdir(path.join(here, 'torrents'));
    await mkdir(path.join(here, 'shareable'));
    await writeFile(path.join(here, 'torrents', 'age.torrent'), setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`));
    await writeFile(path.join(here, 'shareable', 'age.txt'), await readFile(AGE_TXT));
    const result = await run(shoal, ['--port', String(port), '--workers', '1', '--exit-when-done', ...NO_DISCOVERY], here, 20_000);
    expectSuccess(result, 'shoal --exit-when-done');
    expect(result.stdout).toMatch(/\[age\.txt\] joined as seeder/);
    const config = JSON.parse(await readFile(path.join(here, 'cache', 'config.json'), 'utf8')) as { port: number };
    expect(config.port).toBe(port);
    await expect(stat(runMarkerFile(path.join(here, 'cache')))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
