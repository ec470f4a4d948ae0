/** The command line of `npm start` (DESIGN.md, Command line): parsed and checked, no side effects. */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { settings } from '../settings.js';
import type { LogLevel } from '../logger.js';

export interface PeerOptions {
  workers: number;
  /** Undefined when not given: the port saved in cache/ is used, else the default. */
  port: number | undefined;
  host: string | undefined;
  torrents: string;
  shareable: string;
  cache: string;
  uploadLimit: number;
  downloadLimit: number;
  exitWhenDone: boolean;
  /** Bytes of shared memory for blocks being downloaded. */
  bufferMemory: number;
  /** Interval our tracker gives to the peers announcing to it, in seconds. */
  announceInterval: number | undefined;
  logLevel: LogLevel;
  help: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTION_HELP: [string, string][] = [
  ['--workers N', 'size of the worker pool (default: available cores)'],
  ['--port P', `TCP port for peers, tracker and status (default: the last one used, else ${settings.defaultPort})`],
  ['--host ADDR', 'address to listen on and to advertise (default: listen on all, advertise the one towards the announce host)'],
  ['--torrents DIR', '.torrent files to join (default ./torrents)'],
  ['--shareable DIR', 'complete files to seed; finished downloads land here (default ./shareable)'],
  ['--cache DIR', 'partial downloads, resume data, configuration (default ./cache)'],
  ['--upload-limit RATE', 'bytes per second, k/M/G suffixes, 0 = unlimited (default 0)'],
  ['--download-limit RATE', 'bytes per second, k/M/G suffixes, 0 = unlimited (default 0)'],
  ['--exit-when-done', 'exit 0 once every torrent is complete'],
  ['--buffer-memory SIZE', `shared memory for blocks being downloaded, k/M/G suffixes (default ${settings.blockBufferBytes / 1024 / 1024}M)`],
  ['--announce-interval S', `re-announce interval our tracker asks of peers, in seconds (default ${settings.trackerIntervalS})`],
  ['--quiet', 'log only warnings'],
  ['--verbose', 'log peer-level detail'],
  ['--help', 'show this help'],
];

export function usage(): string {
  const width = Math.max(...OPTION_HELP.map(([flag]) => flag.length));
  return ['usage: npm start -- [options]', '', ...OPTION_HELP.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`)].join('\n');
}

const RATE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses a RATE: bytes per second with an optional k/M/G (binary) suffix. */
export function parseRate(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmMgG]?)(?:i?B)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} expects a number of bytes like 500k or 2M, got "${text}"`);
  return Math.floor(Number(match[1]) * RATE_UNITS[match[2].toLowerCase()]);
}

/** Parses a SIZE in bytes with an optional k/M/G (binary) suffix; at least one 16 KiB block. */
export function parseSize(text: string, flag: string): number {
  const bytes = parseRate(text, flag);
  if (bytes < settings.blockLength) throw new UsageError(`${flag} must be at least ${settings.blockLength / 1024}k, got "${text}"`);
  return bytes;
}

function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} expects a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parsePeerOptions(argv: string[], cwd: string = process.cwd()): PeerOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        workers: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        torrents: { type: 'string' },
        shareable: { type: 'string' },
        cache: { type: 'string' },
        'upload-limit': { type: 'string' },
        'download-limit': { type: 'string' },
        'exit-when-done': { type: 'boolean' },
        'buffer-memory': { type: 'string' },
        'announce-interval': { type: 'string' },
        quiet: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs' own messages are clear but long; keep their first sentence.
    throw new UsageError((error as Error).message.split('. ')[0].replace(/\.$/, ''));
  }
  const v = parsed.values;
  if (v.quiet && v.verbose) throw new UsageError('--quiet and --verbose cannot be used together');
  if (v.host !== undefined && !/^[\w.:-]+$/.test(v.host)) throw new UsageError(`--host expects an address, got "${v.host}"`);
  return {
    workers: v.workers === undefined ? os.availableParallelism() : parseInteger(v.workers, '--workers', 1, 256),
    port: v.port === undefined ? undefined : parseInteger(v.port, '--port', 1, 65535),
    host: v.host,
    torrents: path.resolve(cwd, v.torrents ?? 'torrents'),
    shareable: path.resolve(cwd, v.shareable ?? 'shareable'),
    cache: path.resolve(cwd, v.cache ?? 'cache'),
    uploadLimit: v['upload-limit'] === undefined ? 0 : parseRate(v['upload-limit'], '--upload-limit'),
    downloadLimit: v['download-limit'] === undefined ? 0 : parseRate(v['download-limit'], '--download-limit'),
    exitWhenDone: v['exit-when-done'] ?? false,
    bufferMemory: v['buffer-memory'] === undefined ? settings.blockBufferBytes : parseSize(v['buffer-memory'], '--buffer-memory'),
    announceInterval: v['announce-interval'] === undefined ? undefined : parseInteger(v['announce-interval'], '--announce-interval', 1, 86_400),
    logLevel: v.quiet ? 'quiet' : v.verbose ? 'verbose' : 'normal',
    help: v.help ?? false,
  };
}
