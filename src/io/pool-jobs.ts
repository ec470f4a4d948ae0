/**
 * What the main thread and the pool's workers say to each other: the jobs of
 * src/workers/piece-tasks.ts and their outcomes. Here, on the lowest floor, both sides can see
 * them (docs/architecture.md).
 */
import type { SlabPiece } from './block-slab.js';
import type { PieceLocation } from './piece-spans.js';

/** A downloaded piece to hash, and where to write it when it matches. */
export interface VerifyJob {
  piece: SlabPiece;
  expected: Uint8Array;
  location: PieceLocation;
}

/**
 * What became of a piece: 1 it matched and was written, 0 it did not match (nothing written),
 * or why writing it failed, starting with the errno code when there is one ("ENOSPC: ...").
 */
export type VerifyOutcome = 0 | 1 | string;

/**
 * A piece to read from its files into the slab, for uploading, and its hash: a piece is checked
 * each time it is read, since a file in shareable/ may have changed under us (issue 22), and a
 * piece that fails its hash is never sent.
 */
export interface ReadJob {
  piece: SlabPiece;
  expected: Uint8Array;
  location: PieceLocation;
}

/** What became of a read: 1 read and it matches its hash, 0 read but it does not match, or why it failed. */
export type ReadOutcome = 0 | 1 | string;
