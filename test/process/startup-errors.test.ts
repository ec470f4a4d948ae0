/** Bad start-up: one clear line on stderr, a non-zero exit, never a stack trace. */
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { folderArgs, freePort, makePeerFolders, removeFolders, runCommand, SHOAL, type PeerFolders } from '../helpers/peer-process.js';

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

  test('a corrupt .torrent', async () => {
    await writeFile(path.join(dirs.torrents, 'broken.torrent'), 'd8:announce3:abc4:infod4:name');
    const { code, stderr } = await runCommand(SHOAL, ['--port', String(await freePort()), ...folderArgs(dirs)]);
    expect(code).not.toBe(0);
    expectOneCleanLine(stderr, /broken\.torrent/);
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
