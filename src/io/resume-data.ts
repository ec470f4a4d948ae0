/**
 * Resume data of one torrent (docs/architecture.md, Disk): which pieces are verified and on disk,
 * where the data is, and the size and modification time of each file when it was saved. A piece is
 * recorded only after its data was flushed, so a recorded piece can be trusted even after a crash;
 * `cleanStop` says whether the peer stopped cleanly after the last save, which alone allows
 * skipping the check of the pieces not recorded.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';

export type DataLocation = 'shareable' | 'cache';

export interface ResumeFile {
  /** Relative path under the data folder. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface ResumeData {
  version: 1;
  infoHash: string;
  location: DataLocation;
  /** Verified pieces, as a BEP 3 bitfield in base64. */
  pieces: string;
  files: ResumeFile[];
  cleanStop: boolean;
  savedAt: string;
  /** With `location` cache: files complete and wanted (others skipped), moved into shareable/ alone. */
  shareableFiles?: string[];
}

export function decodePieces(encoded: string, count: number): number[] {
  const bits = Buffer.from(encoded, 'base64');
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (bits[i >> 3] & (0x80 >> (i & 7))) out.push(i);
  return out;
}

/**
 * The resume data saved for a torrent, or null when there is none or it cannot be used (another
 * torrent's, another version, damaged): the data is then checked in full, as on a first start.
 */
export async function readResumeData(file: string, infoHashHex: string, pieceCount: number): Promise<ResumeData | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
  const data = parsed as Partial<ResumeData>;
  if (data?.version !== 1 || data.infoHash !== infoHashHex) return null;
  if (data.location !== 'shareable' && data.location !== 'cache') return null;
  if (typeof data.pieces !== 'string' || Buffer.from(data.pieces, 'base64').length !== Math.ceil(pieceCount / 8)) return null;
  if (!Array.isArray(data.files) || typeof data.cleanStop !== 'boolean') return null;
  const filesOk = data.files.every((f) => typeof f?.path === 'string' && Number.isSafeInteger(f.size) && typeof f.mtimeMs === 'number');
  const movedOk = data.shareableFiles === undefined || (Array.isArray(data.shareableFiles) && data.shareableFiles.every((f) => data.files!.some((file) => file.path === f)));
  return filesOk && movedOk ? (data as ResumeData) : null;
}

export function writeResumeData(file: string, data: ResumeData): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(data)}\n`);
}
