/**
 * A WebTorrent peer for `npm run bench`: one side of a WebTorrent reference pair.
 *
 * usage: node webtorrent-peer.mjs INSTALL_DIR TORRENT SAVE_DIR LISTEN_PORT --seed|--leech rarest|sequential
 *
 * INSTALL_DIR holds node_modules/webtorrent (2.8, installed by bench/webtorrent-pair.ts). Both
 * sides: TCP only on LISTEN_PORT (uTP off), no DHT, LSD, PEX, UPnP, NAT-PMP or web seeds (they talk
 * only to the torrent's HTTP tracker); WebRTC is stubbed out (bench/webtorrent-hooks.mjs). The
 * last argument is the torrent's piece selection strategy, which only a leecher uses.
 *
 * Prints `version V` first. The seeder checks SAVE_DIR's data, prints `ready` once it seeds, and
 * runs until SIGTERM or SIGINT. The leecher prints `progress BYTES` (payload received) whenever it
 * grew, checking every POLL_MS, then `complete` once every piece is verified and written, and exits
 * 0 once its client is closed. Errors and warnings are printed as `error MESSAGE` / `warning MESSAGE`.
 */
import { register } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const POLL_MS = 50;
const USAGE = 'usage: node webtorrent-peer.mjs INSTALL_DIR TORRENT SAVE_DIR LISTEN_PORT --seed|--leech rarest|sequential';

const [installDir, torrentFile, saveDir, port, side, strategy] = process.argv.slice(2);
if (!['--seed', '--leech'].includes(side) || !['rarest', 'sequential'].includes(strategy) || !(Number(port) > 0)) {
  console.error(USAGE);
  process.exit(2);
}
const seeding = side === '--seed';

register('./webtorrent-hooks.mjs', import.meta.url);
const packageDir = path.join(installDir, 'node_modules', 'webtorrent');
const { default: WebTorrent } = await import(pathToFileURL(path.join(packageDir, 'index.js')).href);
const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));
console.log(`version ${version}`);

const client = new WebTorrent({ torrentPort: Number(port), dht: false, lsd: false, utPex: false, utp: false, natUpnp: false, natPmp: false, webSeeds: false });
client.on('error', (err) => {
  console.log(`error ${err.message ?? err}`);
  process.exit(1);
});

let stopping = false;
/** Closes the client (its files with it), then exits. */
function stop(code) {
  if (stopping) return;
  stopping = true;
  client.destroy(() => process.exit(code));
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));

const torrent = client.add(await readFile(torrentFile), { path: saveDir, strategy });
torrent.on('warning', (err) => console.log(`warning ${err.message ?? err}`));
torrent.on('error', (err) => {
  console.log(`error ${err.message ?? err}`);
  process.exit(1);
});

if (seeding) {
  torrent.on('done', () => console.log('ready'));
} else {
  let reported = 0;
  const poll = setInterval(() => {
    if (torrent.received > reported) {
      reported = torrent.received;
      console.log(`progress ${reported}`);
    }
  }, POLL_MS);
  torrent.on('done', () => {
    clearInterval(poll);
    console.log(`progress ${torrent.received}`);
    console.log('complete');
    stop(0);
  });
}
