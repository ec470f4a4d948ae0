/**
 * The libtorrent reference pair: two processes of bench/libtorrent-peer.py (libtorrent-rasterbar
 * through Debian's python3-libtorrent), TCP only on loopback, the seeder with libtorrent's
 * high-performance seed preset.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DriverPeer } from './driver-peer.js';
import { firstLine, loopback, type PairContext, type PairProcesses, type ReferencePair } from './reference-pair.js';
import { freePort } from './transfer.js';

/** Debian's python: a python3 from elsewhere on PATH may lack the module. */
const PYTHON = '/usr/bin/python3';
/** Beside the sources: this runs from dist-bench/bench/. */
const DRIVER = fileURLToPath(new URL('../../bench/libtorrent-peer.py', import.meta.url));

/** One side, as the driver reports it on its standard output. */
function libtorrentPeer(label: string, torrentFile: string, saveDir: string, port: number, seeding: boolean): DriverPeer {
  return new DriverPeer(label, PYTHON, [DRIVER, torrentFile, saveDir, String(port), seeding ? '--seed' : '--leech'], seeding);
}

async function start(context: PairContext): Promise<PairProcesses> {
  const leecherDir = await context.folder('libtorrent-leecher');
  const [seederPort, leecherPort] = [await freePort(), await freePort()];
  const seeder = libtorrentPeer('libtorrent seeder', context.torrentFile, context.data.dataDir, seederPort, true);
  return {
    seeder,
    seederReady: async () => seeder.ready,
    startLeecher: () => libtorrentPeer('libtorrent leecher', context.torrentFile, leecherDir, leecherPort, false),
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
