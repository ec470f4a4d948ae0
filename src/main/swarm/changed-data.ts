/**
 * Data that changed on disk under a running swarm (issue 22): a file in shareable/ deleted,
 * truncated or overwritten while it is seeded. Every piece read for uploading is hashed on the
 * pool (TorrentData.readPiece), so a piece that fails is never sent; the read that found it lands
 * here. The pieces of the file(s) it lies in are checked again (TorrentData.recheck, the start-up
 * check's code), those that no longer match are withheld (requests for them are dropped: there is
 * no REJECT without the fast extension), and the swarm goes into a storage error ("missing-file"
 * for a deleted file, "io" otherwise) whose message says what the check found. Every
 * settings.storageRetryMs the withheld pieces are checked again; once they all match (the file was
 * put back) they are served again and the error is gone.
 *
 * The data stays where it is and no piece is downloaded again: a seeder whose file broke goes on
 * seeding the pieces that still match, and a restart's check (TorrentData.open) moves the data
 * back to cache/ and downloads what is missing, as it does for any incomplete shareable/ file.
 */
import type { TorrentData } from '../../io/torrent-data.js';
import type { Logger } from '../logger.js';

export interface ChangedDataSetup {
  data: Pick<TorrentData, 'recheck' | 'piecesSharingFiles'>;
  hasPiece(index: number): boolean;
  log: Pick<Logger, 'warn' | 'info'>;
  /** Puts the swarm in a storage error; `causeGone` tells whether it is over. */
  storageFailed(what: string, error: unknown, causeGone: () => Promise<boolean>): void;
}

export class ChangedData {
  // Both made at the first failed read: most swarms never have one.
  private withheldPieces: Set<number> | undefined;
  /** Files being checked again now: reads failing meanwhile wait for that check. */
  private rechecking: Set<string> | undefined;

  constructor(private readonly setup: ChangedDataSetup) {}

  /** Whether the piece is withheld: announced, but it no longer matches its hash on disk. */
  withheld(index: number): boolean {
    return this.withheldPieces?.has(index) ?? false;
  }

  /** A piece could not be read for uploading, or failed its hash: checks its file(s) again. */
  async readFailed(index: number, error: Error): Promise<void> {
    if (this.withheld(index)) return;
    const { files, pieces } = this.setup.data.piecesSharingFiles(index);
    const rechecking = (this.rechecking ??= new Set());
    const withheldPieces = (this.withheldPieces ??= new Set());
    if (files.length === 0 || files.some((file) => rechecking.has(file))) return;
    for (const file of files) rechecking.add(file);
    const names = files.join(', ');
    this.setup.log.warn(`cannot upload piece ${index} (${error.message}): checking ${names} again, its pieces are not sent meanwhile`);
    const had = pieces.filter((i) => this.setup.hasPiece(i) && !withheldPieces.has(i));
    for (const i of had) withheldPieces.add(i);
    try {
      const good = await this.setup.data.recheck(had).catch(() => [] as number[]);
      for (const i of good) withheldPieces.delete(i);
      const bad = had.length - good.length;
      if (bad === 0) {
        this.setup.log.info(`${names} checked again after a failed read: every piece still matches`);
        return;
      }
      this.setup.storageFailed(
        `${names} changed on disk, checked again: ${bad} of its ${had.length} pieces no longer match their hash and are not uploaded; piece ${index}`,
        error,
        () => this.causeGone(withheldPieces),
      );
    } finally {
      for (const file of files) rechecking.delete(file);
    }
  }

  /** Checks the withheld pieces again; true once every one of them matches (the data was put back). */
  private async causeGone(withheldPieces: Set<number>): Promise<boolean> {
    const good = await this.setup.data.recheck([...withheldPieces]).catch(() => [] as number[]);
    for (const i of good) withheldPieces.delete(i);
    return withheldPieces.size === 0;
  }
}
