/**
 * Transmission 3.00 (Debian's transmission-daemon) downloading from our seeder and its embedded
 * tracker. Transmission ignores peers in 127.0.0.0/8 and keeps one peer per address, so the two
 * run on test hosts of their own (network namespaces on a bridge); transmission-remote drives
 * the daemon over its RPC port inside its host.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AGE_TXT } from '../helpers/interop.js';
import { digest, fileDigest } from '../helpers/peer-process.js';
import { describeUnlessMissing } from '../helpers/require-tool.js';
import { startOurAgeSeeder, TRANSMISSION_MISSING, TransmissionDaemon, useTransmissionLan } from '../helpers/transmission-daemon.js';

describeUnlessMissing(TRANSMISSION_MISSING, ['transmission-daemon', 'root'], 'interoperability with Transmission', () => {
  const t = useTransmissionLan('shoal-transmission-');

  test('transmission-daemon downloads age.txt from our seeder, announcing to our tracker', async () => {
    const [, theirHost] = t.lan.hosts;
    const { ours, torrent } = await startOurAgeSeeder(t, []);

    const downloads = path.join(t.work, 'downloads');
    await mkdir(downloads);
    t.daemon = await TransmissionDaemon.start(theirHost, path.join(t.work, 'config'), downloads);
    t.daemon.remote('-a', torrent);
    await t.daemon.complete(1, 90_000, 'Transmission to complete');

    expect(await fileDigest(path.join(downloads, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    const status = await ours.status();
    expect(status.swarms[0].uploaded).toBeGreaterThanOrEqual(status.swarms[0].size);
    expect(status.swarms[0].known.some((address) => address.startsWith(`${theirHost.address}:`))).toBe(true);
  }, 180_000); // its own waits add up to 140 s: under load the default 60 s cut them short

  test('our peer downloads a new torrent that only transmission-daemon seeds, from the torrent dropped into torrents/', async () => {
    // Builds on the test above: our peer and the daemon are running. A new torrent, so that the
    // daemon has no memory of our address as a seed (it kept such an address choked when we tried).
    if (!t.ours || !t.oursDirs || !t.daemon) throw new Error('the first test did not leave our peer and Transmission running');
    const [ourHost] = t.lan.hosts;
    const data = randomBytes(3 * 1024 * 1024 + 1234);
    const torrent = await t.daemon.seedNewTorrent(path.join(t.work, 'downloads'), 'theirs.bin', data, `http://${ourHost.address}:6881/announce`, 2);

    await writeFile(path.join(t.oursDirs.torrents, 'theirs.torrent'), torrent);
    const done = await t.ours.waitForStatus((s) => s.swarms.some((swarm) => swarm.name === 'theirs.bin' && swarm.role === 'seeder'), 90_000, 'our peer to download it from Transmission');
    const swarm = done.swarms.find((entry) => entry.name === 'theirs.bin')!;
    expect(swarm.downloaded).toBe(data.length);
    expect(await fileDigest(path.join(t.oursDirs.shareable, 'theirs.bin'))).toBe(digest(data));
  }, 150_000);
});
