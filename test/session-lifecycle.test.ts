/**
 * A session in this process: after stop(), the worker pool's threads, the port and
 * every file descriptor are gone, so nothing keeps the process alive.
 */
import { readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setAnnounce } from '../src/io/metainfo.js';
import { parsePeerOptions } from '../src/main/cli/options.js';
import { createLogger } from '../src/main/logger.js';
import { Session } from '../src/main/session.js';
import { copyInto, freePort, makePeerFolders, PROJECT_ROOT, removeFolders } from './helpers/peer-process.js';

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

  const options = parsePeerOptions(['--port', String(port), '--workers', '3', ...['--torrents', dirs.torrents, '--shareable', dirs.shareable, '--cache', dirs.cache]]);
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
  const folderFlags = ['--workers', '1', '--torrents', dirs.torrents, '--shareable', dirs.shareable, '--cache', dirs.cache];
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
