/**
 * The worker pool (Piscina) that hashes pieces and does their disk I/O, so that the main thread
 * only moves bytes between sockets and the shared slab. Each method is one task of
 * src/workers/piece-tasks.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { defaultSettings, type Settings } from './settings.js';
import type { ReadJob, ReadOutcome, VerifyJob, VerifyOutcome } from './pool-jobs.js';
import type { BlockSlab, SlabMemory, SlabPiece } from './block-slab.js';
import type { PieceLocation } from './piece-spans.js';
import { TaskBatcher } from './task-batcher.js';

/**
 * The compiled task module. Under ts-jest this module runs from src/, where only the .ts
 * exists, so the worker is taken from its compiled twin in dist/ (built before the tests).
 */
function taskModule(): string {
  const beside = fileURLToPath(new URL('../workers/piece-tasks.js', import.meta.url));
  if (existsSync(beside)) return pathToFileURL(beside).href;
  const twin = beside.replace(`${path.sep}src${path.sep}`, `${path.sep}dist${path.sep}`);
  return pathToFileURL(twin).href;
}

/**
 * A batched job's outcome; the reason it failed (a string from the worker) is thrown, with the
 * errno code that leads it as the error's `code`, as Node's own errors have it.
 */
function succeeded<Outcome extends number>(outcome: Outcome | string): Outcome {
  if (typeof outcome !== 'string') return outcome;
  const error: NodeJS.ErrnoException = new Error(outcome);
  const code = /^(E[A-Z0-9]+):/.exec(outcome)?.[1];
  if (code) error.code = code;
  throw error;
}

export class PieceWorkers {
  private readonly pool: Piscina;
  private readonly verifyBatches: TaskBatcher<VerifyJob, VerifyOutcome>;
  private readonly readBatches: TaskBatcher<ReadJob, ReadOutcome>;

  /** `slabs[i]` must be the slab whose id is i: tasks name slabs by id. */
  constructor(
    readonly size: number,
    slabs: readonly BlockSlab[],
    settings: Settings = defaultSettings,
  ) {
    slabs.forEach((slab, i) => {
      if (slab.id !== i) throw new RangeError(`slab ${slab.id} given at position ${i}`);
    });
    const memory: SlabMemory[] = slabs.map((slab) => ({ buffer: slab.buffer, slotLength: slab.slotLength }));
    this.pool = new Piscina({
      workerData: { slabs: memory },
      filename: taskModule(),
      minThreads: size,
      maxThreads: size,
      // A worker runs its tasks one at a time, but with a few handed to it at once it never sits
      // idle waiting for the main thread between two of them.
      concurrentTasksPerWorker: 4,
      idleTimeout: Number.MAX_SAFE_INTEGER,
    });
    this.verifyBatches = new TaskBatcher(
      (jobs) => this.pool.run({ jobs }, { name: 'verifyAndWritePieces' }) as Promise<VerifyOutcome[]>,
      (job) => job.piece.length,
      { lingerMs: settings.verifyBatchLingerMs, maxJobs: settings.verifyBatchMaxPieces, maxBytes: settings.verifyBatchMaxBytes },
    );
    this.readBatches = new TaskBatcher(
      (jobs) => this.pool.run({ jobs }, { name: 'readPieces' }) as Promise<ReadOutcome[]>,
      (job) => job.piece.length,
      { lingerMs: settings.readBatchLingerMs, maxJobs: settings.readBatchMaxPieces, maxBytes: settings.readBatchMaxBytes },
    );
  }

  async hash(piece: SlabPiece): Promise<Buffer> {
    const digest = (await this.pool.run({ piece }, { name: 'hashPiece' })) as Uint8Array;
    return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
  }

  /** SHA-1 of each block (slab slot) of the piece, in order. */
  async hashBlocks(piece: SlabPiece): Promise<Buffer[]> {
    const digests = (await this.pool.run({ piece }, { name: 'hashBlocks' })) as Uint8Array;
    const all = Buffer.from(digests.buffer, digests.byteOffset, digests.byteLength);
    return Array.from({ length: all.length / 20 }, (_, i) => all.subarray(20 * i, 20 * (i + 1)));
  }

  /**
   * Hashes a downloaded piece and writes it only when it matches; resolves to whether it matched,
   * rejects when it matched but could not be written. Pieces are batched (settings.verifyBatch*).
   */
  async verifyAndWrite(piece: SlabPiece, expected: Uint8Array, location: PieceLocation): Promise<boolean> {
    return succeeded(await this.verifyBatches.submit({ piece, expected, location })) === 1;
  }

  /**
   * Reads a piece from its files into the slab and checks it against `expected`; resolves to
   * whether it matches, rejects when it could not be read. Reads asked for in the same moment
   * share a task (settings.readBatch*).
   */
  async read(piece: SlabPiece, expected: Uint8Array, location: PieceLocation): Promise<boolean> {
    return succeeded(await this.readBatches.submit({ piece, expected, location })) === 1;
  }

  /** Checks pieces against their hashes (20 bytes each, in order); one flag per piece, 1 when good. */
  checkRun(expected: Uint8Array, locations: PieceLocation[]): Promise<Uint8Array> {
    return this.pool.run({ expected, locations }, { name: 'checkPieces' }) as Promise<Uint8Array>;
  }

  /** Tasks the pool has finished since it started (batching shows as fewer tasks than pieces). */
  get tasksRun(): number {
    return this.pool.completed;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.pool.queueSize;
  }

  destroy(): Promise<void> {
    this.verifyBatches.flush();
    this.readBatches.flush();
    return this.pool.destroy();
  }
}
