/**
 * Encrypted connections (MSE/PE, issue 19) with Transmission 3.00 set to require them
 * (`"encryption": 2` in its settings.json) and our peer under --encryption require: neither side
 * takes a plain handshake or a plaintext payload, so a transfer at all means RC4, and our /status
 * must say so. As in interop-transmission.test.ts, each runs on a test host of its own (network
 * namespaces: Transmission ignores loopback peers). Our upload and download limits keep each
 * transfer going for a few seconds, long enough for /status to be read while the peer is
 * connected (a finished peer is dropped: both sides seed).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AGE_TXT } from '../helpers/interop.js';
import { digest, fileDigest, type StatusDocument } from '../helpers/peer-process.js';
import { describeUnlessMissing } from '../helpers/require-tool.js';
import type { LanHost } from '../helpers/test-lan.js';
import { startOurAgeSeeder, TRANSMISSION_MISSING, TransmissionDaemon, useTransmissionLan } from '../helpers/transmission-daemon.js';

/** Transmission's `encryption` setting: 0 tolerated, 1 preferred, 2 required. */
const TRANSMISSION_REQUIRED = 2;

/** Whether our /status shows, in the swarm named `name`, a connection to `host` with its payload in RC4. */
function encryptedPeerShown(status: StatusDocument, name: string, host: LanHost): boolean {
  const peers = status.swarms.find((swarm) => swarm.name === name)?.peers ?? [];
  return peers.some((peer) => peer.address.startsWith(`${host.address}:`) && peer.encryption === 'rc4');
}

describeUnlessMissing(TRANSMISSION_MISSING, ['transmission-daemon', 'root'], 'encrypted connections with Transmission (encryption required)', () => {
  const t = useTransmissionLan('shoal-transmission-mse-');

  test('transmission-daemon downloads age.txt from our seeder over RC4, and our /status shows it encrypted', async () => {
    const [, theirHost] = t.lan.hosts;
    const { ours, torrent } = await startOurAgeSeeder(t, ['--encryption', 'require', '--upload-limit', '512k', '--download-limit', '512k', '--verbose']);

    const downloads = path.join(t.work, 'downloads');
    await mkdir(downloads);
    t.daemon = await TransmissionDaemon.start(theirHost, path.join(t.work, 'config'), downloads, { encryption: TRANSMISSION_REQUIRED });
    expect(t.daemon.remote('-si')).toMatch(/Encryption: required/);
    t.daemon.remote('-a', torrent);
    await ours.waitForStatus((s) => encryptedPeerShown(s, 'age.txt', theirHost), 60_000, 'Transmission connected over RC4');
    await t.daemon.complete(1, 60_000, 'Transmission to complete');

    expect(await fileDigest(path.join(downloads, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    const [swarm] = (await ours.status()).swarms;
    expect(swarm.uploaded).toBeGreaterThanOrEqual(swarm.size);
    expect(ours.output.join('')).toMatch(new RegExp(`encrypted handshake (from|with) ${theirHost.address.replaceAll('.', '\\.')}:\\d+: payload in rc4`));
  }, 150_000);

  test('our leecher downloads a torrent that only transmission-daemon seeds, over RC4', async () => {
    // Builds on the test above: our peer (under require) and the daemon (required) are running.
    if (!t.ours || !t.oursDirs || !t.daemon) throw new Error('the first test did not leave our peer and Transmission running');
    const [ourHost, theirHost] = t.lan.hosts;
    const data = randomBytes(1024 * 1024 + 1234);
    const torrent = await t.daemon.seedNewTorrent(path.join(t.work, 'downloads'), 'theirs.bin', data, `http://${ourHost.address}:6881/announce`, 2);

    await writeFile(path.join(t.oursDirs.torrents, 'theirs.torrent'), torrent);
    await t.ours.waitForStatus((s) => encryptedPeerShown(s, 'theirs.bin', theirHost), 60_000, 'a connection to Transmission over RC4 for theirs.bin');
    const done = await t.ours.waitForStatus((s) => s.swarms.some((swarm) => swarm.name === 'theirs.bin' && swarm.role === 'seeder'), 60_000, 'our peer to download it from Transmission');
    expect(done.swarms.find((swarm) => swarm.name === 'theirs.bin')!.downloaded).toBe(data.length);
    expect(await fileDigest(path.join(t.oursDirs.shareable, 'theirs.bin'))).toBe(digest(data));
  }, 120_000);
});
