/**
 * `npm run torrent -- create | info | set-announce | add`: make, inspect and re-point .torrent
 * files, and add a torrent or a magnet link to the torrents folder.
 *
 * Parsing, running and formatting are plain functions so tests can call them; the process entry
 * at the bottom only wires them to argv, stdout, stderr and the exit code.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { MagnetError, formatMagnet, magnetFileName, parseMagnet, readMagnetFile, type MagnetLink } from '../../io/magnet-link.js';
import {
  MetainfoError,
  filePath,
  parseMetainfo,
  readMetainfoFile,
  readTorrentFile,
  type Metainfo,
} from '../../io/metainfo.js';
import { systemReason } from '../../io/system-error.js';
import {
  createTorrent,
  maxCreatePieceLength,
  minCreatePieceLength,
  minDefaultPieceLength,
  setAnnounce,
  supportedTrackerPrefixes,
  targetMaxPieceCount,
} from '../../io/torrent-maker.js';
import { KiB, defaultSettings } from '../../io/settings.js';
import { runIfStarted, type CommandOutput } from './command-entry.js';

const PROGRAM = 'shoal torrent';

export const usage = `usage:
  npm run torrent -- create <file-or-folder> --announce URL [--announce URL ...] [--piece-length BYTES] [--out FILE]
  npm run torrent -- info <file.torrent | file.magnet | magnet-uri>
  npm run torrent -- set-announce <file.torrent> URL [URL ...]
  npm run torrent -- set-announce --keep-list <file.torrent> URL
  npm run torrent -- add <magnet-uri | file.magnet | file.torrent> [--torrents DIR]

create      makes a .torrent of a file or a folder; --out defaults to torrents/<name>.torrent
            and an existing file is never overwritten. Tracker URLs must start with
            ${supportedTrackerPrefixes()}, the kinds shoal announces to.
            Several --announce make an announce-list (BEP 12) of one tier each, tried in
            that order, as mktorrent does; the first is also the torrent's announce.
            --piece-length: a power of two from ${formatSize(minCreatePieceLength)} to ${formatSize(maxCreatePieceLength)}; BYTES may end in k or M
            (KiB, MiB). By default: the smallest power of two from ${formatSize(minDefaultPieceLength)} up giving at most
            ${targetMaxPieceCount} pieces, and at most ${formatSize(maxCreatePieceLength)} (so ${formatSize(minDefaultPieceLength)} up to ${formatSize(targetMaxPieceCount * minDefaultPieceLength)}).
info        prints the name, info hash, trackers (announce, and the announce-list tier by tier),
            pieces and files of a .torrent; for a magnet link, what it holds: info hash, name,
            trackers (one tier each) and peers
set-announce  replaces the trackers; the info hash is unchanged; URLs as for create. With one
            URL it becomes announce and any announce-list is dropped (BEP 12 clients would
            use an old list instead of the new URL); with several, they become the
            announce-list, one tier each, the first also announce. --keep-list replaces
            announce only and keeps the announce-list as it is.
add         puts a torrent in the torrents folder (--torrents, default ./torrents, which must
            exist), whether or not a peer is running: a magnet link as NAME.magnet holding
            the link (NAME from its dn, else its info hash), a .torrent as a copy, checked
            first. A running peer joins it at once, a stopped one at its next start. An
            existing file is never replaced.
.torrent files larger than ${defaultSettings.maxTorrentFileLength} bytes and .magnet files larger than ${defaultSettings.maxMagnetFileBytes} are refused.`;

/** Bad arguments: the user has to change the command line (exit code 2). */
export class UsageError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UsageError';
  }
}

/** A command that was well formed but could not be carried out (exit code 1). */
export class TorrentCommandError extends Error {
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
    this.name = 'TorrentCommandError';
  }
}

export type TorrentCommand =
  | { kind: 'help' }
  | { kind: 'create'; source: string; announce: string; announceList?: string[][]; pieceLength?: number; out?: string }
  | { kind: 'info'; torrent: string }
  | { kind: 'add'; source: string; torrents?: string }
  | { kind: 'set-announce'; torrent: string; url: string; announceList?: string[][] | 'keep' };

/** Several URLs as an announce-list of one tier each (BEP 12), as mktorrent makes of several -a; none for one URL. */
function tiersOf(urls: string[]): string[][] | undefined {
  return urls.length > 1 ? urls.map((url) => [url]) : undefined;
}

/** Bytes with an optional k or M suffix (KiB, MiB), as `--piece-length` takes them. */
export function parseByteCount(text: string, option: string): number {
  const match = /^(\d+)([kKmM]?)$/.exec(text);
  if (!match) throw new UsageError(`${option} must be a number of bytes, optionally ending in k or M, got "${text}"`);
  const unit = match[2].toLowerCase() === 'm' ? KiB * KiB : match[2] === '' ? 1 : KiB;
  const value = Number(match[1]) * unit;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${option} is too large: "${text}"`);
  return value;
}

const help = { type: 'boolean', short: 'h' } as const;

/** Runs a strict parseArgs, turning its errors into one-line usage errors. */
function strictly<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    // Matched by code, not by class: parseArgs errors are TypeErrors of Node's own realm.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      // Node's text goes on to explain `--` for positionals; the first sentence is the point.
      const first = (err as Error).message.split(/\.(\s|$)/)[0];
      throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1));
    }
    throw err;
  }
}

function expectPositionals(subcommand: string, positionals: string[], names: string[]): void {
  if (positionals.length < names.length) {
    throw new UsageError(`${subcommand} needs ${names.map((n) => `<${n}>`).join(' ')}`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(`${subcommand} takes ${names.length} argument(s), got extra "${positionals[names.length]}"`);
  }
}

export function parseTorrentCommand(argv: string[]): TorrentCommand {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined) throw new UsageError('missing subcommand: create, info, set-announce or add');
  if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') return { kind: 'help' };
  switch (subcommand) {
    case 'create': {
      const { values, positionals } = strictly(() =>
        parseArgs({
          args: rest,
          options: { announce: { type: 'string', multiple: true }, 'piece-length': { type: 'string' }, out: { type: 'string' }, help },
          strict: true,
          allowPositionals: true,
        }),
      );
      if (values.help) return { kind: 'help' };
      expectPositionals('create', positionals, ['file-or-folder']);
      const announces = values.announce ?? [];
      if (announces.length === 0) throw new UsageError('create needs --announce URL');
      const pieceLength = values['piece-length'];
      const announceList = tiersOf(announces);
      return {
        kind: 'create',
        source: positionals[0],
        announce: announces[0],
        ...(announceList !== undefined && { announceList }),
        ...(pieceLength !== undefined && { pieceLength: parseByteCount(pieceLength, '--piece-length') }),
        ...(values.out !== undefined && { out: values.out }),
      };
    }
    case 'info': {
      const { values, positionals } = strictly(() =>
        parseArgs({ args: rest, options: { help }, strict: true, allowPositionals: true }),
      );
      if (values.help) return { kind: 'help' };
      expectPositionals('info', positionals, ['file.torrent | file.magnet | magnet-uri']);
      return { kind: 'info', torrent: positionals[0] };
    }
    case 'add': {
      const { values, positionals } = strictly(() =>
        parseArgs({ args: rest, options: { help, torrents: { type: 'string' } }, strict: true, allowPositionals: true }),
      );
      if (values.help) return { kind: 'help' };
      expectPositionals('add', positionals, ['magnet-uri | file.magnet | file.torrent']);
      return { kind: 'add', source: positionals[0], ...(values.torrents !== undefined && { torrents: values.torrents }) };
    }
    case 'set-announce': {
      const { values, positionals } = strictly(() =>
        parseArgs({ args: rest, options: { help, 'keep-list': { type: 'boolean' } }, strict: true, allowPositionals: true }),
      );
      if (values.help) return { kind: 'help' };
      if (positionals.length < 2 || values['keep-list']) expectPositionals('set-announce', positionals, ['file.torrent', 'URL']);
      const [torrent, ...urls] = positionals;
      const announceList = values['keep-list'] ? 'keep' : tiersOf(urls);
      return { kind: 'set-announce', torrent, url: urls[0], ...(announceList !== undefined && { announceList }) };
    }
    default:
      throw new UsageError(`unknown subcommand "${subcommand}"; expected create, info, set-announce or add`);
  }
}

/** A size in bytes for people: "64 KiB", "1.2 MiB". */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= KiB && unit < units.length - 1) {
    value /= KiB;
    unit++;
  }
  const shown = unit === 0 ? String(value) : String(Number(value.toFixed(2)));
  return `${shown} ${units[unit]}`;
}

/** Names from a .torrent may hold control characters; escaped, each entry stays on one line. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function bytesAndSize(bytes: number): string {
  return `${bytes} (${formatSize(bytes)})`;
}

/** The lines `info` prints. */
export function formatInfo(meta: Metainfo): string[] {
  const lines = [`name: ${printable(meta.name)}`, `info hash: ${meta.infoHashHex}`];
  lines.push(`announce: ${meta.announce === undefined ? '(none)' : printable(meta.announce)}`);
  meta.announceList.forEach((tier, i) => lines.push(`announce-list tier ${i + 1}: ${tier.map(printable).join(' ')}`));
  lines.push(
    `piece length: ${bytesAndSize(meta.pieceLength)}`,
    `pieces: ${meta.pieceCount}`,
    `total size: ${bytesAndSize(meta.totalLength)}`,
  );
  if (meta.private) lines.push('private: yes');
  if (meta.comment !== undefined) lines.push(`comment: ${printable(meta.comment)}`);
  if (meta.createdBy !== undefined) lines.push(`created by: ${printable(meta.createdBy)}`);
  if (meta.creationDate !== undefined) {
    const date = new Date(meta.creationDate * 1000);
    lines.push(`creation date: ${Number.isNaN(date.getTime()) ? meta.creationDate : date.toISOString()}`);
  }
  const pads = meta.files.filter((file) => file.pad).length;
  lines.push(`files: ${meta.files.length - pads}${pads > 0 ? ` (and ${pads} pad files, BEP 47: zeros that align files to pieces, never stored)` : ''}`);
  for (const file of meta.files) {
    if (!file.pad) lines.push(`  ${printable(filePath(meta, file).join('/'))}  ${bytesAndSize(file.length)}`);
  }
  return lines;
}

/** The lines `info` prints for a magnet link: what it holds, since the rest comes from peers. */
export function formatMagnetInfo(link: MagnetLink): string[] {
  const lines = [
    `name: ${link.name === undefined ? '(none in the link)' : printable(link.name)}`,
    `info hash: ${link.infoHashHex}`,
  ];
  if (link.announceList.length === 0) lines.push('trackers: none (peers come from the DHT, local discovery and x.pe)');
  link.announceList.forEach((tier, i) => lines.push(`tracker tier ${i + 1}: ${tier.map(printable).join(' ')}`));
  lines.push(`peers: ${link.peers.length === 0 ? 'none' : link.peers.map(({ ip, port }) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)).join(' ')}`);
  for (const note of link.ignored ?? []) lines.push(`ignored: ${printable(note)}`);
  lines.push('size and files: not in a magnet link; a peer fetches the info dictionary from other peers (BEP 9)');
  return lines;
}

/** A magnet URI given on the command line, or a .magnet file; undefined for anything else (a .torrent). */
async function magnetOf(source: string): Promise<MagnetLink | undefined> {
  if (/^magnet:/i.test(source)) return parseMagnet(source);
  if (/\.magnet$/i.test(source)) return readMagnetFile(source);
  return undefined;
}

/** Writes a .torrent or .magnet atomically (see atomic-file.ts), as a sentence the user can act on when it fails. */
async function writeTorrentFile(target: string, data: string | Buffer, overwrite: boolean, hint = 'remove it or choose another --out'): Promise<void> {
  try {
    await writeFileAtomic(target, data, { overwrite });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new TorrentCommandError(`${target} already exists; ${hint}`, { cause: err });
    }
    throw new TorrentCommandError(`cannot write ${target}: ${systemReason(err)}`, { cause: err });
  }
}


/** Carries out a command; relative paths are taken from the current directory. */
export async function runTorrentCommand(command: TorrentCommand, output: CommandOutput): Promise<void> {
  switch (command.kind) {
    case 'help':
      output.stdout(usage);
      return;
    case 'create': {
      const data = await createTorrent(command.source, {
        announce: command.announce,
        ...(command.announceList !== undefined && { announceList: command.announceList }),
        ...(command.pieceLength !== undefined && { pieceLength: command.pieceLength }),
      });
      const meta = parseMetainfo(data);
      const out = command.out ?? path.join('torrents', `${meta.name}.torrent`);
      await writeTorrentFile(out, data, false);
      output.stdout(`created ${out}`);
      output.stdout(`info hash: ${meta.infoHashHex}`);
      output.stdout(`pieces: ${meta.pieceCount} of ${bytesAndSize(meta.pieceLength)}, total size ${bytesAndSize(meta.totalLength)}`);
      meta.announceList.forEach((tier, i) => output.stdout(`announce-list tier ${i + 1}: ${tier.map(printable).join(' ')}`));
      return;
    }
    case 'info': {
      const magnet = await magnetOf(command.torrent);
      const lines = magnet === undefined ? formatInfo(await readMetainfoFile(command.torrent)) : formatMagnetInfo(magnet);
      for (const line of lines) output.stdout(line);
      return;
    }
    case 'add': {
      const folder = path.resolve(command.torrents ?? 'torrents');
      // Written into a folder no peer reads, the torrent would be joined by none: a typo must not pass.
      const folderStat = await stat(folder).catch(() => undefined);
      if (!folderStat?.isDirectory()) {
        throw new TorrentCommandError(`the torrents folder ${folder} does not exist; create it or give the peer's folder with --torrents DIR`);
      }
      const magnet = await magnetOf(command.source);
      let target: string;
      let infoHashHex: string;
      if (magnet !== undefined) {
        target = path.join(folder, magnetFileName(magnet));
        infoHashHex = magnet.infoHashHex;
        await writeTorrentFile(target, `${formatMagnet(magnet)}\n`, false, 'remove it first to replace it');
      } else {
        const data = await readTorrentFile(command.source);
        try {
          infoHashHex = parseMetainfo(data).infoHashHex;
        } catch (err) {
          if (err instanceof MetainfoError) throw new MetainfoError(err.reason, command.source, { cause: err });
          throw err;
        }
        const name = path.basename(command.source);
        // The peer reads only .torrent and .magnet files from its folder.
        target = path.join(folder, /\.torrent$/i.test(name) ? name : `${name}.torrent`);
        await writeTorrentFile(target, data, false, 'remove it first to replace it, or rename the file being added');
      }
      output.stdout(`added ${target}`);
      output.stdout(`info hash: ${infoHashHex}`);
      return;
    }
    case 'set-announce': {
      const original = await readTorrentFile(command.torrent);
      let rewritten: Buffer;
      try {
        rewritten = setAnnounce(original, command.url, { announceList: command.announceList ?? 'drop' });
      } catch (err) {
        if (err instanceof MetainfoError) throw new MetainfoError(err.reason, command.torrent, { cause: err });
        throw err;
      }
      await writeTorrentFile(command.torrent, rewritten, true);
      output.stdout(`announce: ${command.url}`);
      const tiers = parseMetainfo(rewritten).announceList;
      if (tiers.length === 0) output.stdout('announce-list: none');
      tiers.forEach((tier, i) => output.stdout(`announce-list tier ${i + 1}: ${tier.map(printable).join(' ')}${command.announceList === 'keep' ? ' (kept)' : ''}`));
      output.stdout(`info hash: ${parseMetainfo(rewritten).infoHashHex} (unchanged)`);
      return;
    }
  }
}

/** Runs the command line and returns the exit code; every failure becomes one line on stderr. */
export async function main(argv: string[], output: CommandOutput): Promise<number> {
  try {
    await runTorrentCommand(parseTorrentCommand(argv), output);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      output.stderr(`${PROGRAM}: ${err.reason} (see npm run torrent -- --help)`);
      return 2;
    }
    if (err instanceof MetainfoError || err instanceof MagnetError || err instanceof TorrentCommandError) {
      output.stderr(`${PROGRAM}: ${printable(err.message)}`);
    } else {
      // Not an expected failure, so likely a bug; still one line, as the contract asks.
      output.stderr(`${PROGRAM}: unexpected error: ${printable(systemReason(err))}`);
    }
    return 1;
  }
}

runIfStarted(import.meta.url, main);
