/**
 * What the control API does to the torrents of a session (docs/architecture.md, Control): add one
 * (written into torrents/ atomically, then joined), remove one (its file leaves torrents/, its data
 * stays), pause and resume. A paused torrent's swarm is stopped (no connection, no payload either
 * way, event=stopped to its trackers) but stays listed, with what it had; resuming joins it again,
 * from its resume data. What was decided is kept in cache/<info hash>/control.json, so that it
 * survives a restart.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { DEFAULT_CONTROL_STATE, readControlState, removeControlState, writeControlState, type ControlState } from '../../io/control-state.js';
import { formatMagnet, MagnetError, parseMagnet, safeFileName, type MagnetLink } from '../../io/magnet-link.js';
import { parseFilesChange, selectedPriorities } from '../swarm/file-priorities.js';
import type { FileSelection } from '../swarm/file-selection.js';
import type { PiecePicker } from '../swarm/piece-picker.js';
import { contentTypeOf, decodeFilePath, FILE_SECURITY_HEADERS, parseRange, streamFileRange, type ByteRange } from './file-stream.js';
import { MetainfoError, parseMetainfo, type Metainfo } from '../../io/metainfo.js';
import type { LayoutFile } from '../../io/file-layout.js';
import type { ReadCache } from '../../io/read-cache.js';
import type { Settings } from '../../io/settings.js';
import type { TorrentData } from '../../io/torrent-data.js';
import { systemReason } from '../../io/system-error.js';
import type { Logger } from '../logger.js';
import type { SwarmStatus } from '../swarm/swarm-status.js';
import { piecesDoNotFit, type TorrentFolder } from '../torrent-folder.js';
import { ensureApiToken } from './api-token.js';
import type { OwnIdentity } from './request-guard.js';

/** A swarm as the control sees it: a torrent's, or a magnet link's while its metadata is fetched. */
export interface ControlledSwarm {
  status(): SwarmStatus;
  stop(): Promise<void>;
  /** A torrent's files, data and pieces; absent while a magnet link's metadata is fetched. */
  readonly selection?: FileSelection;
  readonly data?: TorrentData;
  readonly picker?: PiecePicker;
}

export interface ControlHost {
  settings: Settings;
  torrentsFolder: string;
  cacheFolder: string;
  folder: Pick<TorrentFolder, 'add' | 'remove' | 'isListed'>;
  /** The swarm of a torrent: running, paused, or a magnet link's. */
  swarmOf(infoHashHex: string): ControlledSwarm | undefined;
  pieceFits(pieceLength: number): boolean;
  /** Joins a paused torrent's swarm again: a new swarm takes the stopped one's place. */
  rejoin(infoHashHex: string): Promise<void>;
  /** The read cache of uploads, which streams share (null before the session started). */
  readCache(): ReadCache | null;
  log: Logger;
}

/** An answer of the control API: its status code and JSON body. */
export interface ControlReply {
  status: number;
  body: Record<string, unknown>;
}

/** A request the control API refuses, with the status and a reason a person can act on. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** Headers the answer needs (Content-Range of a 416, Retry-After of a 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** What POST /torrents carries: a .torrent file, or a magnet URI as text. */
export type AddedTorrent = { kind: 'torrent'; data: Buffer } | { kind: 'magnet'; text: string };

export class TorrentControl {
  /** The state of every torrent joined (or being joined), read when it joins. */
  private readonly states = new Map<string, ControlState>();
  /** Pauses and resumes under way, so that two at once on one torrent cannot interleave. */
  private readonly busy = new Set<string>();
  private own: OwnIdentity | null = null;
  /** Files being served by GET /files/ now (settings.maxFileStreams). */
  private streams = 0;

  constructor(private readonly host: ControlHost) {}

  get settings(): Settings {
    return this.host.settings;
  }

  /**
   * Reads cache/api-token, or makes it at the first start (api-token.ts), once the port is known;
   * every change is refused until then. Returns the token, for the start-up line.
   */
  async open(port: number, isOwnHost: (hostname: string) => boolean): Promise<string> {
    const { token } = await ensureApiToken(this.host.cacheFolder);
    this.own = { token, port, isOwnHost };
    return token;
  }

  /** The token and port that changing requests must match; null before open(). */
  identity(): OwnIdentity | null {
    return this.own;
  }

  /** The saved state of a torrent about to join (the defaults when none). */
  async stateFor(infoHashHex: string): Promise<ControlState> {
    const state = await readControlState(this.host.cacheFolder, infoHashHex);
    this.states.set(infoHashHex, state);
    return state;
  }

  isPaused(infoHashHex: string): boolean {
    return this.states.get(infoHashHex)?.paused ?? false;
  }

  /**
   * Adds to a swarm's status (a new object, made for this answer) what the control knows: whether
   * it is paused, and a magnet's empty file list. In place: a copy of each of 10,000 statuses per
   * /status would be that much more garbage.
   */
  decorate(status: SwarmStatus): SwarmStatus {
    const state = this.states.get(status.infoHash);
    status.paused = state?.paused ?? false;
    status.files ??= [];
    status.sequential ??= state?.sequential ?? false;
    return status;
  }

  /**
   * A magnet link's metadata arrived: the files its `so` (BEP 53) names are wanted, the others
   * skipped, unless a choice was saved already.
   */
  async selectFromLink(link: MagnetLink, meta: Metainfo): Promise<void> {
    if (link.select === undefined || (await this.stateFor(meta.infoHashHex)).priorities) return;
    const priorities = selectedPriorities(link.select, meta.files);
    if (!priorities) return this.host.log.warn(`the magnet link of ${meta.infoHashHex} selects files (so) that the torrent does not have: every file is downloaded`);
    await this.save(meta.infoHashHex, { priorities });
  }

  /** PUT /torrents/<info hash>/files: file priorities and sequential order, saved and applied at once. */
  async setFiles(infoHashHex: string, body: Buffer): Promise<ControlReply> {
    const swarm = this.host.swarmOf(infoHashHex);
    if (!swarm || !this.states.has(infoHashHex)) {
      if (this.host.folder.isListed(infoHashHex)) throw new ControlError(409, `torrent ${infoHashHex} is still being joined (its data is checked); try again in a moment`);
      throw this.unknown(infoHashHex);
    }
    const selection = swarm.selection;
    if (!selection) throw new ControlError(409, `the files of torrent ${infoHashHex} are not known yet: its magnet link's metadata is still being fetched`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ControlError(400, 'the body is not JSON: send { "priorities": [...], "sequential": true }');
    }
    const change = parseFilesChange(parsed, selection.fileCount);
    if ('error' in change) throw new ControlError(400, change.error);
    await this.save(infoHashHex, change);
    selection.set(change);
    return { status: 200, body: { infoHash: infoHashHex, files: selection.statuses(), sequential: selection.sequential } };
  }

  /** The torrent left (its file is gone from torrents/): its state is forgotten here, kept on disk. */
  forget(infoHashHex: string): void {
    this.states.delete(infoHashHex);
  }

  async add(added: AddedTorrent): Promise<ControlReply> {
    const { infoHashHex, fileName, data } = this.check(added);
    if (this.host.swarmOf(infoHashHex) || this.host.folder.isListed(infoHashHex)) {
      throw new ControlError(409, `torrent ${infoHashHex} is already joined`, { infoHash: infoHashHex });
    }
    const extension = path.extname(fileName);
    // A file of another torrent may have the same name: the info hash names this one then.
    let written: string | undefined;
    for (const name of [fileName, `${infoHashHex}${extension}`]) {
      if (await this.writeNew(name, data)) {
        written = name;
        break;
      }
    }
    if (written === undefined) throw new ControlError(409, `${fileName} and ${infoHashHex}${extension} are both in ${this.host.torrentsFolder} already`, { infoHash: infoHashHex });
    const joined = await this.host.folder.add(written);
    if ('reason' in joined) throw new ControlError(409, `${written} was written into ${this.host.torrentsFolder} but not joined: ${joined.reason}`, { infoHash: infoHashHex });
    return { status: 201, body: { infoHash: infoHashHex, file: written } };
  }

  /** The torrent's info hash, file name and file content; 400 with the reason when it cannot be joined. */
  private check(added: AddedTorrent): { infoHashHex: string; fileName: string; data: Buffer | string } {
    if (added.kind === 'magnet') {
      let link: MagnetLink;
      try {
        link = parseMagnet(added.text);
      } catch (error) {
        if (error instanceof MagnetError) throw new ControlError(400, `not a usable magnet link: ${error.reason}`);
        throw error;
      }
      return { infoHashHex: link.infoHashHex, fileName: safeFileName(link.name, link.infoHashHex, '.magnet'), data: `${formatMagnet(link)}\n` };
    }
    let meta: Metainfo;
    try {
      meta = parseMetainfo(added.data);
    } catch (error) {
      if (error instanceof MetainfoError) throw new ControlError(400, `not a usable .torrent: ${error.reason}`);
      throw error;
    }
    if (!this.host.pieceFits(meta.pieceLength)) throw new ControlError(400, `cannot join it: ${piecesDoNotFit(meta.pieceLength)}`);
    return { infoHashHex: meta.infoHashHex, fileName: safeFileName(meta.name, meta.infoHashHex, '.torrent'), data: added.data };
  }

  /** Writes a file into torrents/ unless one has that name; returns whether it did. */
  private async writeNew(name: string, data: Buffer | string): Promise<boolean> {
    try {
      await writeFileAtomic(path.join(this.host.torrentsFolder, name), data, { overwrite: false });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new ControlError(500, `cannot write ${name} into ${this.host.torrentsFolder}: ${systemReason(error)}`);
    }
  }

  /** Removes the torrent's file from torrents/ and leaves its swarm; its data and resume data stay. */
  async remove(infoHashHex: string): Promise<ControlReply> {
    let file: string | null;
    try {
      file = await this.host.folder.remove(infoHashHex);
    } catch (error) {
      throw new ControlError(500, `cannot remove the file of torrent ${infoHashHex} from ${this.host.torrentsFolder}: ${systemReason(error)}`);
    }
    if (file === null) throw this.unknown(infoHashHex);
    // Added again later, it starts afresh rather than paused or with files skipped.
    await removeControlState(this.host.cacheFolder, infoHashHex).catch(() => undefined);
    this.states.delete(infoHashHex);
    return { status: 200, body: { infoHash: infoHashHex, removed: file } };
  }

  /** Stops the swarm's traffic and keeps it listed, paused; saved, so that a restart keeps it paused. */
  pause(infoHashHex: string): Promise<ControlReply> {
    return this.exclusive(infoHashHex, async (swarm) => {
      if (!this.isPaused(infoHashHex)) {
        await this.save(infoHashHex, { paused: true });
        await swarm.stop();
        this.host.log.info(`torrent ${infoHashHex} paused (control API)`);
      }
      return { status: 200, body: { infoHash: infoHashHex, paused: true } };
    });
  }

  /** Joins a paused torrent's swarm again. */
  resume(infoHashHex: string): Promise<ControlReply> {
    return this.exclusive(infoHashHex, async () => {
      if (this.isPaused(infoHashHex)) {
        await this.save(infoHashHex, { paused: false });
        await this.host.rejoin(infoHashHex);
        this.host.log.info(`torrent ${infoHashHex} resumed (control API)`);
      }
      return { status: 200, body: { infoHash: infoHashHex, paused: false } };
    });
  }

  /** Runs a change of one torrent's swarm, one at a time per torrent. */
  private async exclusive(infoHashHex: string, change: (swarm: ControlledSwarm) => Promise<ControlReply>): Promise<ControlReply> {
    const swarm = this.host.swarmOf(infoHashHex);
    if (!swarm || !this.states.has(infoHashHex)) {
      if (this.host.folder.isListed(infoHashHex)) throw new ControlError(409, `torrent ${infoHashHex} is still being joined (its data is checked); try again in a moment`);
      throw this.unknown(infoHashHex);
    }
    if (this.busy.has(infoHashHex)) throw new ControlError(409, `torrent ${infoHashHex} is being paused or resumed already; try again in a moment`);
    this.busy.add(infoHashHex);
    try {
      return await change(swarm);
    } finally {
      this.busy.delete(infoHashHex);
    }
  }

  /** Saves a change of the torrent's state; nothing changes when it cannot be saved. */
  private async save(infoHashHex: string, change: Partial<Omit<ControlState, 'version'>>): Promise<void> {
    const state: ControlState = { ...(this.states.get(infoHashHex) ?? DEFAULT_CONTROL_STATE), ...change };
    try {
      await writeControlState(this.host.cacheFolder, infoHashHex, state);
    } catch (error) {
      throw new ControlError(500, `cannot save the torrent's state in ${this.host.cacheFolder}: ${systemReason(error)}`);
    }
    this.states.set(infoHashHex, state);
  }

  /**
   * GET /files/<info hash>/<path>: the file's bytes, or a Range of them (file-stream.ts), sent as
   * their pieces are verified.
   */
  async serveFile(req: IncomingMessage, res: ServerResponse, infoHashHex: string, encodedPath: string): Promise<void> {
    const swarm = this.host.swarmOf(infoHashHex);
    const readCache = this.host.readCache();
    const { selection, data, picker } = swarm ?? {};
    if (!swarm || !selection || !data || !picker || !readCache) throw new ControlError(404, `no torrent ${infoHashHex} with known files is joined here`);
    const relativePath = decodeFilePath(encodedPath);
    const file = data.layout.dataFiles.find((f) => f.relativePath === relativePath);
    if (!file) throw new ControlError(404, `torrent ${infoHashHex} has no file ${JSON.stringify(relativePath ?? encodedPath)} (its files are listed in /status)`);
    const asked = parseRange(header(req, 'range'), file.length);
    if (asked === 'unsatisfiable') throw new ControlError(416, `the range ${header(req, 'range')} is not within the file's ${file.length} bytes`, {}, { 'content-range': `bytes */${file.length}` });
    const range = asked ?? { start: 0, end: file.length - 1 };
    if (this.isPaused(infoHashHex) && !this.verified(file, range, data, picker)) {
      throw new ControlError(409, `torrent ${infoHashHex} is paused and that part of the file is not downloaded yet: resume it first`);
    }
    if (this.streams >= this.host.settings.maxFileStreams) {
      throw new ControlError(503, `${this.streams} files are being served already (maxFileStreams); try again later`, {}, { 'retry-after': '5' });
    }
    const partial = asked !== null;
    res.writeHead(partial ? 206 : 200, {
      ...FILE_SECURITY_HEADERS,
      'content-type': contentTypeOf(file.relativePath),
      'content-length': String(file.length === 0 ? 0 : range.end - range.start + 1),
      'accept-ranges': 'bytes',
      'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(path.basename(file.relativePath))}`,
      ...(partial && { 'content-range': `bytes ${range.start}-${range.end}/${file.length}` }),
    });
    if (req.method === 'HEAD' || file.length === 0) return void res.end();
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    this.streams++;
    try {
      const source = { infoHashHex, data, picker, selection, readCache };
      await streamFileRange(res, source, file, range, this.host.settings.fileStreamAheadPieces, gone.signal);
      if (!gone.signal.aborted) res.end();
    } catch {
      // The headers are out: a stream cut short (the torrent paused or removed, a piece unreadable) can only be closed.
      res.destroy();
    } finally {
      this.streams--;
    }
  }

  /** GET /torrents/<info hash>/pieces: the pieces had, as a BEP 3 bitfield in base64 (the dashboard's piece map). */
  pieces(infoHashHex: string): ControlReply {
    const { data, picker } = this.host.swarmOf(infoHashHex) ?? {};
    if (!data || !picker) throw new ControlError(404, `no torrent ${infoHashHex} with known pieces is joined here`);
    const have = data.geometry.bitfield((index) => picker.hasPiece(index)).toString('base64');
    return { status: 200, body: { infoHash: infoHashHex, pieces: data.geometry.pieceCount, have } };
  }

  private verified(file: LayoutFile, range: ByteRange, data: TorrentData, picker: PiecePicker): boolean {
    const { pieceLength } = data.geometry;
    for (let index = Math.floor((file.offset + range.start) / pieceLength); index <= Math.floor((file.offset + range.end) / pieceLength); index++) {
      if (!picker.hasPiece(index)) return false;
    }
    return true;
  }

  private unknown(infoHashHex: string): ControlError {
    return new ControlError(404, `no torrent ${infoHashHex} is joined here`);
  }
}

/** One header's value, the first when it came several times. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
