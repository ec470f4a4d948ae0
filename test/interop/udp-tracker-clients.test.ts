/**
 * Other clients announcing to our UDP tracker (BEP 15) and downloading from us: our seeder of
 * age.txt is the announcer of a torrent whose only tracker is udp://127.0.0.1:<its port>/announce,
 * and aria2c, then libtorrent, each download it. Nothing else could tell them where we are: the
 * torrent names no other tracker, they are given no peer, and their DHT (aria2c's has no node to
 * start from), local discovery and peer exchange find nobody or are off. Each test checks both
 * sides: the client's own record of the UDP announce and of where it found us, and our tracker's
 * peer lists (the client's completed download, counted only from an announce).
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { AGE_TORRENT, AGE_TXT, LT_PEER } from '../helpers/interop.js';
import { fileDigest, freePort, runProgram } from '../helpers/peer-process.js';
import { describeUnlessMissing, describeWithTool, missingTools, pythonModuleAvailable } from '../helpers/require-tool.js';
import { scrapeOverHttp, withTrackers } from '../helpers/trackers.js';

const PYTHON = '/usr/bin/python3';

interface UdpAnnouncedSeeder {
  seeder: InProcessPeer;
  /** The torrent's only tracker: our seeder's UDP port. */
  url: string;
  infoHash: string;
  size: number;
  /** A folder for the other client: its copy of the torrent, its data, its log. */
  theirDir: string;
  torrentFile: string;
}

/** Our seeder of age.txt in this process, the announcer of its torrent at udp://127.0.0.1:<its port>/announce only. */
async function udpAnnouncedSeeder(swarm: InProcessSwarm): Promise<UdpAnnouncedSeeder> {
  const port = await freePort();
  const url = `udp://127.0.0.1:${port}/announce`;
  swarm.torrent = withTrackers(await readFile(AGE_TORRENT), url);
  const dirs = await swarm.makeFolders();
  await writeFile(path.join(dirs.torrents, 'age.torrent'), swarm.torrent);
  await copyFile(AGE_TXT, path.join(dirs.shareable, 'age.txt'));
  const seeder = await swarm.start(dirs, { port });
  expect(seeder.status().swarms[0]).toMatchObject({ role: 'seeder', announcer: true });
  const theirDir = (await swarm.makeFolders()).root;
  const torrentFile = path.join(theirDir, 'age.torrent');
  await writeFile(torrentFile, swarm.torrent);
  return { seeder, url, infoHash: swarm.meta.infoHashHex, size: swarm.meta.totalLength, theirDir, torrentFile };
}

/** How many downloads our seeder's tracker saw completed (event=completed announces), over its HTTP face. */
async function completedAt(seeder: InProcessPeer, infoHash: string): Promise<number | undefined> {
  return (await scrapeOverHttp(`http://127.0.0.1:${seeder.port}/announce`, infoHash))?.downloaded;
}

describeWithTool(['aria2c'], 'aria2c announcing to our UDP tracker', () => {
  const swarm = new InProcessSwarm('age.txt');
  afterEach(() => swarm.cleanup());

  test('aria2c finds our seeder through its UDP tracker alone and downloads age.txt from it', async () => {
    const { seeder, infoHash, size, theirDir, torrentFile } = await udpAnnouncedSeeder(swarm);
    const [listenPort, dhtPort] = [await freePort(), await freePort()];
    const logFile = path.join(theirDir, 'aria2.log');
    const args = [
      `--dir=${theirDir}`,
      `--listen-port=${listenPort}`,
      // aria2c announces to udp:// trackers only while its DHT is on; the DHT's socket carries them.
      '--enable-dht=true',
      `--dht-listen-port=${dhtPort}`,
      // A routing table of its own that does not exist, and no --dht-entry-point: its DHT knows no node.
      `--dht-file-path=${path.join(theirDir, 'dht.dat')}`,
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      // Seeding for 3 s after the download makes it announce event=completed before event=stopped.
      '--seed-time=0.05',
      // Gives up after 30 s without a byte instead of waiting for the test's time-out.
      '--bt-stop-timeout=30',
      `--log=${logFile}`,
      '--log-level=info',
      '--console-log-level=error',
      '--summary-interval=0',
      '--show-console-readout=false',
      torrentFile,
    ];
    const result = await runProgram('aria2c', args, 60_000);
    const log = await readFile(logFile, 'utf8').catch(() => '(no log)');
    const explain = `aria2c exited with ${result.code}\n${result.stdout}${result.stderr}\naria2c's log:\n${log}\nour seeder's log:\n${seeder.output}`;
    if (result.code !== 0) throw new Error(explain);
    expect(await fileDigest(path.join(theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));

    // aria2c's side: its DHT had nowhere to start, and our UDP tracker told it of one peer, us.
    expect(log).toContain('No DHT entry point specified');
    expect(log).toMatch(new RegExp(`UDPT received ANNOUNCE reply from 127\\.0\\.0\\.1:${seeder.port} [^\\n]*event=STARTED[^\\n]*num_peers=1\\b`));
    const announcedTo = [...log.matchAll(/UDPT sent \w+ to (\S+)/g)].map((match) => match[1]);
    expect(new Set(announcedTo)).toEqual(new Set([`127.0.0.1:${seeder.port}`]));

    // Ours: the tracker listed aria2c's listening port and counted its completed download.
    const status = seeder.status().swarms[0];
    expect(status.known).toContain(`127.0.0.1:${listenPort}`);
    expect(status.uploaded).toBeGreaterThanOrEqual(size);
    expect(await completedAt(seeder, infoHash)).toBe(1);
  }, 90_000);
});

const missingLibtorrent = [...missingTools(['python3']), ...(pythonModuleAvailable('libtorrent') ? [] : ['python3-libtorrent'])];

describeUnlessMissing(missingLibtorrent, ['python3-libtorrent'], 'libtorrent announcing to our UDP tracker', () => {
  const swarm = new InProcessSwarm('age.txt');
  afterEach(() => swarm.cleanup());

  test('libtorrent finds our seeder through its UDP tracker alone and downloads age.txt from it', async () => {
    const { seeder, url, infoHash, size, theirDir, torrentFile } = await udpAnnouncedSeeder(swarm);
    const port = await freePort();
    // DHT, LSD, UPnP, NAT-PMP and uTP are off in lt-peer.py; --linger keeps it 2 s after the download, for its event=completed.
    const result = await runProgram(PYTHON, [LT_PEER, torrentFile, theirDir, String(port), '--show-trackers', '--linger', '2', '--timeout', '30'], 40_000);
    const explain = `lt-peer.py exited with ${result.code}\n${result.stdout}${result.stderr}\nour seeder's log:\n${seeder.output}`;
    if (result.code !== 0 || !result.stdout.includes(`done ${infoHash}`)) throw new Error(explain);
    expect(await fileDigest(path.join(theirDir, 'age.txt'))).toBe(await fileDigest(AGE_TXT));

    // libtorrent's side: our UDP tracker answered with peers, and only then did it dial us, a peer
    // it was not given: with DHT and LSD off and no connection yet for PEX, the tracker named us.
    const lines = result.stdout.split('\n');
    const replied = lines.findIndex((line) => new RegExp(`^tracker reply ${url.replace(/[.]/g, '\\.')} peers [1-9]`).test(line));
    const dialled = lines.indexOf(`connect 127.0.0.1:${seeder.port} outgoing`);
    if (replied < 0 || dialled < replied) throw new Error(`expected a UDP tracker reply, then a connection to our seeder\n${explain}`);
    expect(lines.filter((line) => line.startsWith('tracker error'))).toEqual([]);
    expect(new Set(lines.filter((line) => line.startsWith('connect ') && line.endsWith(' outgoing')))).toEqual(new Set([`connect 127.0.0.1:${seeder.port} outgoing`]));
    for (const [, source] of result.stdout.matchAll(/^peer \S+ source (\S+)$/gm)) expect(source).toMatch(/^(tracker|incoming)(,(tracker|incoming))*$/);

    // Ours: the tracker listed libtorrent's listening port and counted its completed download.
    const status = seeder.status().swarms[0];
    expect(status.known).toContain(`127.0.0.1:${port}`);
    expect(status.uploaded).toBeGreaterThanOrEqual(size);
    expect(await completedAt(seeder, infoHash)).toBe(1);
  }, 60_000);
});
