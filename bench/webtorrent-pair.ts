/**
 * The WebTorrent reference pairs: two processes of bench/webtorrent-peer.mjs (WebTorrent 2.8,
 * installed on demand by bench/webtorrent-install.ts), TCP only on loopback, once with the
 * leecher picking the rarest piece first and once with WebTorrent's default, sequential order.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SampledProcess, type Progress } from './sampled-process.js';
import { loopback, type PairContext, type PairProcesses, type ReferencePair } from './reference-pair.js';
import { freePort } from './transfer.js';
import { installWebTorrent } from './webtorrent-install.js';

/** WebTorrent's piece selection strategies (its torrent option `strategy`). */
type Strategy = 'rarest' | 'sequential';

/** Beside the sources: this runs from dist-bench/bench/. */
const DRIVER = fileURLToPath(new URL('../../bench/webtorrent-peer.mjs', import.meta.url));

/** One side, as the driver reports it on its standard output. */
class WebTorrentPeer extends SampledProcess {
  ready = false;
  private received = 0;
  private complete = false;

  constructor(label: string, installDir: string, torrentFile: string, saveDir: string, port: number, private readonly seeding: boolean, strategy: Strategy) {
    super(label, process.execPath, [DRIVER, installDir, torrentFile, saveDir, String(port), seeding ? '--seed' : '--leech', strategy]);
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

function webTorrentPair(name: string, strategy: Strategy): ReferencePair {
  return {
    name,
    async probe() {
      const installed = await installWebTorrent();
      return 'missing' in installed ? installed : { version: installed.version };
    },
    network: loopback,
    async start(context: PairContext): Promise<PairProcesses> {
      // Installed by the probe that came before; the same install, looked up again.
      const installed = await installWebTorrent();
      if ('missing' in installed) throw new Error(installed.missing);
      const installDir = installed.dir;
      const leecherDir = await context.folder('webtorrent-leecher');
      const [seederPort, leecherPort] = [await freePort(), await freePort()];
      const seeder = new WebTorrentPeer(`${name} seeder`, installDir, context.torrentFile, context.data.dataDir, seederPort, true, strategy);
      return {
        seeder,
        seederReady: async () => seeder.ready,
        startLeecher: () => new WebTorrentPeer(`${name} leecher`, installDir, context.torrentFile, leecherDir, leecherPort, false, strategy),
        leecherFile: path.join(leecherDir, context.data.fileName),
      };
    },
  };
}

export const webTorrentRarestPair = webTorrentPair('WebTorrent rarest-first', 'rarest');
export const webTorrentSequentialPair = webTorrentPair('WebTorrent sequential', 'sequential');
