/**
 * The aria2 reference pair: two aria2c processes on loopback, talking only to the pair's tracker
 * (no DHT, local discovery or PEX). The seeder checks the file and seeds without a ratio limit;
 * the leecher stops seeding once complete. Each is read through its JSON-RPC interface, since
 * aria2c takes about 2 s from start to its first byte and 1-2 s from completion to exit: its
 * transfer is timed from the first byte to completion, as every client's is.
 */
import path from 'node:path';
import { SampledProcess, type Progress } from './sampled-process.js';
import { firstLine, loopback, type PairContext, type PairProcesses, type ReferencePair } from './reference-pair.js';
import { freePort } from './transfer.js';

const QUIET = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--console-log-level=warn',
  '--summary-interval=0',
];
/** Bound on one RPC call: a busy aria2c answers within it, and a missed sample is retried at the next one. */
const RPC_TIMEOUT_MS = 2_000;
const RPC_KEYS = ['status', 'completedLength', 'totalLength', 'seeder'];

interface Aria2Download {
  status: string;
  completedLength: string;
  totalLength: string;
  seeder?: string;
}

class Aria2Peer extends SampledProcess {
  constructor(
    label: string,
    args: readonly string[],
    private readonly rpcPort: number,
    private readonly seeding: boolean,
  ) {
    super(label, 'aria2c', [...QUIET, '--enable-rpc=true', `--rpc-listen-port=${rpcPort}`, ...args]);
  }

  private async call(method: string, params: unknown[]): Promise<Aria2Download[]> {
    const response = await fetch(`http://127.0.0.1:${this.rpcPort}/jsonrpc`, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 'bench', method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    const reply = (await response.json()) as { result?: Aria2Download[]; error?: { message: string } };
    if (reply.result === undefined) throw new Error(`aria2c ${method}: ${reply.error?.message ?? 'no result'}`);
    return reply.result;
  }

  /** The one download, active or (once complete, with --seed-time=0) stopped. */
  async download(): Promise<Aria2Download | undefined> {
    const active = await this.call('aria2.tellActive', [RPC_KEYS]);
    return active[0] ?? (await this.call('aria2.tellStopped', [0, 1, RPC_KEYS]))[0];
  }

  protected override async readProgress(): Promise<Progress | undefined> {
    if (this.seeding) return undefined;
    const download = await this.download();
    if (download === undefined) return undefined;
    const received = Number(download.completedLength);
    return { receivedBytes: received, complete: download.status === 'complete' || (received > 0 && received === Number(download.totalLength)) };
  }
}

async function start(context: PairContext): Promise<PairProcesses> {
  const leecherDir = await context.folder('aria2-leecher');
  const [seederPort, seederRpc, leecherPort, leecherRpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const seeder = new Aria2Peer(
    'aria2c seeder',
    [`--dir=${context.data.dataDir}`, '--check-integrity=true', '--seed-ratio=0.0', `--listen-port=${seederPort}`, context.torrentFile],
    seederRpc,
    true,
  );
  return {
    seeder,
    seederReady: async () => {
      const download = await seeder.download();
      return download?.status === 'active' && download.seeder === 'true';
    },
    startLeecher: () =>
      new Aria2Peer(
        'aria2c leecher',
        // falloc reserves the file at once; the default (prealloc) would first write the whole file with zeros.
        [`--dir=${leecherDir}`, '--seed-time=0', '--file-allocation=falloc', `--listen-port=${leecherPort}`, context.torrentFile],
        leecherRpc,
        false,
      ),
    leecherFile: path.join(leecherDir, context.data.fileName),
  };
}

export const aria2Pair: ReferencePair = {
  name: 'aria2c',
  async probe() {
    const line = await firstLine('aria2c', ['--version']);
    const version = line === undefined ? undefined : /aria2 version (\S+)/.exec(line)?.[1];
    return version === undefined ? { missing: 'not installed (apt install aria2)' } : { version };
  },
  network: loopback,
  start,
};
