/**
 * Keeps the main thread's young generation (V8's new space) near the size it starts with instead
 * of letting it double, as survivors accumulate, up to semi-spaces of 16 MiB. A peer allocates
 * steadily, so within seconds of its first transfer the young generation reaches its largest and
 * stays resident: about 25 MiB of RSS, a sixth of a seeder's (the seeder of bench (c), 200
 * torrents to one leecher: 158-160 -> 131-138 MiB peak). Paired transfers of 512 MiB, one seeder
 * to one leecher, showed no CPU cost on either side (medians of five runs: leecher 2.04 s against
 * 2.09 s, seeder 1.05 s against 1.08 s).
 *
 * Node has no other way for a program to choose this for itself: --max-semi-space-size is read
 * only when the heap is made, while the growth factor is read at each growth. V8 raises a factor
 * below 2 back to 2 whenever it makes an isolate, as for each thread of the worker pool, so the
 * flag is set again once each worker runs. It is a flag of the process, set by the command
 * (shoal.ts imports this module first) and not by the Session, whose tests run many peers in one
 * process with Node's defaults.
 */
import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

holdYoungGeneration();
process.on('worker', (worker: Worker) => worker.once('online', holdYoungGeneration));
