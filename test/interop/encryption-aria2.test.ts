/**
 * Encrypted connections (MSE/PE, issue 19) with aria2c insisting on them
 * (--bt-require-crypto=true --bt-min-crypto-level=arc4) and our peer under --encryption require:
 * neither side can fall back; our log says which method each handshake chose, and /status shows
 * the connection in RC4.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { AGE_TXT, OURS_ENCRYPTED, oursWithAge, showsRc4Peer, type InteropSetup } from '../helpers/interop.js';
import { fileDigest, freePort, runProgram } from '../helpers/peer-process.js';
import { describeWithTool } from '../helpers/require-tool.js';

/** aria2c talking only to the tracker in the torrent, over RC4 only. */
const ARIA = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--console-log-level=warn', '--summary-interval=0', '--bt-require-crypto=true', '--bt-min-crypto-level=arc4'];

describeWithTool(['aria2c'], 'encrypted connections with aria2c (--bt-require-crypto, arc4)', () => {
  let setup: InteropSetup | undefined;
  afterEach(async () => {
    await setup?.cleanup();
    setup = undefined;
  });

  test('aria2c downloads age.txt from our seeder over RC4', async () => {
    setup = await oursWithAge(true, OURS_ENCRYPTED);
    const port = await freePort();
    const download = runProgram('aria2c', [`--dir=${setup.theirDir}`, '--seed-time=0', `--listen-port=${port}`, ...ARIA, setup.torrentFile], 60_000);
    await showsRc4Peer(setup.ours, 30_000);
    const result = await download;
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(setup.theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    expect(setup.ours.output.join('')).toMatch(/encrypted handshake from 127\.0\.0\.1:\d+: payload in rc4/);
  });

  test('our leecher downloads age.txt from an aria2c seeder over RC4', async () => {
    setup = await oursWithAge(false, OURS_ENCRYPTED);
    const aria = spawn('aria2c', [`--dir=${setup.theirDir}`, '--seed-ratio=0.0', '--check-integrity=true', `--listen-port=${await freePort()}`, ...ARIA, setup.torrentFile], { stdio: 'ignore' });
    try {
      await showsRc4Peer(setup.ours, 30_000);
      const done = await setup.ours.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'our leecher to complete from aria2c');
      expect(done.swarms[0].downloaded).toBe(done.swarms[0].size);
      expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
      expect(setup.ours.output.join('')).toMatch(/encrypted handshake (with|from) 127\.0\.0\.1:\d+: payload in rc4/);
    } finally {
      aria.kill('SIGKILL');
    }
  });
});
