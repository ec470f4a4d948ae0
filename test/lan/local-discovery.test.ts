/**
 * Local service discovery (BEP 14, issue 17) between test hosts of a LAN (network namespaces on a
 * bridge), with no tracker reachable and no DHT: B, which has only the torrent, hears A announce
 * it on the multicast group and downloads it from A; a third host listening to the group hears
 * both announce the public torrent, and never A's private one.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeBencode, encodeBencode, isDict, type BencodeDict } from '../../src/io/bencode.js';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { setAnnounce } from '../../src/io/torrent-maker.js';
import { AGE_TORRENT, AGE_TXT, digest, fileDigest, folderArgs, makePeerFolders, removeFolders, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { canBuildLan, TestLan } from '../helpers/test-lan.js';

const lanAvailable = canBuildLan();
if (!lanAvailable && process.env.CI !== 'true') {
  console.warn('skipping the local discovery LAN test: it needs root and `ip netns` (in CI it fails instead)');
}
const describeLan = lanAvailable || process.env.CI === 'true' ? describe : describe.skip;

/** Inside each host, loopback's port 1: no tracker answers there. */
const NO_TRACKER = 'http://127.0.0.1:1/announce';
/** Announcements every 2 s (at most one a second) instead of BEP 14's 5 minutes, so that a lost one costs little. */
const FAST_LSD = { lsdAnnounceIntervalMs: 2_000, lsdMinPacketIntervalMs: 1_000 };

/**
 * Listens to BEP 14's group on the host's address (process.argv[1]) and prints each datagram
 * as one JSON line: its source and text.
 */
const LISTENER = `
const dgram = require('node:dgram');
const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (packet, from) => console.log(JSON.stringify({ from: from.address, text: packet.toString('latin1') })));
socket.bind(6771, '0.0.0.0', () => { socket.addMembership('239.192.152.143', process.argv[1]); console.log('listening'); });
`;

function madePrivate(torrent: Buffer): Buffer {
  const root = decodeBencode(torrent) as BencodeDict;
  const info = root['info'];
  if (!isDict(info)) throw new Error('the torrent has no info dictionary');
  return encodeBencode({ ...root, info: { ...info, private: 1 } });
}

describeLan('local service discovery on a LAN', () => {
  let lan: TestLan;
  const folders: PeerFolders[] = [];
  const peers: PeerProcess[] = [];
  let heard = '';
  let listener: ReturnType<TestLan['runScript']> | undefined;

  beforeAll(() => {
    if (!lanAvailable) throw new Error('the LAN suite needs root and `ip netns` (CI runs as root)');
    lan = new TestLan(['a', 'b', 'spy']);
    lan.build();
  });

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    listener?.kill('SIGKILL');
    lan?.destroy();
    await Promise.all(folders.map(removeFolders));
  });

  test('B finds A through A\'s announcements and downloads; the private torrent is never announced', async () => {
    const [a, b, spy] = lan.hosts;
    listener = lan.runScript(spy, LISTENER, [spy.address]);
    listener.stdout?.setEncoding('utf8').on('data', (text: string) => (heard += text));
    const deadline = Date.now() + 10_000;
    while (!heard.includes('listening')) {
      if (Date.now() > deadline) throw new Error(`the listener did not start: ${heard}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const torrent = setAnnounce(await readFile(AGE_TORRENT), NO_TRACKER);
    const privateTorrent = madePrivate(torrent);
    const publicHash = parseMetainfo(torrent).infoHashHex;
    const privateHash = parseMetainfo(privateTorrent).infoHashHex;
    const start = async (host: (typeof lan.hosts)[number], seed: boolean): Promise<{ peer: PeerProcess; dirs: PeerFolders }> => {
      const dirs = await makePeerFolders();
      folders.push(dirs);
      await writeFile(path.join(dirs.torrents, 'age.torrent'), torrent);
      if (seed) {
        await writeFile(path.join(dirs.torrents, 'age-private.torrent'), privateTorrent);
        await copyFile(AGE_TXT, path.join(dirs.shareable, 'age.txt'));
      }
      const peer = lan.startPeer(host, [...folderArgs(dirs, ['--no-dht']), '--workers', '1'], 6881, FAST_LSD);
      peers.push(peer);
      return { peer, dirs };
    };

    const seeder = await start(a, true);
    await seeder.peer.waitForStatus((s) => s.swarms.length === 2 && s.swarms.every((x) => x.role === 'seeder'), 30_000, 'A to seed both torrents');
    const leecher = await start(b, false);
    const done = await leecher.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 60_000, 'B to download age.txt from A');
    expect(await fileDigest(path.join(leecher.dirs.shareable, 'age.txt'))).toBe(digest(await readFile(AGE_TXT)));
    expect(done.swarms[0].knownFrom).toContainEqual({ address: `${a.address}:6881`, source: 'lsd' });
    expect(done.swarms[0].trackers.every((tracker) => tracker.status !== 'working')).toBe(true);

    const announcements = (): { from: string; text: string }[] =>
      heard
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { from: string; text: string });
    const announced = (host: string): boolean =>
      announcements().some((entry) => entry.from === host && entry.text.startsWith('BT-SEARCH * HTTP/1.1\r\n') && entry.text.includes(`Infohash: ${publicHash}\r\n`));
    // B, a seeder now, announces the torrent too (its first announcement may come after the download).
    const heardBoth = Date.now() + 10_000;
    while (!announced(a.address) || !announced(b.address)) {
      if (Date.now() > heardBoth) throw new Error(`the listener did not hear both hosts announce ${publicHash}:\n${heard}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(announcements().filter((entry) => entry.text.includes(privateHash))).toEqual([]);
  });
});
