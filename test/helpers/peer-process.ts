/**
 * Runs real peers through the command line (`node dist/main/cli/shoal.js`) in folders of their
 * own, and waits for states in their /status documents, always with a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusDocument } from '../../src/main/session.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOAL = path.join(PROJECT_ROOT, 'dist', 'main', 'cli', 'shoal.js');
export const TORRENT_COMMAND = path.join(PROJECT_ROOT, 'dist', 'main', 'cli', 'torrent-command.js');
/** The shipped sample and its torrent (announced at 127.0.0.1:6881). */
export const AGE_TXT = path.join(PROJECT_ROOT, 'shareable', 'age.txt');
export const AGE_TORRENT = path.join(PROJECT_ROOT, 'torrents', 'age.torrent');

export interface PeerFolders {
  root: string;
  torrents: string;
  shareable: string;
  cache: string;
}

/** A fresh set of the three folders under a temporary root. */
export async function makePeerFolders(prefix = 'shoal-peer-'): Promise<PeerFolders> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  const folders = { root, torrents: path.join(root, 'torrents'), shareable: path.join(root, 'shareable'), cache: path.join(root, 'cache') };
  await Promise.all([mkdir(folders.torrents), mkdir(folders.shareable), mkdir(folders.cache)]);
  return folders;
}

export async function copyInto(file: string, folder: string): Promise<string> {
  const target = path.join(folder, path.basename(file));
  await copyFile(file, target);
  return target;
}

export async function removeFolders(folders: PeerFolders): Promise<void> {
  await rm(folders.root, { recursive: true, force: true });
}

export { freePort } from '../../src/main/net/free-port.js';

export type { StatusDocument };

export class PeerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    /** Where its /status is reached: loopback, or a test host's address. */
    readonly host = '127.0.0.1',
  ) {
    child.stdout?.setEncoding('utf8').on('data', (text: string) => this.output.push(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => this.output.push(text));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async status(): Promise<StatusDocument> {
    const { status, body } = await httpGet(`http://${this.host}:${this.port}/status`);
    if (status !== 200) throw new Error(`/status answered ${status}`);
    return JSON.parse(body) as StatusDocument;
  }

  /** Waits until the status satisfies `predicate`; fails with the last status and the peer's output. */
  async waitForStatus(predicate: (status: StatusDocument) => boolean, timeoutMs: number, what: string): Promise<StatusDocument> {
    const deadline = Date.now() + timeoutMs;
    let last: StatusDocument | string = 'no answer yet';
    while (Date.now() < deadline) {
      try {
        const status = await this.status();
        last = status;
        if (predicate(status)) return status;
      } catch (error) {
        last = (error as Error).message;
      }
      if (this.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`peer on port ${this.port}: timed out waiting for ${what}\nlast status: ${JSON.stringify(last)}\noutput:\n${this.output.join('')}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return (await this.exited).code;
  }
}

/** One GET on a fresh connection (no keep-alive pool shared between tests), bounded in time. */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
  });
}

/** Settings a test peer runs with instead of the defaults (SHOAL_TEST_SETTINGS), to shrink time-outs and limits. */
export type TestSettings = Record<string, number | string | boolean>;

/**
 * Starts a peer through the command line on `port`. With `portFlag` false, --port is not given
 * (the peer is expected to take the port saved in its cache/) and `port` only says where to poll.
 */
export function startPeer(args: string[], port: number, portFlag = true, testSettings?: TestSettings): PeerProcess {
  const portArgs = portFlag ? ['--port', String(port)] : [];
  const env = testSettings ? { ...process.env, SHOAL_TEST_SETTINGS: JSON.stringify(testSettings) } : process.env;
  const child = spawn(process.execPath, [SHOAL, ...portArgs, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  return new PeerProcess(child, port);
}

/**
 * What a test peer finds peers through besides trackers and ut_pex: nothing, unless the test
 * says otherwise. The DHT would reach the public routers, and local discovery's multicast would
 * let the peers of tests running side by side find each other.
 */
export const NO_DISCOVERY: readonly string[] = ['--no-dht', '--no-lsd'];

/** A peer's folders as arguments, with `discovery` (NO_DISCOVERY unless a test of the DHT or of local discovery gives its own). */
export function folderArgs(folders: PeerFolders, discovery: readonly string[] = NO_DISCOVERY): string[] {
  return ['--torrents', folders.torrents, '--shareable', folders.shareable, '--cache', folders.cache, ...discovery];
}

/** Runs a compiled script of ours with node to completion and collects its output. */
export function runCommand(file: string, args: string[], cwd = PROJECT_ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram(process.execPath, [file, ...args], 60_000, cwd);
}

/** SHA-1 of a file, to compare large files cheaply (jest's deep equality walks a Buffer byte by byte). */
export async function fileDigest(file: string): Promise<string> {
  return createHash('sha1').update(await readFile(file)).digest('hex');
}

export function digest(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** What a program run to completion said, and how it ended. */
export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs any program to completion (killed after `timeoutMs`) and collects its output; `env`
 * replaces the environment when given. Rejects only when the program cannot be started.
 */
export function runProgram(file: string, args: string[], timeoutMs: number, cwd = PROJECT_ROOT, env?: NodeJS.ProcessEnv): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(env && { env }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Throws with the program's output unless it exited 0. */
export function expectSuccess(result: ProgramResult, what: string): void {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}
