/**
 * The Fast extension (BEP 6) with libtorrent-rasterbar 2.0 (Debian's python3-libtorrent), over
 * TCP: what libtorrent's own peer log and peer flags say it negotiated with our peer, both ways.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { allowedFastSet } from '../../src/main/swarm/allowed-fast.js';
import { AGE_TXT, LT_PEER, oursWithAge, type InteropSetup } from '../helpers/interop.js';
import { fileDigest, freePort, runProgram } from '../helpers/peer-process.js';
import { describeUnlessMissing, missingTools, pythonModuleAvailable } from '../helpers/require-tool.js';

const PYTHON = '/usr/bin/python3';
const missing = [...missingTools(['python3']), ...(pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent'])];

describeUnlessMissing(missing, ['python3-libtorrent'], 'the Fast extension with libtorrent', () => {
  let setup: InteropSetup | undefined;
  afterEach(async () => {
    await setup?.cleanup();
    setup = undefined;
  });

  test('libtorrent sees our seeder speak BEP 6, takes its HAVE_ALL (a seed, by its flags) and ALLOWED_FAST, and downloads age.txt identical', async () => {
    setup = await oursWithAge(true);
    const port = await freePort();
    const args = [LT_PEER, setup.torrentFile, setup.theirDir, String(port), '--timeout', '60', '--show-fast'];
    const result = await runProgram(PYTHON, args, 70_000);
    expect(result.stdout).toContain(`done ${setup.meta.infoHashHex}`);
    const ours = `127.0.0.1:${setup.ours.port}`;
    const lines = result.stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^fast ${ours} <== EXTENSIONS .*FAST extension`)));
    expect(lines).toContain(`fast ${ours} <== HAVE_ALL [  ]`);
    expect(lines).toContain(`peer ${ours} seed`);
    const offered = lines.flatMap((line) => /^fast \S+ <== ALLOWED_FAST \[ (\d+) \]$/.exec(line)?.[1] ?? []).map(Number);
    expect(offered).toEqual(allowedFastSet('127.0.0.1', setup.meta.infoHash, setup.meta.pieceCount, 10));
    expect(lines.filter((line) => /<== BITFIELD|<== REJECT_PIECE/.test(line))).toEqual([]);
    expect(result.code).toBe(0);
    expect(await fileDigest(path.join(setup.theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
  });

  test("our leecher completes from a libtorrent seeder that greets it with HAVE_ALL over a Fast connection", async () => {
    setup = await oursWithAge(false);
    const port = await freePort();
    const seeder = spawn(PYTHON, [LT_PEER, setup.torrentFile, setup.theirDir, String(port), '--seed', '--timeout', '90', '--show-fast'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let said = '';
    seeder.stdout.setEncoding('utf8').on('data', (text: string) => (said += text));
    try {
      const done = await setup.ours.waitForStatus((s) => s.swarms[0].role === 'seeder', 60_000, 'our leecher to complete from libtorrent');
      expect(done.swarms[0].downloaded).toBe(setup.meta.totalLength);
      expect(await fileDigest(path.join(setup.oursDirs.shareable, 'age.txt'))).toBe(await fileDigest(AGE_TXT));
      expect(said).toMatch(/^fast 127\.0\.0\.1:\d+ <== EXTENSIONS .*FAST extension/m);
      expect(said).toMatch(/^fast 127\.0\.0\.1:\d+ ==> HAVE_ALL /m);
    } finally {
      seeder.kill('SIGKILL');
    }
  });
});
