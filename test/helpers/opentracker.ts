/**
 * opentracker (Debian's package, a 2021 snapshot) as a third-party tracker for tests, on
 * 127.0.0.1 only, serving HTTP and UDP (BEP 15) on one port number.
 *
 * What its Debian build needs (/work/shared/CLIENTS.md): it tracks only the info hashes of its
 * whitelist (`access.whitelist` in its config: hex hashes, one a line), and it will not keep
 * running as root: as root it chroots to `tracker.rootdir` and becomes `tracker.user` (nobody), so
 * the folder and its files must be readable by that user and the whitelist is named relative to
 * the folder; as any other user it only changes into the folder. Its log is kept for failure
 * messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './peer-process.js';
import { failureReason, httpGetBytes, percentEncoded, scrapeOverHttp, type ScrapeCounts } from './trackers.js';

/** How long opentracker may take to answer its first announce (whitelist loaded). */
const START_TIMEOUT_MS = 10_000;
/** Gap between two readiness probes. */
const PROBE_GAP_MS = 50;
/** How long a stop may take before the process is killed. */
const STOP_TIMEOUT_MS = 5_000;
/** Starts tried, each on a fresh port, when the port chosen was taken meanwhile. */
const START_ATTEMPTS = 3;
/** The user opentracker drops to when started as root (tracker.user). */
const TRACKER_USER = 'nobody';
/** The peer id of the readiness probe; its announce is withdrawn (event=stopped) once answered. */
const PROBE_PEER_ID = Buffer.from('-ZZ0000-shoalprobe00', 'latin1');

export class Opentracker {
  private readonly lines: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** Its folder: configuration and whitelist (its chroot when started as root). */
    readonly dir: string,
    readonly whitelist: readonly string[],
  ) {
    child.stdout?.setEncoding('utf8').on('data', (text: string) => this.lines.push(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => this.lines.push(text));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Starts opentracker tracking `infoHashesHex` (at least one) and waits until it answers an
   * announce for the first of them, which means its whitelist is loaded.
   */
  static async start(infoHashesHex: string[]): Promise<Opentracker> {
    if (infoHashesHex.length === 0) throw new Error('opentracker tracks whitelisted torrents only: give at least one info hash');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-opentracker-'));
    const config = path.join(dir, 'opentracker.conf');
    try {
      await writeFile(path.join(dir, 'whitelist'), infoHashesHex.map((hash) => `${hash.toLowerCase()}\n`).join(''));
      await writeFile(config, [`access.whitelist whitelist`, `tracker.rootdir ${dir}`, `tracker.user ${TRACKER_USER}`, ''].join('\n'));
      // Readable by the user it becomes as root; mkdtemp makes the folder 0700.
      await chmod(dir, 0o755);
      await chmod(path.join(dir, 'whitelist'), 0o644);
      await chmod(config, 0o644);
      const failures: string[] = [];
      for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        const port = await freePort();
        const child = spawn('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-f', config], {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const tracker = new Opentracker(child, port, dir, infoHashesHex);
        const ready = await tracker.waitUntilReady();
        if (ready === 'ready') return tracker;
        await tracker.kill();
        failures.push(`attempt ${attempt} on port ${port}: ${ready}\n${tracker.output}`);
        // Only a port taken between freePort() and the bind is worth another try.
        if (!/bind|address already in use/i.test(tracker.output)) break;
      }
      throw new Error(`opentracker did not start:\n${failures.join('\n')}`);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Its log (stdout and stderr) so far. */
  get output(): string {
    return this.lines.join('');
  }

  get httpAnnounceUrl(): string {
    return `http://127.0.0.1:${this.port}/announce`;
  }

  get udpAnnounceUrl(): string {
    return `udp://127.0.0.1:${this.port}/announce`;
  }

  /** Its counts for one torrent (HTTP scrape), undefined while it lists no peer of it. */
  scrape(infoHashHex: string): Promise<ScrapeCounts | undefined> {
    return scrapeOverHttp(this.httpAnnounceUrl, infoHashHex);
  }

  /** Stops it (SIGTERM, then SIGKILL after STOP_TIMEOUT_MS) and removes its folder; idempotent. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Announces a probe peer for the first whitelisted torrent until that succeeds, then withdraws it. */
  private async waitUntilReady(): Promise<'ready' | string> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const query = (event: string): string =>
      `${this.httpAnnounceUrl}?info_hash=${percentEncoded(Buffer.from(this.whitelist[0], 'hex'))}&peer_id=${percentEncoded(PROBE_PEER_ID)}` +
      `&port=1&uploaded=0&downloaded=0&left=0&numwant=0&compact=1&event=${event}`;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return `it exited (${this.child.exitCode ?? this.child.signalCode})`;
      try {
        const { status, body } = await httpGetBytes(query('started'), 1_000);
        const failure = failureReason(body);
        if (status === 200 && failure === undefined) {
          await httpGetBytes(query('stopped'), 1_000);
          return 'ready';
        }
        // Its whitelist is read by a thread of its own: "not authorized" until that is done.
        last = `answered ${status}: ${failure ?? body.toString('latin1')}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
    return `no successful announce within ${START_TIMEOUT_MS} ms (last: ${last})`;
  }
}
