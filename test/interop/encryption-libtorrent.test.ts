/**
 * Encrypted connections (MSE/PE, issue 19) with libtorrent-rasterbar 2.0 set to insist on them:
 * out_enc_policy and in_enc_policy pe_forced, allowed_enc_level pe_rc4 (lt-peer.py --encryption
 * forced), so that it neither accepts nor makes a plain connection and takes no plaintext payload.
 * Our peer runs with --encryption require, so neither side can fall back: a transfer at all means
 * RC4 both ways; our log says which method each handshake chose, and /status shows the
 * connection in RC4.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { AGE_TXT, LT_PEER, OURS_ENCRYPTED, oursWithAge, showsRc4Peer, type InteropSetup } from '../helpers/interop.js';
import { fileDigest, freePort, runProgram } from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools, pythonModuleAvailable } from '../helpers/require-tool.js';

const PYTHON = '/usr/bin/python3';
const missing = [...missingTools(['python3']), ...(pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent'])];

describeUnlessMissing(missing, ['python3-libtorrent'], 'encrypted connections with libtorrent (pe_forced, pe_rc4)', () => {
  let setup: InteropSetup | undefined;
  afterEach(async () => {
    await setup?.cleanup();
    setup = undefined;
  });

  test('libtorrent downloads age.txt from our seeder over RC4', async () => {
    setup = await oursWithAge(true, OURS_ENCRYPTED);
    const port = await freePort();
    const download = runProgram(PYTHON, [LT_PEER, setup.torrentFile, setup.theirDir, String(port), '--encryption', 'forced', '--timeout', '60'], 70_000);
    await showsRc4Peer(setup.ours, 30_000);
    const result = await download;
    expect(result.stdout).toContain(`done ${setup.meta.infoHashHex}`);
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(setup.theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
    expect(setup.ours.output.join('')).toMatch(/encrypted handshake from 127\.0\.0\.1:\d+: payload in rc4/);
  });

  test('our leecher downloads age.txt from a libtorrent seeder over RC4', async () => {
    setup = await oursWithAge(false, OURS_ENCRYPTED);
    const seeder = spawn(PYTHON, [LT_PEER, setup.torrentFile, setup.theirDir, String(await freePort()), '--seed', '--encryption', 'forced', '--timeout', '90'], { stdio: 'ignore' });
    try {
      await showsRc4Peer(setup.ours, 30_000);
      const done = await setup.ours.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'our leecher to complete from libtorrent');
      expect(done.swarms[0].downloaded).toBe(setup.meta.totalLength);
      expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
      expect(setup.ours.output.join('')).toMatch(/encrypted handshake (with|from) 127\.0\.0\.1:\d+: payload in rc4/);
    } finally {
      seeder.kill('SIGKILL');
    }
  });
});
