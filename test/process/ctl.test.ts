/**
 * Issue 18: `npm run ctl` drives a running peer (a process of our command line) through the
 * control API, with the token and port it finds in the peer's cache folder: list, add, pause,
 * resume, files, remove; and says what is wrong in one line when it cannot.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { findSwarm, parseCtl } from '../../src/main/cli/ctl.js';
import { AGE_TORRENT, AGE_TXT, copyInto, folderArgs, freePort, makePeerFolders, PROJECT_ROOT, removeFolders, runCommand, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';

const CTL = path.join(PROJECT_ROOT, 'dist', 'main', 'cli', 'ctl.js');
const OTHER = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';

let dirs: PeerFolders;
let peer: PeerProcess;
let ageHash = '';

beforeAll(async () => {
  dirs = await makePeerFolders('shoal-ctl-');
  const port = await freePort();
  await writeFile(path.join(dirs.torrents, 'age.torrent'), setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`));
  await copyInto(AGE_TXT, dirs.shareable);
  peer = startPeer([...folderArgs(dirs), '--workers', '1'], port);
  ageHash = (await peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the peer to seed age.txt')).swarms[0].infoHash;
});

afterAll(async () => {
  await peer?.stop();
  if (dirs) await removeFolders(dirs);
});

/** `npm run ctl -- ARGS` of the peer's folder: the token and the port come from its cache/. */
function ctl(...args: string[]) {
  return runCommand(CTL, ['--cache', dirs.cache, ...args]);
}

test('list, add, pause, resume, files and remove, each as one line of output; the port comes from cache/config.json', async () => {
  const listed = await ctl('list');
  expect(listed).toMatchObject({ code: 0, stderr: '' });
  expect(listed.stdout).toMatch(new RegExp(`^${ageHash}  seeder  21/21  age.txt$`, 'm'));

  const magnet = `magnet:?xt=urn:btih:${OTHER}&dn=Other`;
  const added = await ctl('add', magnet);
  expect(added).toMatchObject({ code: 0, stdout: `added Other.magnet\ninfo hash: ${OTHER}\n` });
  expect(await ctl('add', magnet)).toMatchObject({ code: 0, stdout: `already joined: ${OTHER}\n` });
  expect((await peer.status()).swarms.map((s) => s.infoHash).sort()).toEqual([OTHER, ageHash].sort());

  expect(await ctl('pause', 'age.txt')).toMatchObject({ code: 0, stdout: `paused: age.txt (${ageHash})\n` });
  expect((await peer.status()).swarms.find((s) => s.infoHash === ageHash)?.paused).toBe(true);
  expect((await ctl('list')).stdout).toMatch(new RegExp(`^${ageHash}  paused  21/21  age.txt$`, 'm'));
  expect(await ctl('resume', ageHash.slice(0, 8))).toMatchObject({ code: 0, stdout: `resumed: age.txt (${ageHash})\n` });
  expect((await peer.status()).swarms.find((s) => s.infoHash === ageHash)?.paused).toBe(false);

  const files = await ctl('files', 'age.txt');
  expect(files).toMatchObject({ code: 0 });
  expect(files.stdout).toBe(`age.txt (${ageHash})\n  1  normal 100%  1361768 bytes  age.txt\n`);
  const changed = await ctl('files', 'age.txt', '--priorities', 'high', '--sequential', 'on');
  expect(changed).toMatchObject({ code: 0, stdout: `age.txt (${ageHash}), sequential\n  1  high   100%  1361768 bytes  age.txt\n` });
  expect((await peer.status()).swarms.find((s) => s.infoHash === ageHash)).toMatchObject({ sequential: true, files: [{ path: 'age.txt', priority: 'high' }] });
  expect((await ctl('files', 'age.txt', '--priorities', 'high,skip')).stderr).toMatch(/^shoal ctl: files refused \(400\): "priorities" has 2 entries; the torrent has 1 files/);

  expect(await ctl('remove', OTHER)).toMatchObject({ code: 0, stdout: `removed Other.magnet; its data stays: Other (${OTHER})\n` });
  expect(await ctl('remove', 'age.txt')).toMatchObject({ code: 0, stdout: `removed age.torrent; its data stays: age.txt (${ageHash})\n` });
  expect((await peer.status()).swarms).toEqual([]);
  expect((await stat(path.join(dirs.shareable, 'age.txt'))).size).toBe(1361768);
}, 60_000);

test('what goes wrong is one line: no token in that cache folder, no peer at that port, an unknown torrent, bad arguments', async () => {
  const noToken = await runCommand(CTL, ['--cache', dirs.root, 'pause', 'age.txt']);
  expect(noToken).toMatchObject({ code: 1, stdout: '' });
  expect(noToken.stderr).toMatch(/^shoal ctl: .*api-token does not exist: start the peer once with this --cache to make it \(or give the peer's cache folder with --cache DIR\)\n$/);
  const noPeer = await ctl('--port', String(await freePort()), 'list');
  expect(noPeer.code).toBe(1);
  expect(noPeer.stderr).toMatch(/^shoal ctl: cannot reach the peer at 127\.0\.0\.1:\d+: .*is it running, and is --port right\?\n$/);
  const unknown = await ctl('pause', 'nothing-of-that-name');
  expect(unknown).toMatchObject({ code: 1, stderr: 'shoal ctl: no torrent of the peer is named or hashed "nothing-of-that-name" (npm run ctl -- list shows them)\n' });
  expect(await ctl('frobnicate')).toMatchObject({ code: 2, stderr: 'shoal ctl: unknown command "frobnicate"; expected add, pause, resume, remove, files or list (see npm run ctl -- --help)\n' });
  expect((await ctl('files', 'x', '--priorities', 'normal,urgent')).stderr).toContain('--priorities takes skip, normal, high separated by commas, got "urgent"');
  expect((await ctl('--help')).stdout).toContain('usage: npm run ctl -- [--cache DIR] [--host ADDR] [--port P] COMMAND');
});

test('a torrent is named by its hash, a unique start of it, or its name', () => {
  const swarms = [
    { infoHash: 'aaaa1111'.padEnd(40, '0'), name: 'one', role: 'seeder', have: 1, pieces: 1 },
    { infoHash: 'aaaa2222'.padEnd(40, '0'), name: 'two', role: 'leecher', have: 0, pieces: 1 },
  ];
  expect(findSwarm(swarms, 'aaaa1').name).toBe('one');
  expect(findSwarm(swarms, 'two').name).toBe('two');
  expect(() => findSwarm(swarms, 'aaaa')).toThrow(/names 2 torrents/);
  expect(parseCtl(['--cache', '/x', 'files', 'one', '--priorities', 'skip,high', '--sequential', 'on'])).toEqual({
    cache: '/x',
    host: '127.0.0.1',
    command: { kind: 'files', torrent: 'one', priorities: ['skip', 'high'], sequential: true },
  });
});
