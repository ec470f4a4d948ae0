/**
 * The torrents/ folder: the .torrent and .magnet files read at start-up, then watched while
 * running: a file added is joined, one removed is left. A magnet whose metadata was fetched
 * before is joined with it (the session keeps it in cache/, metadata-store.ts). A bad one (corrupt, unsafe file names, pieces
 * that do not fit, a second copy of a torrent already joined, a swarm that cannot be joined) is
 * reported once, with its file name and reason, and skipped, at start-up as while running
 * (docs/architecture.md, Command line); the others go on. The skipped files are listed in
 * /status until they are removed, and each is tried again once it changes. fs.watch gives the
 * changes at once; a periodic rescan catches what it misses (some file systems report nothing).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MagnetError, readMagnetFile, type MagnetLink } from '../io/magnet-link.js';
import { MetainfoError, readMetainfoFile, type Metainfo } from '../io/metainfo.js';
import { JoinedFiles } from './joined-files.js';
import type { Logger } from './logger.js';

/** What the folder needs from the session. */
export interface TorrentFolderHost {
  /** Joins a torrent's swarm; `listed()` tells, once its data is checked, whether its file is still in the folder. */
  join(torrent: FoundTorrent, listed: () => boolean): Promise<void>;
  /** The metadata fetched for a magnet link by an earlier run, if any. */
  cachedMetadata(link: MagnetLink): Promise<Metainfo | null>;
  /** Leaves the swarm of a torrent whose file was removed. */
  leave(infoHashHex: string): Promise<void>;
  /** Whether pieces of this length fit the block buffers made at start-up. */
  pieceFits(pieceLength: number): boolean;
  isStopping(): boolean;
}

/** A .torrent file that was not joined, as /status lists it: its name in torrents/ and why. */
export interface SkippedTorrent {
  file: string;
  reason: string;
}

/** A .torrent or .magnet file read and found good, ready to be joined. */
export interface FoundTorrent {
  name: string;
  infoHashHex: string;
  /** The torrent's metainfo: from the .torrent, or a magnet's cached metadata; null until a magnet's is fetched. */
  meta: Metainfo | null;
  /** Set for a .magnet file. */
  magnet?: MagnetLink;
  /** The file's size and time when it was read: a change makes a skipped file worth reading again. */
  version: string;
}

interface Skip {
  version: string;
  reason: string;
  /** For a second copy: the file its torrent is joined from (once that one leaves, this one is tried again). */
  copyOf?: string;
}

/** A file read, good or not (then why). */
type LoadedFile = FoundTorrent | { name: string; version: string; unreadable: string };

/** Files of torrents/ read at once at start-up. */
const PARALLEL_READS = 16;

/** torrents/ is rescanned this long after a change is seen, and at least this often. */
const TORRENT_WATCH_DEBOUNCE_MS = 200;
const TORRENT_RESCAN_INTERVAL_MS = 5_000;

export class TorrentFolder {
  /** .torrent file name <-> info hash of the swarm it joined (or is being joined). */
  private readonly joined = new JoinedFiles();
  /** .torrent files that could not be joined, with the version they had and why: retried once they change. */
  private readonly skips = new Map<string, Skip>();
  private watcher: FSWatcher | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private rescanning = false;
  /** The version each joined file had when it was read. */
  private readonly versions = new Map<string, string>();

  constructor(
    private readonly folder: string,
    private readonly log: Logger,
    private readonly host: TorrentFolderHost,
  ) {}

  /**
   * The good .torrent files at start-up, one per torrent; the bad ones are reported and skipped.
   * The buffers are sized for the torrents found here, so their pieces fit by construction.
   */
  async read(): Promise<FoundTorrent[]> {
    const names = await this.torrentNames();
    // Read a few at a time (each waits on the disk), then judged in name order, as one by one.
    const loaded: (LoadedFile | null)[] = new Array(names.length);
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < names.length) {
        const at = next++;
        loaded[at] = await this.load(names[at]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, names.length) }, reader));
    const found: FoundTorrent[] = [];
    for (const file of loaded) {
      const torrent = file && this.judge(file, false);
      if (!torrent) continue;
      this.joined.set(torrent.name, torrent.infoHashHex);
      found.push(torrent);
    }
    return found;
  }

  /** Joins the swarm of a torrent found good; one that cannot be joined is reported and skipped. */
  async join(torrent: FoundTorrent): Promise<void> {
    const { name, infoHashHex, version } = torrent;
    this.joined.set(name, infoHashHex);
    try {
      await this.host.join(torrent, () => this.joined.get(name) === infoHashHex);
    } catch (error) {
      this.failed(infoHashHex, version, (error as Error).message);
    }
  }

  /**
   * A swarm that could not be joined, or not go on (a magnet whose metadata turned out unusable
   * here): its file is listed as skipped with the reason, and tried again once it changes.
   */
  failed(infoHashHex: string, version: string | null, reason: string): void {
    const name = this.joined.fileOf(infoHashHex);
    if (name === undefined) return;
    this.joined.delete(name);
    if (this.host.isStopping()) return;
    this.skip(name, version ?? this.versions.get(name) ?? '', `cannot join its swarm: ${reason}`);
  }

  /**
   * A file the control API just wrote into the folder: read and joined now rather than at the next
   * scan, so that the API can answer with its info hash. Returns the reason when it is skipped.
   * The join (its data checked) goes on after this returns.
   */
  async add(name: string): Promise<{ infoHashHex: string } | { reason: string }> {
    const torrent = await this.examine(name, true);
    if (!torrent) return { reason: this.skips.get(name)?.reason ?? `${name} left ${this.folder} as it was added` };
    // A rescan that saw the file first joined it already.
    if (this.joined.has(name)) return { infoHashHex: torrent.infoHashHex };
    this.log.info(`${name} was added to ${this.folder} (control API): joining its swarm`);
    void this.join(torrent);
    return { infoHashHex: torrent.infoHashHex };
  }

  /**
   * Removes the file a torrent was joined from and leaves its swarm (the control API's remove;
   * the data stays). Returns the file's name, or null when no file of the folder joined it.
   */
  async remove(infoHashHex: string): Promise<string | null> {
    const name = this.fileOf(infoHashHex);
    if (name === undefined) return null;
    this.joined.delete(name);
    try {
      await unlink(path.join(this.folder, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.joined.set(name, infoHashHex);
        throw error;
      }
    }
    await this.left(name, infoHashHex);
    return name;
  }

  /** Whether a file of the folder joins this torrent now. */
  isListed(infoHashHex: string): boolean {
    return this.fileOf(infoHashHex) !== undefined;
  }

  private fileOf(infoHashHex: string): string | undefined {
    return this.joined.fileOf(infoHashHex);
  }

  /** A joined file is gone: its swarm is left, and a second copy of the torrent may take its place. */
  private async left(name: string, infoHashHex: string): Promise<void> {
    this.versions.delete(name);
    await this.host.leave(infoHashHex);
    this.log.info(`${name} was removed from ${this.folder}: left its swarm`);
    for (const [other, skip] of this.skips) if (skip.copyOf === name) this.skips.delete(other);
  }

  /** The files skipped, by name, as /status lists them. */
  skipped(): SkippedTorrent[] {
    return [...this.skips].map(([file, { reason }]) => ({ file, reason })).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  /** Starts watching the folder for .torrent files added, changed and removed. */
  watch(): void {
    let pending: NodeJS.Timeout | null = null;
    const soon = (): void => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        void this.rescan();
      }, TORRENT_WATCH_DEBOUNCE_MS);
      pending.unref();
    };
    try {
      this.watcher = watch(this.folder, soon);
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = null;
    }
    this.rescanTimer = setInterval(soon, TORRENT_RESCAN_INTERVAL_MS);
    this.rescanTimer.unref();
  }

  close(): void {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.watcher?.close();
  }

  private async torrentNames(): Promise<string[]> {
    return (await readdir(this.folder)).filter((name) => /\.(torrent|magnet)$/i.test(name)).sort();
  }

  private async rescan(): Promise<void> {
    if (this.rescanning || this.host.isStopping()) return;
    this.rescanning = true;
    try {
      const names = await this.torrentNames().catch(() => null);
      if (!names) return;
      const present = new Set(names);
      for (const [name, infoHash] of [...this.joined.entries()]) {
        // Gone meanwhile through remove() too: left once.
        if (present.has(name) || this.joined.get(name) !== infoHash) continue;
        this.joined.delete(name);
        await this.left(name, infoHash);
      }
      for (const name of [...this.skips.keys()]) {
        if (present.has(name)) continue;
        this.skips.delete(name);
        this.log.info(`${name} was removed from ${this.folder}: no longer skipped`);
      }
      for (const name of names) {
        if (this.joined.has(name) || this.host.isStopping()) continue;
        const wasSkipped = this.skips.has(name);
        const torrent = await this.examine(name, true);
        // Joined meanwhile by the control API's add().
        if (!torrent || this.joined.has(name)) continue;
        this.log.info(`${name} ${wasSkipped ? 'changed' : 'appeared'} in ${this.folder}: joining its swarm`);
        await this.join(torrent);
      }
    } finally {
      this.rescanning = false;
    }
  }

  /**
   * Reads the .torrent file `name`: the torrent when it is good and not joined yet, otherwise
   * null, the file reported and skipped (once per version of the file). `checkFit`: whether its
   * pieces must fit the buffers made at start-up.
   */
  private async examine(name: string, checkFit: boolean): Promise<FoundTorrent | null> {
    const file = await this.load(name);
    return file && this.judge(file, checkFit);
  }

  /** Reads the file `name`: null when it is gone or this version of it was skipped already. */
  private async load(name: string): Promise<LoadedFile | null> {
    const file = path.join(this.folder, name);
    const info = await stat(file).catch(() => null);
    // Gone since the folder was listed: a rescan sees it removed.
    if (!info) return null;
    const version = `${info.size}:${info.mtimeMs}`;
    if (this.skips.get(name)?.version === version) return null;
    try {
      if (/\.magnet$/i.test(name)) {
        const magnet = await readMagnetFile(file);
        return { name, version, infoHashHex: magnet.infoHashHex, magnet, meta: await this.host.cachedMetadata(magnet) };
      }
      const meta = await readMetainfoFile(file);
      return { name, version, infoHashHex: meta.infoHashHex, meta };
    } catch (error) {
      const known = error instanceof MetainfoError || error instanceof MagnetError;
      return { name, version, unreadable: known ? error.reason : (error as Error).message.replace(`${file}: `, '') };
    }
  }

  /** The torrent of a file read, unless it is bad, a second copy, or (`checkFit`) too large: then skipped. */
  private judge(file: LoadedFile, checkFit: boolean): FoundTorrent | null {
    const { name, version } = file;
    if ('unreadable' in file) {
      this.skip(name, version, file.unreadable);
      return null;
    }
    const torrent = file;
    const { infoHashHex, meta } = torrent;
    // A swarm runs only while the file it was joined from is listed here: one file per torrent.
    const owner = this.joined.fileOf(infoHashHex, name);
    if (owner !== undefined) {
      this.skip(name, version, `a second copy of torrent ${infoHashHex}, which is joined from ${owner}`, owner);
      return null;
    }
    if (checkFit && meta && !this.host.pieceFits(meta.pieceLength)) {
      this.skip(name, version, piecesDoNotFit(meta.pieceLength));
      return null;
    }
    this.skips.delete(name);
    this.versions.set(name, version);
    return torrent;
  }

  /** Lists `name` as skipped and says why, once per version of the file. */
  private skip(name: string, version: string, reason: string, copyOf?: string): void {
    this.skips.set(name, { version, reason, ...(copyOf !== undefined && { copyOf }) });
    this.log.warn(`${path.join(this.folder, name)} skipped: ${reason}`);
  }
}

/** Why a torrent whose pieces are larger than the buffers made at start-up cannot be joined. */
export function piecesDoNotFit(pieceLength: number): string {
  return `its pieces (${pieceLength} bytes) do not fit the block buffers; restart with a larger --buffer-memory`;
}
