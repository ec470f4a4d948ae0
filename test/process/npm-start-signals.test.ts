/**
 * `npm start` hands SIGINT and SIGTERM to the peer, which stops cleanly (issue 21). npm forwards
 * both signals to the child it ran the script in; the script `exec`s node, so that child is the
 * peer itself and not a shell that would die alone (SIGTERM, leaving the peer orphaned on its port)
 * or ignore the signal (SIGINT). Ctrl-C on a terminal reaches the whole process group, so the peer
 * gets it twice, from the terminal and from npm, and must still stop cleanly once.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { runMarkerFile } from '../../src/io/run-marker.js';
import { AGE_TORRENT, AGE_TXT, copyInto, folderArgs, freePort, makePeerFolders, PeerProcess, PROJECT_ROOT, removeFolders, type PeerFolders } from '../helpers/peer-process.js';

/** Rejects when `promise` has not settled within `timeoutMs`. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a new server can listen on the port on every address, as the peer did. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

let dirs: PeerFolders;
let npm: PeerProcess | undefined;

beforeEach(async () => {
  dirs = await makePeerFolders('shoal-npm-start-');
});

afterEach(async () => {
  // npm runs in a process group of its own: whatever a failed test left behind (npm, a shell, an
  // orphaned peer) goes with the group.
  if (npm?.child.pid !== undefined) {
    try {
      process.kill(-npm.child.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  }
  npm = undefined;
  await removeFolders(dirs);
});

/** `npm start` seeding the age sample on a free port, once its /status answers; and the peer's pid. */
async function startWithNpm(): Promise<{ npm: PeerProcess; peerPid: number }> {
  const port = await freePort();
  await writeFile(path.join(dirs.torrents, 'age.torrent'), setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${port}/announce`));
  await copyInto(AGE_TXT, dirs.shareable);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is none of the peer's business
  const child = spawn('npm', ['start', '--', '--port', String(port), '--workers', '1', ...folderArgs(dirs)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env,
  });
  npm = new PeerProcess(child, port);
  await npm.waitForStatus((status) => status.swarms.length === 1, 30_000, 'the seeder to join');
  const { pid } = JSON.parse(await readFile(runMarkerFile(dirs.cache), 'utf8')) as { pid: number };
  expect(pid).not.toBe(child.pid);
  return { npm, peerPid: pid };
}

/** After the signal: npm exits 0, the peer with it, having stopped cleanly, and the port is free. */
async function expectCleanStop(peer: { npm: PeerProcess; peerPid: number }, signal: NodeJS.Signals): Promise<void> {
  const exit = await within(peer.npm.exited, 15_000, `npm to exit after ${signal}`).catch((error: Error) => {
    throw new Error(`${error.message}\noutput:\n${peer.npm.output.join('')}`);
  });
  const output = peer.npm.output.join('');
  expect({ exit, peerAlive: isAlive(peer.peerPid) }).toEqual({ exit: { code: 0, signal: null }, peerAlive: false });
  expect(await portIsFree(peer.npm.port)).toBe(true);
  await expect(stat(runMarkerFile(dirs.cache))).rejects.toMatchObject({ code: 'ENOENT' });
  expect(output.split(`${signal}: stopping`)).toHaveLength(2);
}

describe('npm start', () => {
  test('SIGTERM to npm stops the peer cleanly and frees its port', async () => {
    const peer = await startWithNpm();
    process.kill(peer.npm.child.pid!, 'SIGTERM');
    await expectCleanStop(peer, 'SIGTERM');
  });

  test('SIGINT to npm stops the peer cleanly and frees its port', async () => {
    const peer = await startWithNpm();
    process.kill(peer.npm.child.pid!, 'SIGINT');
    await expectCleanStop(peer, 'SIGINT');
  });

  test('Ctrl-C (SIGINT to the whole process group) stops the peer once, cleanly', async () => {
    const peer = await startWithNpm();
    process.kill(-peer.npm.child.pid!, 'SIGINT');
    await expectCleanStop(peer, 'SIGINT');
  });
});
