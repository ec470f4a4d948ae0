/**
 * The README cannot go stale (issue 21). Every command line of its shell blocks is either run
 * here, as written (with the ports and folders made free and temporary), or listed in COMMANDS
 * with the test or CI script that runs it, which must hold the command's distinctive parts; a
 * command the table does not know fails. Its /status example must be valid JSON with exactly the
 * fields of a real peer seeding age.txt, and that torrent's name, size and piece count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { defaultSettings, TEST_SETTINGS_VARIABLE } from '../../src/io/settings.js';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { PEER_OPTIONS } from '../../src/main/cli/options.js';
import type { StatusDocument } from '../../src/main/session.js';
import { InProcessSwarm } from '../helpers/in-process-peer.js';
import { fencesOf, shellCommandsOf, SHELL_LANGUAGES } from '../helpers/markdown-fences.js';
import { AGE_TORRENT, AGE_TXT, copyInto, digest, expectSuccess, fileDigest, freePort, httpGet, PeerProcess, PROJECT_ROOT, runProgram, type ProgramResult } from '../helpers/peer-process.js';

const README = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
const age = parseMetainfo(readFileSync(AGE_TORRENT));

/** This file: a command it runs itself. */
const HERE = 'here';
/** Another test or a CI script runs the command; `needles` are its distinctive parts, found in that file. */
interface Elsewhere {
  file: string;
  needles: string[];
}
type Runner = typeof HERE | Elsewhere;

const ci = (...needles: string[]): Elsewhere => ({ file: '.ci/run', needles });
const packed = (...needles: string[]): Elsewhere => ({ file: 'test/process/packed-package.test.ts', needles });
const ctl = (...needles: string[]): Elsewhere => ({ file: 'test/process/ctl.test.ts', needles });

/** Every command line of the README's shell blocks, and who runs it. */
const COMMANDS: Record<string, Runner[]> = {
  // Quick start. CI installs with `npm ci`, the same install from the lock file.
  'npm install': [ci('npm ci'), packed("'install'")],
  'npm start': [{ file: 'test/process/npm-start-signals.test.ts', needles: ["spawn('npm', ['start'"] }],
  'npm run demo': [{ file: 'test/process/demo.test.ts', needles: ['demo.js'] }],
  'npm run demo -- --size 1G': [{ file: 'test/process/demo.test.ts', needles: ['demo.js', "'--size'"] }],
  // A second peer on the same machine.
  'mkdir -p /tmp/peer2/torrents /tmp/peer2/shareable /tmp/peer2/cache': [HERE],
  'cp torrents/age.torrent /tmp/peer2/torrents/': [HERE],
  'npm start -- --port 6882 --torrents /tmp/peer2/torrents --shareable /tmp/peer2/shareable --cache /tmp/peer2/cache': [HERE],
  // Magnet links.
  "npm run torrent -- add 'magnet:?xt=urn:btih:dbe6b4d20a41c163a059a968e101ddadcb42bae0&dn=age.txt&x.pe=127.0.0.1:6881'": [
    { file: 'test/process/torrent-command.test.ts', needles: ["['add', uri", 'magnet:?xt=urn:btih:', '&x.pe='] },
  ],
  // Controlling a running peer.
  'npm run ctl -- list': [ctl("ctl('list')")],
  "npm run ctl -- add 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Other'": [ctl("ctl('add', magnet)", "const OTHER = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a'", '&dn=Other')],
  'npm run ctl -- pause age.txt': [ctl("ctl('pause', 'age.txt')")],
  'npm run ctl -- resume age.txt': [ctl("ctl('resume', ")],
  'npm run ctl -- files age.txt --priorities high --sequential on': [ctl("ctl('files', 'age.txt', '--priorities', 'high', '--sequential', 'on')")],
  'npm run ctl -- remove age.txt': [ctl("ctl('remove', 'age.txt')")],
  // Several machines of a LAN.
  'npm run torrent -- set-announce torrents/age.torrent http://192.168.1.10:6881/announce': [
    HERE,
    { file: 'test/lan/lan.test.ts', needles: ["'set-announce'", ':6881/announce'] },
  ],
  // The command line.
  'npm start -- --help': [HERE],
  'npm start -- --version': [HERE],
  'npm run torrent -- info torrents/age.torrent': [HERE],
  'npm run torrent -- create shareable/photos --announce http://192.168.1.10:6881/announce': [
    { file: 'test/process/torrent-command.test.ts', needles: ["'create'", "'--announce'", 'torrents/<name>.torrent'] },
  ],
  'npm pack': [packed("'pack'")],
  'npm install -g ./shoal-0.1.0.tgz': [packed("'install'", 'packed.filename')],
  'mkdir -p ~/share/torrents ~/share/shareable && cd ~/share': [packed("'torrents'", "'shareable'")],
  shoal: [packed('run(shoal, [')],
  // /status.
  'curl http://127.0.0.1:6881/status': [HERE],
  // Tests.
  'npm test': [ci('npm test')],
  'npm run test:unit': [ci('npm test')],
  'CI=true npm test': [ci('export CI=true', 'npm test')],
};

/** The commands this file has run, from the README's own text. */
const ranHere = new Set<string>();

/** The README's command that is `key`; fails when the README no longer has it. */
function readmeCommand(key: string): string {
  if (!shellCommandsOf(README).includes(key)) throw new Error(`the README no longer has the command: ${key}`);
  ranHere.add(key);
  return key;
}

/**
 * The environment of a user's shell: without jest's NODE_OPTIONS. The README's commands run as
 * written, so what keeps their peers off the public DHT and the LAN's multicast is
 * SHOAL_TEST_SETTINGS: the DHT bootstraps from a closed loopback port instead of the public
 * routers (--dht-bootstrap's default), and local discovery is off (--no-lsd's default).
 */
function userEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  env[TEST_SETTINGS_VARIABLE] = JSON.stringify({ dhtBootstrapNodes: '127.0.0.1:1', lsdEnabled: false });
  return env;
}

/** Runs a command line with bash in the project folder, as a user would type it there. */
function runShell(command: string, timeoutMs = 30_000): Promise<ProgramResult> {
  return runProgram('bash', ['-c', command], timeoutMs, PROJECT_ROOT, userEnvironment());
}

/** A command with the README's fixed ports and folders replaced by free and temporary ones. */
function localized(command: string, replacements: [RegExp, string][]): string {
  return replacements.reduce((text, [pattern, value]) => text.replace(pattern, value), command);
}

describe('the commands of the README', () => {
  const commands = shellCommandsOf(README);

  test('every fenced block names its language, and there are shell blocks', () => {
    const unnamed = fencesOf(README).filter((fence) => fence.language === '');
    expect(unnamed.map((fence) => `line ${fence.line}`)).toEqual([]);
    expect(fencesOf(README).some((fence) => SHELL_LANGUAGES.has(fence.language))).toBe(true);
  });

  test('every command is in the table of this test, and every command of the table is in the README', () => {
    expect(commands.filter((command) => !(command in COMMANDS))).toEqual([]);
    expect(Object.keys(COMMANDS).filter((command) => !commands.includes(command))).toEqual([]);
  });

  test('each test or script named for a command exists and holds its distinctive parts', () => {
    const missing: string[] = [];
    for (const [command, runners] of Object.entries(COMMANDS)) {
      for (const runner of runners) {
        if (runner === HERE) continue;
        const file = path.join(PROJECT_ROOT, runner.file);
        if (!existsSync(file)) {
          missing.push(`${command}: ${runner.file} does not exist`);
          continue;
        }
        const text = readFileSync(file, 'utf8');
        for (const needle of runner.needles) if (!text.includes(needle)) missing.push(`${command}: ${runner.file} has no ${needle}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('every npm script the README runs exists, and the packed file name is this version\'s', () => {
    const scripts = commands.map((command) => /^(?:\S+=\S+ )*npm (?:run ([\w:-]+)|(start|test))\b/.exec(command)).filter((match) => match !== null);
    for (const match of scripts) expect(Object.keys(manifest.scripts)).toContain(match[1] ?? match[2]);
    // The README names one test project; the others it lists in words have their scripts too.
    for (const project of ['unit', 'swarm', 'process', 'interop', 'lan']) {
      expect(manifest.scripts[`test:${project}`]).toContain(`--selectProjects ${project}`);
      expect(existsSync(path.join(PROJECT_ROOT, 'test', project))).toBe(true);
    }
    const tarballs = commands.flatMap((command) => command.match(/shoal-[\d.]+\.tgz/g) ?? []);
    expect(tarballs.length).toBeGreaterThan(0);
    for (const tarball of tarballs) expect(tarball).toBe(`shoal-${manifest.version}.tgz`);
  });

  test('every option of the peer is in the README', () => {
    const absent = PEER_OPTIONS.map((option) => `--${option.name}`).filter((flag) => !README.includes(flag));
    expect(absent).toEqual([]);
  });

  test('--help, --version, torrent info and set-announce (on a copy) run as written', async () => {
    const help = readmeCommand('npm start -- --help');
    const version = readmeCommand('npm start -- --version');
    const info = readmeCommand('npm run torrent -- info torrents/age.torrent');
    const setAnnounceCommand = readmeCommand('npm run torrent -- set-announce torrents/age.torrent http://192.168.1.10:6881/announce');
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'shoal-readme-'));
    try {
      const copy = path.join(scratch, 'age.torrent');
      await copyFile(AGE_TORRENT, copy);
      const onCopy = localized(setAnnounceCommand, [[/(^|\s)torrents\/age\.torrent\b/, `$1${copy}`]]);
      const [helpResult, versionResult, infoResult, setResult] = await Promise.all([help, version, info, onCopy].map((command) => runShell(command)));
      expectSuccess(helpResult, help);
      expect(helpResult.stdout).toContain('usage: npm start -- [options]');
      expectSuccess(versionResult, version);
      expect(versionResult.stdout.trim().split('\n').at(-1)).toBe(manifest.version);
      expectSuccess(infoResult, info);
      expect(infoResult.stdout).toContain(`info hash: ${age.infoHashHex}`);
      expect(infoResult.stdout).toContain(`pieces: ${age.pieceCount}`);
      expectSuccess(setResult, onCopy);
      const edited = parseMetainfo(await readFile(copy));
      expect(edited.announce).toBe('http://192.168.1.10:6881/announce');
      expect(edited.infoHashHex).toBe(age.infoHashHex);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Every key, at any depth, of some JSON values. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key);
      keysOf(inner, into);
    }
  }
  return into;
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** Where the README's example and a real document differ in shape: keys, and the kind of each value. */
function shapeDifferences(example: unknown, real: unknown, where = 'status'): string[] {
  if (kindOf(example) !== kindOf(real)) return [`${where}: the README shows ${kindOf(example)}, the peer gives ${kindOf(real)}`];
  if (Array.isArray(example) && Array.isArray(real)) {
    return example.length > 0 && real.length > 0 ? shapeDifferences(example[0], real[0], `${where}[0]`) : [];
  }
  if (kindOf(example) !== 'object') return [];
  const shown = example as Record<string, unknown>;
  const given = real as Record<string, unknown>;
  return [
    ...Object.keys(shown).filter((key) => !(key in given)).map((key) => `${where}.${key}: in the README, not given by the peer`),
    ...Object.keys(given).filter((key) => !(key in shown)).map((key) => `${where}.${key}: given by the peer, not in the README`),
    ...Object.keys(shown).filter((key) => key in given).flatMap((key) => shapeDifferences(shown[key], given[key], `${where}.${key}`)),
  ];
}

describe('a second peer on the same machine, and /status', () => {
  const swarm = new InProcessSwarm('age.txt');
  let second: ChildProcess | undefined;
  let scratch: string | undefined;

  afterAll(async () => {
    // npm runs in a process group of its own: whatever is left of it goes.
    if (second?.pid !== undefined && second.exitCode === null && second.signalCode === null) {
      try {
        process.kill(-second.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await swarm.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('the README\'s steps download age.txt from the first peer, whose /status is the README\'s example', async () => {
    // The first peer as `npm start` runs it in the project, on a free port; a slow upload keeps
    // the second peer connected long enough to be seen in the first one's /status.
    const first = await swarm.makeFolders();
    const firstPort = await freePort();
    await writeFile(path.join(first.torrents, 'age.torrent'), setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${firstPort}/announce`));
    await writeFile(path.join(first.torrents, 'broken.torrent'), 'not bencode');
    await copyInto(AGE_TXT, first.shareable);
    const seeder = await swarm.start(first, { port: firstPort, args: ['--upload-limit', '512k'] });
    await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the first peer to seed age.txt');

    scratch = await mkdtemp(path.join(os.tmpdir(), 'shoal-readme-'));
    const secondPort = await freePort();
    const replacements: [RegExp, string][] = [
      [/\/tmp\/peer2/g, path.join(scratch, 'peer2')],
      [/\b6882\b/g, String(secondPort)],
      [/\b6881\b/g, String(firstPort)],
      [/(^|\s)torrents\/age\.torrent\b/g, `$1${path.join(first.torrents, 'age.torrent')}`],
    ];
    for (const key of ['mkdir -p /tmp/peer2/torrents /tmp/peer2/shareable /tmp/peer2/cache', 'cp torrents/age.torrent /tmp/peer2/torrents/']) {
      const command = localized(readmeCommand(key), replacements);
      expectSuccess(await runShell(command), command);
    }
    const start = localized(
      readmeCommand('npm start -- --port 6882 --torrents /tmp/peer2/torrents --shareable /tmp/peer2/shareable --cache /tmp/peer2/cache'),
      replacements,
    );
    second = spawn('bash', ['-c', `exec ${start}`], { cwd: PROJECT_ROOT, env: userEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const leecher = new PeerProcess(second, secondPort);

    // What `curl` shows while the second peer downloads.
    const curl = localized(readmeCommand('curl http://127.0.0.1:6881/status'), replacements);
    const url = /^curl (\S+)$/.exec(curl)?.[1] ?? '';
    let status: StatusDocument | undefined;
    const deadline = Date.now() + 20_000;
    while (!status || status.swarms[0]?.peers.length === 0) {
      if (Date.now() > deadline) throw new Error(`the second peer never showed in ${url}\nlast: ${JSON.stringify(status)}\nsecond peer:\n${leecher.output.join('')}`);
      const { status: code, body } = await httpGet(url);
      expect(code).toBe(200);
      status = JSON.parse(body) as StatusDocument;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const done = await leecher.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the second peer to complete');
    expect(await fileDigest(path.join(scratch, 'peer2', 'shareable', 'age.txt'))).toBe(digest(await readFile(AGE_TXT)));
    second.kill('SIGTERM');
    expect(await leecher.exited).toEqual({ code: 0, signal: null });

    const examples = fencesOf(README).filter((fence) => fence.language === 'json');
    expect(examples).toHaveLength(1);
    const example = JSON.parse(examples[0].lines.join('\n')) as StatusDocument;
    expect(shapeDifferences(example, status)).toEqual([]);
    // The shipped sample, as the first peer seeds it.
    expect(example.port).toBe(defaultSettings.defaultPort);
    expect(example.swarms[0]).toMatchObject({ name: age.name, infoHash: age.infoHashHex, pieces: age.pieceCount, have: age.pieceCount, size: age.totalLength, left: 0, role: 'seeder', announcer: true });
    expect(README).toContain(`${age.pieceCount} pieces of ${age.pieceLength / 1024} KiB`);

    // Every field of the seeder's, the leecher's and a skipped file's status is named in the README.
    expect(status.skipped).toEqual([{ file: 'broken.torrent', reason: expect.any(String) }]);
    const fields = [...keysOf([status, done])];
    expect(fields.filter((key) => !README.includes(`"${key}"`) && !README.includes(`\`${key}\``))).toEqual([]);
  }, 60_000);
});

describe('this file', () => {
  test('ran every command its table says it runs', () => {
    const mine = Object.entries(COMMANDS).filter(([, runners]) => runners.includes(HERE)).map(([command]) => command);
    expect(mine.filter((command) => !ranHere.has(command))).toEqual([]);
  });
});
