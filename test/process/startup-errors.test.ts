/**
 * Bad start-up (bad arguments, a missing folder, a busy port): one clear line on stderr, a
 * non-zero exit, never a stack trace. A bad .torrent is not one: it is skipped.
 */
import { chmod, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { folderArgs, freePort, makePeerFolders, removeFolders, runCommand, runProgram, SHOAL, startPeer, type PeerFolders } from '../helpers/peer-process.js';

function expectOneCleanLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('start-up errors', () => {
  let dirs: PeerFolders;
  beforeEach(async () => {
    dirs = await makePeerFolders();
  });
  afterEach(async () => removeFolders(dirs));

  test('a busy port', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const { code, stderr } = await runCommand(SHOAL, ['--port', String(port), ...folderArgs(dirs)]);
      expect(code).not.toBe(0);
      expectOneCleanLine(stderr, new RegExp(`port ${port} is already in use`));
    } finally {
      blocker.close();
    }
  });

  test('a missing folder', async () => {
    const missing = path.join(dirs.root, 'nope');
    const { code, stderr } = await runCommand(SHOAL, ['--port', String(await freePort()), ...folderArgs(dirs), '--torrents', missing]);
    expect(code).not.toBe(0);
    expectOneCleanLine(stderr, /folder .*nope does not exist \(--torrents\)/);
  });

  test('a corrupt .torrent is no start-up error: one line names it and why, and the peer runs without it', async () => {
    await writeFile(path.join(dirs.torrents, 'broken.torrent'), 'd8:announce3:abc4:infod4:name');
    const port = await freePort();
    const peer = startPeer(folderArgs(dirs), port);
    try {
      // /status answers as soon as the port is taken, a moment before the start-up line.
      const started = (): boolean => peer.output.join('').includes('; dashboard at ');
      const status = await peer.waitForStatus((s) => s.skipped.length === 1 && started(), 20_000, 'the peer to start and list the bad torrent');
      expect(status.skipped).toEqual([{ file: 'broken.torrent', reason: expect.stringMatching(/^not a \.torrent file \(/) }]);
      const lines = peer.output.join('').split('\n').filter((line) => line.includes('broken.torrent'));
      expect(lines).toEqual([expect.stringMatching(new RegExp(` warn ${path.join(dirs.torrents, 'broken.torrent')} skipped: not a \\.torrent file \\(`))]);
      expect(peer.output.join('')).toMatch(new RegExp(`at [^ ]+:${port} \\(--port\\) with 0 torrent\\(s\\), 1 skipped; dashboard at `));
    } finally {
      expect(await peer.stop()).toBe(0);
    }
  });

  test('a cache folder that cannot be written', async () => {
    const args = ['--port', String(await freePort()), ...folderArgs(dirs)];
    // Root writes through a mode of 0555 (and CI runs as root): there the folder is a read-only
    // tmpfs, mounted in a mount namespace of the peer's own.
    const { code, stderr } =
      process.getuid?.() === 0
        ? await runProgram('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"', 'sh', dirs.cache, process.execPath, SHOAL, ...args], 60_000)
        : await chmod(dirs.cache, 0o555).then(() => runCommand(SHOAL, args));
    await chmod(dirs.cache, 0o755);
    expect(code).not.toBe(0);
    expectOneCleanLine(stderr, new RegExp(`cannot write in the folder ${dirs.cache} \\(--cache\\): .*\\((EROFS|EACCES)\\)`));
  });

  test('an unknown flag', async () => {
    const { code, stderr } = await runCommand(SHOAL, ['--frobnicate']);
    expect(code).not.toBe(0);
    expectOneCleanLine(stderr, /--frobnicate/);
  });

  test('a bad value', async () => {
    const { code, stderr } = await runCommand(SHOAL, ['--port', '70000']);
    expect(code).not.toBe(0);
    expectOneCleanLine(stderr, /--port must be between 1 and 65535/);
  });

  test('--help lists every option with its default', async () => {
    const { code, stdout } = await runCommand(SHOAL, ['--help']);
    expect(code).toBe(0);
    for (const flag of ['--workers', '--port', '--host', '--torrents', '--shareable', '--cache', '--upload-limit', '--download-limit', '--exit-when-done']) {
      expect(stdout).toContain(flag);
    }
  });
});
