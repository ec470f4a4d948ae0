/** The command line of `npm start` (docs/architecture.md, Command line): parsed and checked, no side effects. */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSettings, type Settings } from '../../io/settings.js';
import { parseBootstrapNodes, type HostAndPort } from '../dht/bootstrap-nodes.js';
import type { LogLevel } from '../logger.js';
import { ENCRYPTION_POLICIES, type EncryptionPolicy } from '../net/mse/encryption-policy.js';
import type { SessionOptions } from '../session-options.js';

/** The options of `npm start`: what the session runs with, and what only the command line uses. */
export interface PeerOptions extends SessionOptions {
  logLevel: LogLevel;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One option of `npm start`: how it is parsed and how --help shows it. */
interface OptionSpec {
  /** The option's name without the leading `--`. */
  name: string;
  /** Placeholder of its value (N, DIR, RATE...); absent for a flag. */
  value?: string;
  short?: string;
  text: string;
  /** What applies when the option is not given, as --help shows it; absent only for --help itself. */
  default?: string;
}

/** Every option of `npm start`: the parser and --help both read this table, so they cannot drift. */
export const PEER_OPTIONS: readonly OptionSpec[] = [
  { name: 'workers', value: 'N', text: 'size of the worker pool', default: `available cores, ${os.availableParallelism()} here` },
  { name: 'port', value: 'P', text: 'TCP port for peers, tracker, status and dashboard', default: `the last one used, else ${defaultSettings.defaultPort}` },
  { name: 'host', value: 'ADDR', text: 'address to listen on and to advertise', default: 'listen on all, advertise the one towards the announce host' },
  { name: 'torrents', value: 'DIR', text: '.torrent files to join', default: './torrents' },
  { name: 'shareable', value: 'DIR', text: 'complete files to seed; finished downloads land here', default: './shareable' },
  { name: 'cache', value: 'DIR', text: 'partial downloads, resume data, configuration', default: './cache' },
  { name: 'upload-limit', value: 'RATE', text: 'bytes per second, k/M/G suffixes, 0 = unlimited', default: '0' },
  { name: 'download-limit', value: 'RATE', text: 'bytes per second, k/M/G suffixes, 0 = unlimited', default: '0' },
  { name: 'exit-when-done', text: 'exit 0 once every torrent is complete', default: 'off: keep seeding' },
  { name: 'buffer-memory', value: 'SIZE', text: 'shared memory for blocks being downloaded, k/M/G suffixes', default: `${defaultSettings.blockBufferBytes / 1024 / 1024}M` },
  { name: 'announce-interval', value: 'S', text: 're-announce interval our tracker asks of peers, in seconds', default: `${defaultSettings.trackerIntervalS}` },
  { name: 'encryption', value: ENCRYPTION_POLICIES.join('|'), text: 'encrypted peer connections (MSE/PE): tried first and answered, required, or refused', default: 'prefer' },
  { name: 'no-dht', text: 'no DHT (BEP 5): peers come from trackers, ut_pex and local discovery only', default: 'the DHT runs on the UDP port' },
  { name: 'dht-bootstrap', value: 'HOST:PORT,...', text: 'nodes the DHT joins through while it knows none', default: defaultSettings.dhtBootstrapNodes },
  { name: 'no-lsd', text: 'no local service discovery (BEP 14 multicast on the LAN)', default: 'announced on every IPv4 interface' },
  { name: 'quiet', text: 'log only warnings; no live progress lines', default: 'off' },
  { name: 'verbose', text: 'log peer-level detail too', default: 'off' },
  { name: 'version', text: 'print the version and exit' },
  { name: 'help', short: 'h', text: 'show this help and exit' },
];

export function usage(): string {
  const flag = (option: OptionSpec): string => `--${option.name}${option.value ? ` ${option.value}` : ''}`;
  const width = Math.max(...PEER_OPTIONS.map((option) => flag(option).length));
  const lines = PEER_OPTIONS.map((option) => {
    const fallback = option.default === undefined ? '' : ` (default: ${option.default})`;
    return `  ${flag(option).padEnd(width)}  ${option.text}${fallback}`;
  });
  return [
    'usage: npm start -- [options]',
    '       shoal [options]          (the installed command: folders default to the current directory)',
    '',
    ...lines,
    '',
    'On a terminal, one live line per torrent shows its progress; elsewhere each event is one log line.',
    `The dashboard is at http://127.0.0.1:PORT/ and the status document at http://127.0.0.1:PORT/status.`,
  ].join('\n');
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
  if (bytes < defaultSettings.blockLength) throw new UsageError(`${flag} must be at least ${defaultSettings.blockLength / 1024}k, got "${text}"`);
  return bytes;
}

function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} expects a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function parseEncryption(text: string, flag: string): EncryptionPolicy {
  const policy = ENCRYPTION_POLICIES.find((name) => name === text);
  if (!policy) throw new UsageError(`${flag} expects one of ${ENCRYPTION_POLICIES.join(', ')}, got "${text}"`);
  return policy;
}

function parseBootstrap(text: string, flag: string): HostAndPort[] {
  try {
    return parseBootstrapNodes(text);
  } catch (error) {
    throw new UsageError(`${flag} ${(error as Error).message}`);
  }
}

function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    PEER_OPTIONS.map((option) => [option.name, { type: option.value ? 'string' : 'boolean', ...(option.short ? { short: option.short } : {}) }]),
  );
}

/**
 * `settings` holds what the discovery flags default to (dhtEnabled, dhtBootstrapNodes,
 * lsdEnabled), which a test's SHOAL_TEST_SETTINGS may change so that no peer reaches the public
 * routers or the LAN.
 */
export function parsePeerOptions(
  argv: string[],
  cwd: string = process.cwd(),
  settings: Pick<Settings, 'dhtEnabled' | 'dhtBootstrapNodes' | 'lsdEnabled'> = defaultSettings,
): PeerOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: parseArgsOptions(),
    });
  } catch (error) {
    // parseArgs' own messages are clear but long; keep their first sentence.
    throw new UsageError((error as Error).message.split('. ')[0].replace(/\.$/, ''));
  }
  const values = parsed.values;
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const flag = (name: string): boolean => values[name] === true;
  const host = text('host');
  if (flag('quiet') && flag('verbose')) throw new UsageError('--quiet and --verbose cannot be used together');
  if (host !== undefined && !/^[\w.:-]+$/.test(host)) throw new UsageError(`--host expects an address, got "${host}"`);
  const given = <T>(name: string, parse: (value: string, flag: string) => T, fallback: T): T => {
    const value = text(name);
    return value === undefined ? fallback : parse(value, `--${name}`);
  };
  return {
    workers: given('workers', (value, name) => parseInteger(value, name, 1, 256), os.availableParallelism()),
    port: given<number | undefined>('port', (value, name) => parseInteger(value, name, 1, 65535), undefined),
    host,
    torrents: path.resolve(cwd, text('torrents') ?? 'torrents'),
    shareable: path.resolve(cwd, text('shareable') ?? 'shareable'),
    cache: path.resolve(cwd, text('cache') ?? 'cache'),
    uploadLimit: given('upload-limit', parseRate, 0),
    downloadLimit: given('download-limit', parseRate, 0),
    exitWhenDone: flag('exit-when-done'),
    bufferMemory: given('buffer-memory', parseSize, defaultSettings.blockBufferBytes),
    announceInterval: given<number | undefined>('announce-interval', (value, name) => parseInteger(value, name, 1, 86_400), undefined),
    // Naming bootstrap nodes asks for the DHT, whatever the setting says.
    // --no-dht wins over --dht-bootstrap, whose nodes are still checked: a script may add one
    // flag to arguments that hold the other.
    dht: !flag('no-dht') && (settings.dhtEnabled || text('dht-bootstrap') !== undefined),
    dhtBootstrap: given('dht-bootstrap', parseBootstrap, parseBootstrap(settings.dhtBootstrapNodes, 'the setting dhtBootstrapNodes')),
    lsd: settings.lsdEnabled && !flag('no-lsd'),
    encryption: given('encryption', parseEncryption, 'prefer'),
    logLevel: flag('quiet') ? 'quiet' : flag('verbose') ? 'verbose' : 'normal',
    help: flag('help'),
    version: flag('version'),
  };
}
