/**
 * Files chosen by the user, as pieces: pure arithmetic between a torrent's files (pad files
 * aside, as /status lists them) and its pieces. A piece takes the highest priority of the files
 * it touches, so a piece on the border of a skipped file and a wanted one is downloaded; a piece
 * wholly inside skipped files is never requested.
 */
import type { FilePriority } from '../../io/control-state.js';
import { FILE_PRIORITIES } from '../../io/control-state.js';
import type { LayoutFile } from '../../io/file-layout.js';
import type { PieceGeometry } from '../../io/piece-geometry.js';
import { HIGH, NORMAL, SKIP } from './piece-picker.js';

const PIECE_PRIORITY: Record<FilePriority, number> = { skip: SKIP, normal: NORMAL, high: HIGH };
/** A piece no data file touches, while the priorities are worked out. */
const UNTOUCHED = 255;

/** The pieces a file touches, [first, last]; null for an empty file, which touches none. */
export function piecesOfFile(file: Pick<LayoutFile, 'offset' | 'length'>, geometry: Pick<PieceGeometry, 'pieceLength'>): [number, number] | null {
  if (file.length === 0) return null;
  return [Math.floor(file.offset / geometry.pieceLength), Math.floor((file.offset + file.length - 1) / geometry.pieceLength)];
}

/** Each piece's priority from the priorities of the files (one per data file, in order). */
export function piecePriorities(files: readonly LayoutFile[], priorities: readonly FilePriority[], geometry: PieceGeometry): Uint8Array {
  const out = new Uint8Array(geometry.pieceCount).fill(UNTOUCHED);
  files.forEach((file, i) => {
    const range = piecesOfFile(file, geometry);
    if (!range) return;
    const priority = PIECE_PRIORITY[priorities[i]];
    for (let index = range[0]; index <= range[1]; index++) if (out[index] === UNTOUCHED || out[index] < priority) out[index] = priority;
  });
  // A piece of pad files alone (none in a well-made torrent) is wanted, or it would never be had.
  for (let index = 0; index < out.length; index++) if (out[index] === UNTOUCHED) out[index] = NORMAL;
  return out;
}

/** Verified bytes of a file: its part of each piece had. */
export function verifiedBytes(file: Pick<LayoutFile, 'offset' | 'length'>, geometry: PieceGeometry, hasPiece: (index: number) => boolean): number {
  const range = piecesOfFile(file, geometry);
  if (!range) return 0;
  let done = 0;
  for (let index = range[0]; index <= range[1]; index++) {
    if (!hasPiece(index)) continue;
    const start = Math.max(file.offset, index * geometry.pieceLength);
    const end = Math.min(file.offset + file.length, index * geometry.pieceLength + geometry.pieceSize(index));
    done += end - start;
  }
  return done;
}

/** A change of PUT /torrents/<info hash>/files, checked. */
export interface FilesChange {
  priorities?: FilePriority[];
  sequential?: boolean;
}

/** Checks a change's JSON body against a torrent of `fileCount` files; the reason when it is bad. */
export function parseFilesChange(body: unknown, fileCount: number): FilesChange | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'the body must be a JSON object: { "priorities": [...], "sequential": true }' };
  const unknown = Object.keys(body).filter((key) => key !== 'priorities' && key !== 'sequential');
  if (unknown.length > 0) return { error: `unknown field ${JSON.stringify(unknown[0])}: only "priorities" and "sequential" may be given` };
  const { priorities, sequential } = body as Record<string, unknown>;
  if (priorities === undefined && sequential === undefined) return { error: 'nothing to change: give "priorities", "sequential" or both' };
  if (sequential !== undefined && typeof sequential !== 'boolean') return { error: '"sequential" must be true or false' };
  if (priorities !== undefined) {
    if (!Array.isArray(priorities)) return { error: '"priorities" must be an array, one priority per file' };
    if (priorities.length !== fileCount) return { error: `"priorities" has ${priorities.length} entries; the torrent has ${fileCount} files (as /status lists them)` };
    const bad = priorities.findIndex((p) => !FILE_PRIORITIES.includes(p as FilePriority));
    if (bad >= 0) return { error: `priority ${bad + 1} is ${JSON.stringify(priorities[bad])}; each must be one of ${FILE_PRIORITIES.join(', ')}` };
  }
  return { ...(priorities !== undefined && { priorities: priorities as FilePriority[] }), ...(sequential !== undefined && { sequential }) };
}

/**
 * The priorities a magnet link's `so` (BEP 53) selects: the files it names normal, the others
 * skipped. `indices` count every file of the info dictionary (pad files included, as BEP 53
 * does); the result has one priority per data file. Null when it selects no file at all, which
 * would leave nothing to download: the link is then taken whole.
 */
export function selectedPriorities(indices: readonly number[], files: readonly { pad?: boolean }[]): FilePriority[] | null {
  const chosen = new Set(indices);
  const priorities: FilePriority[] = [];
  files.forEach((file, i) => {
    if (!file.pad) priorities.push(chosen.has(i) ? 'normal' : 'skip');
  });
  return priorities.includes('normal') ? priorities : null;
}
