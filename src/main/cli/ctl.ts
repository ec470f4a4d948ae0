/**
 * `npm run ctl -- add | pause | resume | remove | files | list`: the control API of a running peer
 * (docs/architecture.md, Control) from the command line. It reads the token from cache/api-token
 * and the port the peer last used from cache/config.json, so that on the peer's machine, in its
 * folder, no option is needed.
 *
 * Parsing, running and formatting are plain functions so tests can call them; the process entry
 * at the bottom only wires them to argv, stdout, stderr and the exit code.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FILE_PRIORITIES, type FilePriority } from '../../io/control-state.js';
import { readPeerConfig } from '../../io/peer-config.js';
import { defaultSettings } from '../../io/settings.js';
import { systemReason } from '../../io/system-error.js';
import { ApiTokenError, readApiToken } from '../control/api-token.js';
import { TOKEN_HEADER } from '../control/request-guard.js';
import { printable } from '../printable-text.js';
import { runIfStarted, type CommandOutput } from './command-entry.js';

const PROGRAM = 'shoal ctl';
/** Time allowed for one answer of the peer. */
const REQUEST_TIMEOUT_MS = 30_000;

export const usage = `usage: npm run ctl -- [--cache DIR] [--host ADDR] [--port P] COMMAND
  add <magnet-uri | file.torrent | file.magnet>   adds a torrent to the running peer
  pause <torrent>                                  stops its traffic, both ways, until resumed
  resume <torrent>
  remove <torrent>                                 leaves its swarm; its data stays
  files <torrent> [--priorities P,P,...] [--sequential on|off]
                                                   lists its files; with options, changes them
  list                                             lists the torrents
<torrent> is an info hash, a unique start of one, or a torrent's name. P is skip, normal or high,
one per file in the order files lists them. --cache (default ./cache) holds the token
(api-token) and the port last used (config.json); --host defaults to 127.0.0.1, --port to that
port, else ${defaultSettings.defaultPort}.`;

export class CtlUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CtlUsageError';
  }
}

export class CtlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CtlError';
  }
}

export type CtlCommand =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'add'; source: string }
  | { kind: 'pause' | 'resume' | 'remove'; torrent: string }
  | { kind: 'files'; torrent: string; priorities?: FilePriority[]; sequential?: boolean };

export interface CtlInvocation {
  command: CtlCommand;
  cache: string;
  host: string;
  port?: number;
}

const OPTIONS = {
  cache: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  priorities: { type: 'string' },
  sequential: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCtl(argv: string[], cwd: string = process.cwd()): CtlInvocation {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CtlUsageError((error as Error).message.split(/\.(\s|$)/)[0]);
  }
  const { values, positionals } = parsed;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new CtlUsageError(`--port must be a port number from 1 to 65535, got "${values.port}"`);
  const base = { cache: path.resolve(cwd, values.cache ?? 'cache'), host: values.host ?? '127.0.0.1', ...(port !== undefined && { port }) };
  const [name, argument, ...extra] = positionals;
  if (values.help || name === undefined) return { ...base, command: { kind: 'help' } };
  if (extra.length > 0) throw new CtlUsageError(`${name} takes one argument, got extra "${extra[0]}"`);
  if ((values.priorities !== undefined || values.sequential !== undefined) && name !== 'files') throw new CtlUsageError('--priorities and --sequential go with files');
  switch (name) {
    case 'list':
      if (argument !== undefined) throw new CtlUsageError(`list takes no argument, got "${argument}"`);
      return { ...base, command: { kind: 'list' } };
    case 'add':
      if (argument === undefined) throw new CtlUsageError('add needs <magnet-uri | file.torrent | file.magnet>');
      return { ...base, command: { kind: 'add', source: argument } };
    case 'pause':
    case 'resume':
    case 'remove':
      if (argument === undefined) throw new CtlUsageError(`${name} needs <torrent>: an info hash, its start, or a name`);
      return { ...base, command: { kind: name, torrent: argument } };
    case 'files': {
      if (argument === undefined) throw new CtlUsageError('files needs <torrent>: an info hash, its start, or a name');
      const priorities = values.priorities?.split(',').map((p) => p.trim());
      const bad = priorities?.find((p) => !(FILE_PRIORITIES as readonly string[]).includes(p));
      if (bad !== undefined) throw new CtlUsageError(`--priorities takes ${FILE_PRIORITIES.join(', ')} separated by commas, got "${bad}"`);
      if (values.sequential !== undefined && !['on', 'off'].includes(values.sequential)) throw new CtlUsageError(`--sequential takes on or off, got "${values.sequential}"`);
      return {
        ...base,
        command: {
          kind: 'files',
          torrent: argument,
          ...(priorities && { priorities: priorities as FilePriority[] }),
          ...(values.sequential !== undefined && { sequential: values.sequential === 'on' }),
        },
      };
    }
    default:
      throw new CtlUsageError(`unknown command "${name}"; expected add, pause, resume, remove, files or list`);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** What /status says of a swarm, as far as this client reads it. */
interface ListedSwarm {
  infoHash: string;
  name: string;
  role: string;
  have: number;
  pieces: number;
  paused?: boolean;
  sequential?: boolean;
  files?: { path: string; size: number; priority: string; done: number }[];
}

class PeerClient {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly token: string | null,
  ) {}

  request(method: string, pathname: string, body?: { type: string; data: Buffer | string }): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (this.token) headers[TOKEN_HEADER] = this.token;
    if (body) headers['content-type'] = body.type;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path: pathname, headers, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { error: text.trim() };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.once('error', reject);
      });
      req.once('timeout', () => req.destroy(new CtlError(`the peer at ${this.host}:${this.port} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.once('error', (error) => {
        if (error instanceof CtlError) return reject(error);
        reject(new CtlError(`cannot reach the peer at ${this.host}:${this.port}: ${systemReason(error)}; is it running, and is --port right?`));
      });
      req.end(body?.data);
    });
  }

  async swarms(): Promise<ListedSwarm[]> {
    const { status, body } = await this.request('GET', '/status');
    if (status !== 200) throw new CtlError(`/status answered ${status}`);
    return (body as { swarms: ListedSwarm[] }).swarms;
  }
}

/** The swarm a user named: by info hash, a unique start of one, or its exact name. */
export function findSwarm(swarms: readonly ListedSwarm[], text: string): ListedSwarm {
  const lower = text.toLowerCase();
  const byHash = /^[0-9a-f]{4,40}$/.test(lower) ? swarms.filter((s) => s.infoHash.startsWith(lower)) : [];
  const matches = byHash.length > 0 ? byHash : swarms.filter((s) => s.name === text);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new CtlError(`no torrent of the peer is named or hashed "${text}" (npm run ctl -- list shows them)`);
  throw new CtlError(`"${text}" names ${matches.length} torrents (${matches.map((s) => s.infoHash.slice(0, 12)).join(', ')}); give more of the info hash`);
}

function failure(answer: Answer, what: string): CtlError {
  const reason = typeof answer.body.error === 'string' ? answer.body.error : `status ${answer.status}`;
  return new CtlError(`${what} refused (${answer.status}): ${reason}`);
}

function fileLines(swarm: ListedSwarm): string[] {
  const lines = [`${swarm.name} (${swarm.infoHash})${swarm.sequential ? ', sequential' : ''}`];
  (swarm.files ?? []).forEach((file, i) => {
    const percent = file.size === 0 ? 100 : Math.floor((100 * file.done) / file.size);
    lines.push(`${String(i + 1).padStart(3)}  ${file.priority.padEnd(6)} ${String(percent).padStart(3)}%  ${file.size} bytes  ${printable(file.path)}`);
  });
  return lines;
}


export async function runCtl({ command, cache, host, port }: CtlInvocation, output: CommandOutput): Promise<void> {
  if (command.kind === 'help') return output.stdout(usage);
  const peerPort = port ?? (await readPeerConfig(cache))?.port ?? defaultSettings.defaultPort;
  const readsOnly = command.kind === 'list' || (command.kind === 'files' && command.priorities === undefined && command.sequential === undefined);
  let token: string | null = null;
  if (!readsOnly) {
    try {
      token = await readApiToken(cache);
    } catch (error) {
      if (error instanceof ApiTokenError) throw new CtlError(`${error.message} (or give the peer's cache folder with --cache DIR)`);
      throw error;
    }
  }
  const client = new PeerClient(host, peerPort, token);
  switch (command.kind) {
    case 'list':
      for (const swarm of await client.swarms()) {
        output.stdout(`${swarm.infoHash}  ${swarm.paused ? 'paused ' : swarm.role.padEnd(7)} ${swarm.have}/${swarm.pieces}  ${printable(swarm.name)}`);
      }
      return;
    case 'add': {
      const magnet = /^magnet:/i.test(command.source);
      let data: Buffer | string = command.source;
      if (!magnet) {
        try {
          data = await readFile(command.source);
        } catch (error) {
          throw new CtlError(`cannot read ${command.source}: ${systemReason(error)}`);
        }
      }
      const isTorrent = !magnet && !/\.magnet$/i.test(command.source);
      const type = isTorrent ? 'application/x-bittorrent' : 'text/plain';
      const answer = await client.request('POST', '/torrents', { type, data });
      if (answer.status === 409 && typeof answer.body.infoHash === 'string') {
        output.stdout(`already joined: ${answer.body.infoHash}`);
        return;
      }
      if (answer.status !== 201) throw failure(answer, 'add');
      output.stdout(`added ${String(answer.body.file)}`);
      output.stdout(`info hash: ${String(answer.body.infoHash)}`);
      return;
    }
    case 'pause':
    case 'resume':
    case 'remove': {
      const swarm = findSwarm(await client.swarms(), command.torrent);
      const answer = command.kind === 'remove' ? await client.request('DELETE', `/torrents/${swarm.infoHash}`) : await client.request('POST', `/torrents/${swarm.infoHash}/${command.kind}`);
      if (answer.status !== 200) throw failure(answer, command.kind);
      const done = { pause: 'paused', resume: 'resumed', remove: `removed ${String(answer.body.removed)}; its data stays` }[command.kind];
      output.stdout(`${done}: ${printable(swarm.name)} (${swarm.infoHash})`);
      return;
    }
    case 'files': {
      let swarm = findSwarm(await client.swarms(), command.torrent);
      if (!readsOnly) {
        const change = { ...(command.priorities && { priorities: command.priorities }), ...(command.sequential !== undefined && { sequential: command.sequential }) };
        const answer = await client.request('PUT', `/torrents/${swarm.infoHash}/files`, { type: 'application/json', data: JSON.stringify(change) });
        if (answer.status !== 200) throw failure(answer, 'files');
        swarm = findSwarm(await client.swarms(), swarm.infoHash);
      }
      for (const line of fileLines(swarm)) output.stdout(line);
      return;
    }
  }
}

/** Runs the command line and returns the exit code; every failure is one line on stderr. */
export async function main(argv: string[], output: CommandOutput): Promise<number> {
  try {
    await runCtl(parseCtl(argv), output);
    return 0;
  } catch (error) {
    if (error instanceof CtlUsageError) {
      output.stderr(`${PROGRAM}: ${error.message} (see npm run ctl -- --help)`);
      return 2;
    }
    output.stderr(`${PROGRAM}: ${printable(error instanceof CtlError ? error.message : `unexpected error: ${systemReason(error)}`)}`);
    return 1;
  }
}

runIfStarted(import.meta.url, main);
