/**
 * Whole swarms in this jest process (docs/architecture.md, Tests): each peer is a Session on a
 * port of its own, over real loopback sockets, in temporary folders of its own, with its settings
 * handed in as a value (shorter time-outs, say) and its log lines kept for failure messages. The
 * surface is that of the process fixtures (peer-process.ts, swarm-fixture.ts), so a test moves
 * from one to the other with few changes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMetainfo, type Metainfo } from '../../src/io/metainfo.js';
import { defaultSettings, withOverrides, type SettingOverrides } from '../../src/io/settings.js';
import { createTorrent, setAnnounce } from '../../src/io/torrent-maker.js';
import { parsePeerOptions } from '../../src/main/cli/options.js';
import { createLogger } from '../../src/main/logger.js';
import { Session, type StatusDocument } from '../../src/main/session.js';
import { AGE_TORRENT, AGE_TXT, copyInto, folderArgs, freePort, makePeerFolders, removeFolders, type PeerFolders } from './peer-process.js';

export { generatedContent } from './swarm-fixture.js';

/** Log lines kept per peer (the latest): enough to explain a failure, bounded for long swarms. */
const KEPT_LOG_LINES = 2_000;
/** Log lines shown in a failure message. */
const SHOWN_LOG_LINES = 200;
/** Gap between two reads of the status while waiting for a state. */
const POLL_MS = 10;

export interface InProcessPeerSetup {
  dirs: PeerFolders;
  port: number;
  /** Command-line arguments besides the folders and --port (--workers 1 comes first, so that these win). */
  args?: string[];
  /** The DHT and local discovery arguments: none of either (NO_DISCOVERY) unless given. */
  discovery?: string[];
  /** Settings replaced for this peer only. */
  settings?: SettingOverrides;
  /** Called when --exit-when-done is given and every torrent is complete (even during start()). */
  onAllComplete?: (peer: InProcessPeer) => void;
}

/** A peer in this process: a Session with its folders, its port and its collected log lines. */
export class InProcessPeer {
  /** The latest log lines of every session this peer ran, the debug level included. */
  readonly lines: string[] = [];
  readonly dirs: PeerFolders;
  readonly port: number;
  private session: Session;
  private stopped = false;

  private constructor(private readonly setup: InProcessPeerSetup, portFlag: boolean) {
    this.dirs = setup.dirs;
    this.port = setup.port;
    this.session = this.newSession(portFlag);
  }

  /** Starts a peer and waits for its start (folders read, port taken, every torrent joined). */
  static async start(setup: InProcessPeerSetup): Promise<InProcessPeer> {
    const peer = new InProcessPeer(setup, true);
    await peer.begin();
    return peer;
  }

  private newSession(portFlag: boolean): Session {
    const portArgs = portFlag ? ['--port', String(this.port)] : [];
    const options = parsePeerOptions([...folderArgs(this.dirs, this.setup.discovery), ...portArgs, '--workers', '1', ...(this.setup.args ?? [])]);
    const log = createLogger('verbose', (line) => {
      this.lines.push(line);
      if (this.lines.length > KEPT_LOG_LINES) this.lines.splice(0, this.lines.length - KEPT_LOG_LINES);
    });
    const settings = withOverrides(this.setup.settings ?? {}, defaultSettings);
    return new Session(options, log, { settings, onAllComplete: () => this.setup.onAllComplete?.(this) });
  }

  private async begin(): Promise<void> {
    this.stopped = false;
    try {
      await this.session.start();
    } catch (error) {
      await this.stop();
      throw new Error(`peer on port ${this.port} did not start: ${(error as Error).message}\n${this.output}`, { cause: error });
    }
  }

  /** Every kept log line, as one text. */
  get output(): string {
    return this.lines.join('');
  }

  /** Whether the session runs (started, and not stopped since). */
  get running(): boolean {
    return !this.stopped;
  }

  status(): StatusDocument {
    return this.session.status();
  }

  /** Waits until the status satisfies `predicate`; fails with the last status and the peer's log lines. */
  async waitForStatus(predicate: (status: StatusDocument) => boolean, timeoutMs: number, what: string): Promise<StatusDocument> {
    const deadline = Date.now() + timeoutMs;
    let last = this.status();
    while (!predicate(last)) {
      if (this.stopped || Date.now() >= deadline) {
        const why = this.stopped ? 'it was stopped while waiting' : `timed out after ${timeoutMs} ms`;
        const shown = this.lines.slice(-SHOWN_LOG_LINES).join('');
        throw new Error(`peer on port ${this.port}: ${why} for ${what}\nlast status: ${JSON.stringify(last)}\nlog:\n${shown}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      last = this.status();
    }
    return last;
  }

  /** Waits until a log line (of any of its sessions) matches `pattern`; fails with the peer's log lines. */
  async waitForLine(pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some((line) => pattern.test(line))) {
      if (Date.now() >= deadline) throw new Error(`peer on port ${this.port}: timed out after ${timeoutMs} ms for ${what}\nlog:\n${this.lines.slice(-SHOWN_LOG_LINES).join('')}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Stops the session cleanly (as SIGTERM does); idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.session.stop();
  }

  /**
   * Stops the session and starts a new one on the same folders, settings and arguments. With
   * `portFlag` false no --port is given, so the port must come from the configuration in cache/.
   */
  async restart(portFlag = true): Promise<StatusDocument> {
    await this.stop();
    this.lines.push(`--- restarted${portFlag ? '' : ' without --port'} ---\n`);
    this.session = this.newSession(portFlag);
    await this.begin();
    return this.status();
  }
}

/**
 * Keeps track of every peer and folder a test made, and stops and removes them all: a swarm of
 * in-process peers over one torrent (a seeder that is its announcer, then leechers), or any peers.
 */
export class InProcessSwarm {
  private readonly peers: InProcessPeer[] = [];
  private readonly folders: PeerFolders[] = [];
  torrent: Buffer = Buffer.alloc(0);
  announcePort = 0;

  constructor(readonly name = 'shared.bin') {}

  /** A fresh set of folders, removed by cleanup(). */
  async makeFolders(): Promise<PeerFolders> {
    const dirs = await makePeerFolders('shoal-swarm-');
    this.folders.push(dirs);
    return dirs;
  }

  /** Starts a peer on `dirs` (on a free port unless one is given); cleanup() stops it. */
  async start(dirs: PeerFolders, setup: Omit<InProcessPeerSetup, 'dirs' | 'port'> & { port?: number } = {}): Promise<InProcessPeer> {
    const port = setup.port ?? (await freePort());
    const peer = await InProcessPeer.start({ ...setup, dirs, port });
    this.peers.push(peer);
    return peer;
  }

  /** Writes `data` to a seeder's shareable/, makes the torrent announcing to that seeder, starts it. */
  async startSeeder(data: Buffer, args: string[] = [], pieceLength = 256 * 1024, settings?: SettingOverrides): Promise<InProcessPeer> {
    this.announcePort = await freePort();
    const dirs = await this.makeFolders();
    const file = path.join(dirs.shareable, this.name);
    await writeFile(file, data);
    this.torrent = await createTorrent(file, { announce: `http://127.0.0.1:${this.announcePort}/announce`, pieceLength });
    await writeFile(path.join(dirs.torrents, `${this.name}.torrent`), this.torrent);
    return this.start(dirs, { port: this.announcePort, args, settings });
  }

  /** Starts the announcer of age.txt's torrent (the shipped sample), seeding it or not. */
  async startAgeAnnouncer(seed: boolean, args: string[] = [], settings?: SettingOverrides): Promise<InProcessPeer> {
    this.announcePort = await freePort();
    const dirs = await this.makeFolders();
    this.torrent = setAnnounce(await readFile(AGE_TORRENT), `http://127.0.0.1:${this.announcePort}/announce`);
    await writeFile(path.join(dirs.torrents, `${this.name}.torrent`), this.torrent);
    if (seed) await copyInto(AGE_TXT, dirs.shareable);
    return this.start(dirs, { port: this.announcePort, args, settings });
  }

  /** The swarm's torrent, parsed. */
  get meta(): Metainfo {
    return parseMetainfo(this.torrent);
  }

  /** A peer with the torrent and, when given, the data too (a second seeder). */
  async startPeer(args: string[] = [], data?: Buffer, settings?: SettingOverrides): Promise<InProcessPeer> {
    const dirs = await this.makeFolders();
    await writeFile(path.join(dirs.torrents, `${this.name}.torrent`), this.torrent);
    if (data) {
      await mkdir(dirs.shareable, { recursive: true });
      await writeFile(path.join(dirs.shareable, this.name), data);
    }
    return this.start(dirs, { args, settings });
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.peers.splice(0).map((peer) => peer.stop()));
    await Promise.all(this.folders.splice(0).map(removeFolders));
  }
}
