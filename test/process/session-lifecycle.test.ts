/**
 * A session in this process: after stop(), the worker pool's threads, the port and
 * every file descriptor are gone, so nothing keeps the process alive.
 */
import { readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { parsePeerOptions } from '../../src/main/cli/options.js';
import { createLogger } from '../../src/main/logger.js';
import { Session } from '../../src/main/session.js';
import { AGE_TORRENT, AGE_TXT, copyInto, folderArgs, freePort, makePeerFolders, PROJECT_ROOT, removeFolders, startPeer, type PeerProcess } from '../helpers/peer-process.js';

/** Open handles of one kind that keep the event loop alive (TCPServerWrap, TCPSocketWrap, Timeout...). */
function liveHandles(kind: string): number {
  return process.getActiveResourcesInfo().filter((k) => k === kind).length;
}

const count = async (folder: string): Promise<number> => (await readdir(folder)).length;

/**
 * Open descriptors, less libuv's inotify descriptor: the first fs.watch of a process opens it
 * for the life of the event loop (watchers come and go on it), so it is not a leak.
 */
async function descriptors(): Promise<number> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target !== 'anon_inode:inotify').length;
}

/** Polls `read` until it gives `expected`, within a bound (threads take a moment to exit). */
async function settlesTo(read: () => Promise<number>, expected: number, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

test('stop() ends the pool threads and releases the port and every descriptor', async () => {
  const dirs = await makePeerFolders();
  const port = await freePort();
  const torrent = setAnnounce(await readFile(path.join(PROJECT_ROOT, 'torrents', 'age.torrent')), `http://127.0.0.1:${port}/announce`);
  await writeFile(path.join(dirs.torrents, 'age.torrent'), torrent);
  await copyInto(path.join(PROJECT_ROOT, 'shareable', 'age.txt'), dirs.shareable);
  const serversBefore = liveHandles('TCPServerWrap');
  const socketsBefore = liveHandles('TCPSocketWrap');
  const threadsBefore = await count('/proc/self/task');
  const descriptorsBefore = await descriptors();

  const options = parsePeerOptions(['--port', String(port), '--workers', '3', ...folderArgs(dirs)]);
  const session = new Session(options, createLogger('quiet', () => undefined));
  await session.start();
  expect(session.status()).toMatchObject({ workers: 3, swarms: [{ role: 'seeder' }] });
  expect(liveHandles('TCPServerWrap')).toBe(serversBefore + 1);
  expect(await count('/proc/self/task')).toBeGreaterThanOrEqual(threadsBefore + 3);

  await session.stop();
  expect(await settlesTo(async () => liveHandles('TCPServerWrap'), serversBefore)).toBe(serversBefore);
  expect(liveHandles('TCPSocketWrap')).toBe(socketsBefore);
  expect(await settlesTo(() => count('/proc/self/task'), threadsBefore)).toBe(threadsBefore);
  expect(await settlesTo(descriptors, descriptorsBefore)).toBe(descriptorsBefore);
  await removeFolders(dirs);
});

test('a restarted session keeps its peer id, its port and its known peers (cache/config.json)', async () => {
  const dirs = await makePeerFolders();
  const port = await freePort();
  // The torrent's tracker is dead: known peers can only come from the saved configuration.
  const torrent = setAnnounce(await readFile(path.join(PROJECT_ROOT, 'torrents', 'age.torrent')), 'http://127.0.0.1:1/announce');
  await writeFile(path.join(dirs.torrents, 'age.torrent'), torrent);
  const folderFlags = ['--workers', '1', ...folderArgs(dirs)];
  const quiet = createLogger('quiet', () => undefined);

  const first = new Session(parsePeerOptions(['--port', String(port), ...folderFlags]), quiet);
  await first.start();
  const { peerId, swarms } = first.status();
  await first.stop();
  const config = JSON.parse(await readFile(path.join(dirs.cache, 'config.json'), 'utf8'));
  expect(config).toMatchObject({ peerId, port });
  config.known[swarms[0].infoHash] = ['127.0.0.9:7000', '127.0.0.10:7001'];
  await writeFile(path.join(dirs.cache, 'config.json'), JSON.stringify(config));

  const second = new Session(parsePeerOptions(folderFlags), quiet);
  await second.start();
  const status = second.status();
  await second.stop();
  expect(status).toMatchObject({ peerId, port });
  expect(status.swarms[0].known).toEqual(expect.arrayContaining(['127.0.0.9:7000', '127.0.0.10:7001']));
  await removeFolders(dirs);
});

test('a peer killed after a fast resume is not fast-resumed again: the run marker says the stop was unclean', async () => {
  const dirs = await makePeerFolders();
  const port = await freePort();
  await copyInto(AGE_TORRENT, dirs.torrents);
  await copyInto(AGE_TXT, dirs.shareable);
  const marker = path.join(dirs.cache, 'running.json');
  const run = async (): Promise<{ peer: PeerProcess; startedFrom: string; infoHash: string }> => {
    const peer = startPeer([...folderArgs(dirs), '--workers', '1'], port);
    const status = await peer.waitForStatus((s) => s.swarms.length === 1, 20_000, 'the seeder to join');
    return { peer, startedFrom: status.swarms[0].startedFrom as string, infoHash: status.swarms[0].infoHash };
  };
  try {
    const first = await run();
    expect(first.startedFrom).toBe('checked');
    expect(await first.peer.stop('SIGTERM')).toBe(0);
    await expect(stat(marker)).rejects.toThrow();
    const second = await run();
    expect(second.startedFrom).toBe('fast');
    await stat(marker);
    await second.peer.stop('SIGKILL');
    // The torrent's own resume data still says "clean stop" (a fast resume saves nothing): only
    // the marker left behind tells the next start not to trust it blindly.
    expect(JSON.parse(await readFile(path.join(dirs.cache, first.infoHash, 'resume.json'), 'utf8')).cleanStop).toBe(true);
    const third = await run();
    expect(third.startedFrom).toBe('after-crash');
    expect(await third.peer.stop('SIGTERM')).toBe(0);
    await expect(stat(marker)).rejects.toThrow();
  } finally {
    await removeFolders(dirs);
  }
}, 90_000);
