/**
 * WebTorrent for the benchmark, installed on demand: a reference to measure against, never a
 * dependency of ours. webtorrent@3 needs Node 22; 2.8 runs on Node 20 as long as its dependencies
 * stay those of its release (later uint8-util releases break it), so npm resolves them as of
 * DEPENDENCIES_AS_OF, with install scripts off (its WebRTC dependency would download a native
 * binary; bench/webtorrent-hooks.mjs stubs it instead). The install goes to a cache folder outside
 * the repository, kept between runs.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const WEBTORRENT_VERSION = '2.8.5';
/** npm's --before: the newest dependency releases it may pick, after 2.8.5's and before those that break it. */
const DEPENDENCIES_AS_OF = '2026-01-01';
/** Bound on the install (about 15 s with a reachable registry). */
const INSTALL_MS = 300_000;

/** Where the install is kept: the user's cache folder (XDG), one folder per version. */
function webTorrentCacheDir(): string {
  const cache = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(cache, 'shoal-bench', `webtorrent-${WEBTORRENT_VERSION}`);
}

async function installedVersion(dir: string): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, 'node_modules', 'webtorrent', 'package.json'), 'utf8')) as { version?: string };
    return manifest.version;
  } catch {
    return undefined;
  }
}

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

/** What npm said went wrong, in one line: its error code and first message, for the reason a pair is skipped. */
function npmFailure(err: unknown): string {
  const { stderr, killed, message } = err as { stderr?: string; killed?: boolean; message?: string };
  if (killed === true) return `npm did not finish within ${INSTALL_MS / 1000} s`;
  const lines = (stderr ?? '').split('\n').map((line) => line.replace(/^npm (error|ERR!) /, '').trim());
  const code = lines.find((line) => line.startsWith('code '))?.slice('code '.length);
  const said = lines.find((line) => line !== '' && !/^(code|syscall|errno) /.test(line));
  if (said === undefined) return message ?? String(err);
  return code === undefined ? said : `${code}: ${said}`;
}

/**
 * Installs into a fresh folder beside the cache folder and renames it into place once npm
 * succeeded, so that the cache folder, when present, is complete.
 */
async function install(dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  const partial = await mkdtemp(`${dir}.partial-`);
  try {
    await writeFile(path.join(partial, 'package.json'), `${JSON.stringify({ private: true, description: 'WebTorrent for shoal\'s npm run bench' })}\n`);
    const args = ['install', '--prefix', partial, '--ignore-scripts', `--before=${DEPENDENCIES_AS_OF}`, '--no-audit', '--no-fund', '--loglevel=error', `webtorrent@${WEBTORRENT_VERSION}`];
    await run('npm', args, { cwd: partial, timeout: INSTALL_MS });
    try {
      await rename(partial, dir);
    } catch (err) {
      // Another run installed it meanwhile: keep that one.
      if ((await installedVersion(dir)) !== WEBTORRENT_VERSION) throw err;
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** The folder holding node_modules/webtorrent and the version there, or why there is none. */
type Installed = { dir: string; version: string } | { missing: string };

let installing: Promise<Installed> | undefined;

/** WebTorrent's install, made first when needed (once per process). */
export function installWebTorrent(): Promise<Installed> {
  installing ??= (async () => {
    const dir = webTorrentCacheDir();
    if ((await installedVersion(dir)) === WEBTORRENT_VERSION) return { dir, version: WEBTORRENT_VERSION };
    if (await exists(dir)) return { missing: `${dir} holds no webtorrent ${WEBTORRENT_VERSION}: remove that folder to have it installed again` };
    console.log(`  WebTorrent: installing webtorrent@${WEBTORRENT_VERSION} with npm into ${dir} (once)`);
    try {
      await install(dir);
    } catch (err) {
      return { missing: `could not install webtorrent@${WEBTORRENT_VERSION} with npm: ${npmFailure(err)}` };
    }
    return { dir, version: WEBTORRENT_VERSION };
  })();
  return installing;
}
