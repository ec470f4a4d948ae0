/**
 * The libtorrent reference pair: two processes of bench/libtorrent-peer.py (libtorrent-rasterbar
 * through Debian's python3-libtorrent), TCP only on loopback, the seeder with libtorrent's
 * high-performance seed preset.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SampledProcess, type Progress } from './sampled-process.js';
import { firstLine, loopback, type PairContext, type PairProcesses, type ReferencePair } from './reference-pair.js';
import { freePort } from './transfer.js';

/** Debian's python: a python3 from elsewhere on PATH may lack the module. */
const PYTHON = '/usr/bin/python3';
/** Beside the sources: this runs from dist-bench/bench/. */
const DRIVER = fileURLToPath(new URL('../../bench/libtorrent-peer.py', import.meta.url));

/** One side, as the driver reports it on its standard output. */
class LibtorrentPeer extends SampledProcess {
  ready = false;
  private received = 0;
  private complete = false;

  constructor(label: string, torrentFile: string, saveDir: string, port: number, private readonly seeding: boolean) {
    super(label, PYTHON, [DRIVER, torrentFile, saveDir, String(port), seeding ? '--seed' : '--leech']);
  }

  protected override onLine(line: string): void {
    if (line === 'ready') this.ready = true;
    else if (line === 'complete') this.complete = true;
    else if (line.startsWith('progress ')) this.received = Number(line.slice('progress '.length));
  }

  protected override async readProgress(): Promise<Progress | undefined> {
    return this.seeding ? undefined : { receivedBytes: this.received, complete: this.complete };
  }
}

async function start(context: PairContext): Promise<PairProcesses> {
  const leecherDir = await context.folder('libtorrent-leecher');
  const [seederPort, leecherPort] = [await freePort(), await freePort()];
  const seeder = new LibtorrentPeer('libtorrent seeder', context.torrentFile, context.data.dataDir, seederPort, true);
  return {
    seeder,
    seederReady: async () => seeder.ready,
    startLeecher: () => new LibtorrentPeer('libtorrent leecher', context.torrentFile, leecherDir, leecherPort, false),
    leecherFile: path.join(leecherDir, context.data.fileName),
  };
}

export const libtorrentPair: ReferencePair = {
  name: 'libtorrent',
  async probe() {
    const version = await firstLine(PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)']);
    return version === undefined ? { missing: `not installed (${PYTHON} cannot import libtorrent: apt install python3-libtorrent)` } : { version };
  },
  network: loopback,
  start,
};
