/**
 * The Piscina worker: each export is a task the main thread runs by name. Pieces being
 * downloaded or uploaded live in the shared slab, so no piece is copied between threads.
 */
import { createHash } from 'node:crypto';
import { workerData } from 'piscina';
import { slabPieceViews, type SlabMemory, type SlabPiece } from '../io/block-slab.js';
import type { PieceLocation } from '../io/piece-spans.js';
import type { ReadJob, ReadOutcome, VerifyJob, VerifyOutcome } from '../io/pool-jobs.js';
import { readSpans, writeSpans } from './span-io.js';

/** The slabs, shared once at the worker's start (PieceWorkers' workerData). */
const slabs = (workerData as { slabs: SlabMemory[] }).slabs;

function views(piece: SlabPiece): Buffer[] {
  return slabPieceViews(slabs[piece.slab], piece);
}

function sha1(views: readonly Buffer[]): Buffer {
  const hash = createHash('sha1');
  for (const view of views) hash.update(view);
  return hash.digest();
}

/** SHA-1 of a piece in the slab. */
export function hashPiece(task: { piece: SlabPiece }): Uint8Array {
  return sha1(views(task.piece));
}

/**
 * SHA-1 of each block of a piece in the slab (one slot is one block), 20 bytes each in order:
 * the swarm compares a failed attempt's blocks with the good ones to find who sent bad data.
 */
export function hashBlocks(task: { piece: SlabPiece }): Uint8Array {
  const blocks = views(task.piece);
  const out = new Uint8Array(20 * blocks.length);
  blocks.forEach((block, i) => out.set(sha1([block]), 20 * i));
  return out;
}

/** Runs `work` on each job in order; a job that throws fails alone, with its message (errno code first) as its outcome. */
function eachAlone<Job, Outcome>(jobs: readonly Job[], work: (job: Job) => Outcome): (Outcome | string)[] {
  return jobs.map((job) => {
    try {
      return work(job);
    } catch (error) {
      // The errno code leads the message, so that the main thread can tell a full disk from a
      // read-only one (storage-fault.ts); Node's own messages already start with it.
      const { code, message } = error as NodeJS.ErrnoException;
      return typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
    }
  });
}

/**
 * Hashes downloaded pieces and writes each one that matches; one outcome per piece, in order. A
 * piece that cannot be written fails alone, not the pieces batched with it.
 */
export function verifyAndWritePieces(task: { jobs: VerifyJob[] }): VerifyOutcome[] {
  return eachAlone(task.jobs, ({ piece, expected, location }): 0 | 1 => {
    const bytes = views(piece);
    if (!sha1(bytes).equals(expected)) return 0;
    writeSpans(bytes, location.spans);
    return 1;
  });
}

/**
 * Reads pieces from their files into the slab and hashes each one; one outcome per piece, in
 * order, each failing alone. A piece that does not match (its file changed on disk) reads as 0.
 */
export function readPieces(task: { jobs: ReadJob[] }): ReadOutcome[] {
  return eachAlone(task.jobs, ({ piece, expected, location }): 0 | 1 => {
    const bytes = views(piece);
    readSpans(bytes, location.spans);
    return sha1(bytes).equals(expected) ? 1 : 0;
  });
}

/** Scratch memory of this worker for rechecks, grown to the largest piece seen. */
let scratch = Buffer.alloc(0);

/**
 * Checks a run of pieces on disk against their hashes (start-up recheck), one task for several
 * pieces so that the cost of a task is paid once per run. A missing or short file fails a piece.
 * Returns one flag per piece: 1 good, 0 bad.
 */
export function checkPieces(task: { expected: Uint8Array; locations: PieceLocation[] }): Uint8Array {
  const results = new Uint8Array(task.locations.length);
  task.locations.forEach((location, i) => {
    if (scratch.length < location.length) scratch = Buffer.allocUnsafeSlow(location.length);
    const view = scratch.subarray(0, location.length);
    try {
      readSpans([view], location.spans);
    } catch {
      return;
    }
    const expected = task.expected.subarray(i * 20, (i + 1) * 20);
    if (sha1([view]).equals(expected)) results[i] = 1;
  });
  return results;
}
