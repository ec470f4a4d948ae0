/**
 * rc4: the cipher of encrypted peer connections (src/main/net/mse/rc4.ts), a mitata micro
 * benchmark over 16 KiB blocks, both ways it runs: in place (received chunks, ours to change) and
 * into a copy (blocks sent from slab memory, which must not change). A connection whose payload
 * is RC4 (`--encryption require`, or a peer that picks it) pays this once per byte each way, on
 * the main thread.
 */
import os from 'node:os';
import { Rc4 } from '../src/main/net/mse/rc4.js';
import { KiB } from '../src/io/settings.js';
import { duration, MB, micro, type BenchOptions, type BenchResult, type Benchmark, type MicroFigures } from './benchmark.js';

const BLOCK = 16 * KiB;

/** RFC 6229, key 0102030405, keystream at offset 0: checked before timing, so a broken cipher never passes for a fast one. */
function verify(): void {
  const stream = Buffer.alloc(16);
  new Rc4(Buffer.from('0102030405', 'hex')).process(stream);
  if (stream.toString('hex') !== 'b2396305f03dc027ccc3524a0a1118a8') throw new Error(`rc4: wrong keystream ${stream.toString('hex')}`);
}

async function measureRc4(options: BenchOptions): Promise<BenchResult> {
  verify();
  const rc4 = new Rc4(Buffer.alloc(20, 0x5a));
  const block = Buffer.alloc(BLOCK, 0xa5);
  const out = Buffer.alloc(BLOCK);
  const cases: { name: string; figures: MicroFigures }[] = [
    { name: 'in place (bytes received)', figures: await micro(() => rc4.process(block), options.quick) },
    { name: 'into a copy (bytes sent from slab memory)', figures: await micro(() => rc4.process(block, out), options.quick) },
  ];
  const rate = (ns: number): number => BLOCK / MB / (ns / 1e9);
  return {
    title: `RC4 (MSE/PE payload) over ${BLOCK / KiB} KiB blocks, one core`,
    columns: ['case', 'per block', 'MB/s'],
    rows: cases.map(({ name, figures }) => [name, duration(figures.medianNs), rate(figures.medianNs).toFixed(0)]),
    notes: [
      `median time of one ${BLOCK / KiB} KiB block (mitata), on one of ${os.availableParallelism()} cores; MB/s = 10^6 bytes per second`,
      'an RC4 connection pays this per byte in each direction on the main thread; plaintext after an MSE handshake pays nothing',
    ],
    data: { blockLength: BLOCK, cases: cases.map(({ name, figures }) => ({ name, mbPerSecond: rate(figures.medianNs), ...figures })) },
  };
}

export const rc4Benchmark: Benchmark = {
  name: 'rc4',
  description: 'RC4 of encrypted connections, in MB/s over 16 KiB blocks',
  run: measureRc4,
};
