/**
 * The WebTorrent reference pairs: two processes of bench/webtorrent-peer.mjs (WebTorrent 2.8,
 * installed on demand by bench/webtorrent-install.ts), TCP only on loopback, once with the
 * leecher picking the rarest piece first and once with WebTorrent's default, sequential order.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DriverPeer } from './driver-peer.js';
import { loopback, type PairContext, type PairProcesses, type ReferencePair } from './reference-pair.js';
import { freePort } from './transfer.js';
import { installWebTorrent } from './webtorrent-install.js';

/** WebTorrent's piece selection strategies (its torrent option `strategy`). */
type Strategy = 'rarest' | 'sequential';

/** Beside the sources: this runs from dist-bench/bench/. */
const DRIVER = fileURLToPath(new URL('../../bench/webtorrent-peer.mjs', import.meta.url));

/** One side, as webtorrent-peer.mjs reports it on its standard output. */
function webTorrentPeer(label: string, installDir: string, torrentFile: string, saveDir: string, port: number, seeding: boolean, strategy: Strategy): DriverPeer {
  return new DriverPeer(label, process.execPath, [DRIVER, installDir, torrentFile, saveDir, String(port), seeding ? '--seed' : '--leech', strategy], seeding);
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
      const seeder = webTorrentPeer(`${name} seeder`, installDir, context.torrentFile, context.data.dataDir, seederPort, true, strategy);
      return {
        seeder,
        seederReady: async () => seeder.ready,
        startLeecher: () => webTorrentPeer(`${name} leecher`, installDir, context.torrentFile, leecherDir, leecherPort, false, strategy),
        leecherFile: path.join(leecherDir, context.data.fileName),
      };
    },
  };
}

export const webTorrentRarestPair = webTorrentPair('WebTorrent rarest-first', 'rarest');
export const webTorrentSequentialPair = webTorrentPair('WebTorrent sequential', 'sequential');
