/**
 * Whole swarms of real peer processes on loopback, in temporary folders, over generated data:
 * a seeder that is its torrent's announcer, and leechers that join it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { folderArgs, freePort, makePeerFolders, removeFolders, startPeer, type PeerFolders, type PeerProcess, type TestSettings } from './peer-process.js';

const MiB = 1024 * 1024;

/** Varied content: each MiB is a different random block. */
export function generatedContent(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += MiB) randomBytes(Math.min(MiB, size - at)).copy(out, at);
  return out;
}

export interface SwarmPeer {
  peer: PeerProcess;
  dirs: PeerFolders;
}

/** Keeps track of every process and folder a test made, and removes them all. */
export class SwarmFixture {
  private readonly peers: SwarmPeer[] = [];
  torrent: Buffer = Buffer.alloc(0);
  announcePort = 0;

  constructor(readonly name: string) {}

  /** Writes `data` to a seeder's shareable/, makes the torrent announcing to that seeder, starts it. */
  async startSeeder(data: Buffer, extraArgs: string[] = [], pieceLength = 256 * 1024, testSettings?: TestSettings): Promise<SwarmPeer> {
    this.announcePort = await freePort();
    const dirs = await makePeerFolders();
    const file = path.join(dirs.shareable, this.name);
    await writeFile(file, data);
    this.torrent = await createTorrent(file, { announce: `http://127.0.0.1:${this.announcePort}/announce`, pieceLength });
    await writeFile(path.join(dirs.torrents, `${this.name}.torrent`), this.torrent);
    return this.start(dirs, this.announcePort, extraArgs, testSettings);
  }

  /** A peer with the torrent and, when given, the data too (a second seeder). */
  async startPeer(extraArgs: string[] = [], data?: Buffer): Promise<SwarmPeer> {
    const dirs = await makePeerFolders();
    await writeFile(path.join(dirs.torrents, `${this.name}.torrent`), this.torrent);
    if (data) {
      await mkdir(dirs.shareable, { recursive: true });
      await writeFile(path.join(dirs.shareable, this.name), data);
    }
    return this.start(dirs, await freePort(), extraArgs);
  }

  private start(dirs: PeerFolders, port: number, extraArgs: string[], testSettings?: TestSettings): SwarmPeer {
    const peer = startPeer([...folderArgs(dirs), '--workers', '1', ...extraArgs], port, true, testSettings);
    const entry = { peer, dirs };
    this.peers.push(entry);
    return entry;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.peers.map(({ peer }) => peer.stop()));
    await Promise.all(this.peers.map(({ dirs }) => removeFolders(dirs)));
  }
}
