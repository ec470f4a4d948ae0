/**
 * The torrents/ folder: the .torrent files read at start-up, where one that cannot be read stops
 * the start (docs/architecture.md, Command line), then watched while running: a .torrent added
 * is joined, one removed is left. A bad one is reported once and skipped (retried when the file
 * changes). fs.watch gives the changes at once; a periodic rescan catches what it misses (some
 * file systems report nothing).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readMetainfoFile, type Metainfo } from '../io/metainfo.js';
import type { Logger } from './logger.js';
import { StartupError } from './startup-error.js';

/** What the folder needs from the session. */
export interface TorrentFolderHost {
  /** Joins a torrent's swarm; `listed()` tells, once its data is checked, whether its file is still in the folder. */
  join(meta: Metainfo, listed: () => boolean): Promise<void>;
  /** Leaves the swarm of a torrent whose file was removed. */
  leave(infoHashHex: string): Promise<void>;
  /** Whether pieces of this length fit the block buffers made at start-up. */
  pieceFits(pieceLength: number): boolean;
  isStopping(): boolean;
}

/** torrents/ is rescanned this long after a change is seen, and at least this often. */
const TORRENT_WATCH_DEBOUNCE_MS = 200;
const TORRENT_RESCAN_INTERVAL_MS = 5_000;

export class TorrentFolder {
  /** .torrent file name -> info hash of the swarm it joined. */
  private readonly joined = new Map<string, string>();
  /** .torrent files that could not be joined, with the size and time they had: retried once they change. */
  private readonly skipped = new Map<string, string>();
  private watcher: FSWatcher | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private rescanning = false;

  constructor(
    private readonly folder: string,
    private readonly log: Logger,
    private readonly host: TorrentFolderHost,
  ) {}

  /** The .torrent files at start-up, one per torrent. */
  async read(): Promise<{ name: string; meta: Metainfo }[]> {
    const names = await this.torrentNames();
    const metas: { name: string; meta: Metainfo }[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const file = path.join(this.folder, name);
      let meta: Metainfo;
      try {
        meta = await readMetainfoFile(file);
      } catch (error) {
        const message = (error as Error).message;
        throw new StartupError(message.includes(file) ? message : `${file}: ${message}`);
      }
      if (seen.has(meta.infoHashHex)) {
        this.log.warn(`${file} is a second copy of torrent ${meta.infoHashHex}; ignored`);
        continue;
      }
      seen.add(meta.infoHashHex);
      metas.push({ name, meta });
    }
    return metas;
  }

  /** Joins the swarm of the torrent in file `name`. */
  async join(name: string, meta: Metainfo): Promise<void> {
    this.joined.set(name, meta.infoHashHex);
    await this.host.join(meta, () => this.joined.get(name) === meta.infoHashHex);
  }

  /** Starts watching the folder for .torrent files added and removed. */
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
    return (await readdir(this.folder)).filter((name) => name.toLowerCase().endsWith('.torrent')).sort();
  }

  private async rescan(): Promise<void> {
    if (this.rescanning || this.host.isStopping()) return;
    this.rescanning = true;
    try {
      const names = await this.torrentNames().catch(() => null);
      if (!names) return;
      const present = new Set(names);
      for (const [name, infoHash] of [...this.joined]) {
        if (present.has(name)) continue;
        this.joined.delete(name);
        await this.host.leave(infoHash);
        this.log.info(`${name} was removed from ${this.folder}: left its swarm`);
      }
      for (const name of names) {
        if (this.joined.has(name)) continue;
        await this.tryJoin(name).catch((error: Error) => this.log.warn(`cannot join ${name}: ${error.message}`));
      }
    } finally {
      this.rescanning = false;
    }
  }

  /** Joins a .torrent found while running, or says once why it cannot. */
  private async tryJoin(name: string): Promise<void> {
    const file = path.join(this.folder, name);
    const info = await stat(file).catch(() => null);
    if (!info) return;
    const version = `${info.size}:${info.mtimeMs}`;
    if (this.skipped.get(name) === version) return;
    const skip = (reason: string): void => {
      this.skipped.set(name, version);
      this.log.warn(`${file} skipped: ${reason}`);
    };
    let meta: Metainfo;
    try {
      meta = await readMetainfoFile(file);
    } catch (error) {
      return skip((error as Error).message.replace(`${file}: `, ''));
    }
    // A swarm runs only while the file it was joined from is listed here.
    if ([...this.joined.values()].includes(meta.infoHashHex)) return skip(`torrent ${meta.infoHashHex} is already joined from another file`);
    if (!this.host.pieceFits(meta.pieceLength)) return skip(`its pieces (${meta.pieceLength} bytes) do not fit the block buffers; restart with a larger --buffer-memory`);
    this.skipped.delete(name);
    this.log.info(`${name} appeared in ${this.folder}: joining its swarm`);
    await this.join(name, meta);
  }
}
