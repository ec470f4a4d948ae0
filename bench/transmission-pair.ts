/**
 * The Transmission reference pair: two transmission-daemon processes, driven and read through
 * their RPC. Transmission ignores peers in 127.0.0.0/8 and keeps one peer per address, so the
 * pair runs in a network namespace of its own with two addresses, one per side; their traffic
 * still goes through that namespace's loopback. A veth link joins it to ours, where the pair's
 * tracker listens and from where both RPC ports are reached. Needs root.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { firstLine, type PairContext, type PairNetwork, type PairProcesses, type ReferencePair } from './reference-pair.js';
import { SampledProcess, type Progress } from './sampled-process.js';

const RPC_PORT = 9091;
/** One port per side: a daemon also listens on the IPv6 wildcard address, which both sides share. */
const PEER_PORTS = { seeder: 51413, leecher: 51414 };
/** Bound on one RPC call: a busy daemon answers within it, and a missed sample is retried at the next one. */
const RPC_TIMEOUT_MS = 2_000;
/** Transmission's torrent status codes (RPC spec). */
const STATUS = { stopped: 0, seeding: 6 } as const;
/** Its torrent error codes 1 and 2 are the tracker's warnings and errors; 3 is a local error (the disk). */
const LOCAL_ERROR = 3;
const TORRENT_FIELDS = ['id', 'status', 'percentDone', 'leftUntilDone', 'sizeWhenDone', 'downloadedEver', 'error', 'errorString'];

interface TorrentState {
  id: number;
  status: number;
  percentDone: number;
  leftUntilDone: number;
  sizeWhenDone: number;
  downloadedEver: number;
  error: number;
  errorString: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The pair's network namespace, its two addresses, and the veth link to ours. */
interface NamespaceNetwork extends PairNetwork {
  namespace: string;
  seederAddress: string;
  leecherAddress: string;
}

/** Namespaces made and not yet removed, for the runner's signal handler. */
const made = new Set<() => void>();

/** Removes every namespace still there (synchronously: for a signal handler). */
export function destroyNamespaces(): void {
  for (const destroy of made) destroy();
}

function buildNamespace(): NamespaceNetwork {
  // Unique per run, short enough for interface names (15 characters at most).
  const tag = (process.pid % 10000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
  const namespace = `shoal-bench-${tag}`;
  const outside = `shbo${tag}`;
  const inside = `shbi${tag}`;
  const subnet = `10.233.${process.pid % 250}`;
  const network = { namespace, trackerHost: `${subnet}.254`, seederAddress: `${subnet}.1`, leecherAddress: `${subnet}.2` };
  const destroy = (): void => {
    made.delete(destroy);
    // Removing the namespace removes the veth pair with it; the outside end goes too if the namespace never got its side.
    for (const args of [['netns', 'del', namespace], ['link', 'del', outside]]) {
      try {
        ip(...args);
      } catch {
        // Never made, or already gone.
      }
    }
  };
  made.add(destroy);
  try {
    ip('netns', 'add', namespace);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', namespace);
    ip('addr', 'add', `${network.trackerHost}/24`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    for (const address of [network.seederAddress, network.leecherAddress]) ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside);
    ip('-n', namespace, 'link', 'set', inside, 'up');
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
  } catch (err) {
    destroy();
    throw new Error(`could not build the network namespace for Transmission: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`);
  }
  return { ...network, close: async () => destroy() };
}

/** One transmission-daemon in the namespace, bound to `address`, with one torrent added through RPC once it answers. */
class TransmissionDaemon extends SampledProcess {
  private sessionId = '';
  private torrentId: number | undefined;

  constructor(
    label: string,
    namespace: string,
    private readonly address: string,
    peerPort: number,
    configDir: string,
    downloadDir: string,
    allowed: string,
    private readonly add: { torrentFile: string; downloadDir: string; verifyFirst: boolean },
  ) {
    super(label, 'ip', [
      ...['netns', 'exec', namespace, 'transmission-daemon', '--foreground', '--config-dir', configDir, '--download-dir', downloadDir],
      ...['--port', String(RPC_PORT), '--rpc-bind-address', address, '--allowed', allowed, '--no-auth'],
      ...['--bind-address-ipv4', address, '--peerport', String(peerPort), '--no-dht', '--no-lpd', '--no-portmap', '--no-utp'],
      // Plain peer wire, as ours and the other pairs: Transmission prefers encryption by default.
      ...['--encryption-tolerated', '--log-error'],
    ]);
  }

  /** One RPC call, with Transmission's session-id exchange (a 409 names the id to send). */
  private async rpc(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(`http://${this.address}:${RPC_PORT}/transmission/rpc`, {
        method: 'POST',
        headers: { 'x-transmission-session-id': this.sessionId },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
      });
      if (response.status === 409) {
        this.sessionId = response.headers.get('x-transmission-session-id') ?? '';
        continue;
      }
      const reply = (await response.json()) as { result: string; arguments?: Record<string, unknown> };
      if (reply.result !== 'success') throw new Error(`transmission ${method}: ${reply.result}`);
      return reply.arguments ?? {};
    }
    throw new Error(`transmission ${method}: refused the session id twice`);
  }

  /** The torrent's state, adding it first (and, for the seeder, checking its data) when that is not done yet. */
  async torrent(): Promise<TorrentState> {
    if (this.torrentId === undefined) {
      const metainfo = (await readFile(this.add.torrentFile)).toString('base64');
      const added = await this.rpc('torrent-add', { metainfo, 'download-dir': this.add.downloadDir, paused: this.add.verifyFirst });
      const entry = (added['torrent-added'] ?? added['torrent-duplicate']) as { id: number } | undefined;
      if (entry === undefined) throw new Error('transmission torrent-add gave no torrent');
      if (this.add.verifyFirst) await this.rpc('torrent-verify', { ids: [entry.id] });
      this.torrentId = entry.id;
    }
    const reply = await this.rpc('torrent-get', { ids: [this.torrentId], fields: TORRENT_FIELDS });
    const state = (reply['torrents'] as TorrentState[] | undefined)?.[0];
    if (state === undefined) throw new Error(`transmission lost torrent ${this.torrentId}`);
    if (state.error === LOCAL_ERROR) throw new Error(`transmission: ${state.errorString}`);
    return state;
  }

  /** Starts the checked torrent. */
  async resume(): Promise<void> {
    await this.rpc('torrent-start', { ids: [this.torrentId] });
  }

  protected override async readProgress(): Promise<Progress | undefined> {
    if (this.add.verifyFirst) return undefined;
    const state = await this.torrent();
    return { receivedBytes: state.downloadedEver, complete: state.sizeWhenDone > 0 && state.leftUntilDone === 0 };
  }
}

async function start(context: PairContext, network: NamespaceNetwork): Promise<PairProcesses> {
  const allowed = `127.0.0.1,${network.trackerHost}`;
  const seederConfig = await context.folder('transmission-seeder-config');
  const leecherConfig = await context.folder('transmission-leecher-config');
  const leecherDir = await context.folder('transmission-leecher');
  const dataDir = context.data.dataDir;
  const seeder = new TransmissionDaemon('transmission seeder', network.namespace, network.seederAddress, PEER_PORTS.seeder, seederConfig, dataDir, allowed, {
    torrentFile: context.torrentFile,
    downloadDir: dataDir,
    verifyFirst: true,
  });
  let started = false;
  return {
    seeder,
    // Added paused and checked; started once the check found every piece.
    seederReady: async () => {
      const state = await seeder.torrent();
      if (!started && state.status === STATUS.stopped && state.percentDone === 1) {
        await seeder.resume();
        started = true;
      }
      return started && state.status === STATUS.seeding;
    },
    startLeecher: () =>
      new TransmissionDaemon('transmission leecher', network.namespace, network.leecherAddress, PEER_PORTS.leecher, leecherConfig, leecherDir, allowed, {
        torrentFile: context.torrentFile,
        downloadDir: leecherDir,
        verifyFirst: false,
      }),
    leecherFile: path.join(leecherDir, context.data.fileName),
  };
}

function canBuildNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const transmissionPair: ReferencePair<NamespaceNetwork> = {
  name: 'Transmission',
  notInQuick: 'left out of --quick: about 10 s before its first byte and an end game of several seconds make it take 25 s whatever the size',
  async probe() {
    const line = await firstLine('transmission-daemon', ['--version']);
    const version = line === undefined ? undefined : /transmission-daemon (\S+)/.exec(line)?.[1];
    if (version === undefined) return { missing: 'not installed (apt install transmission-daemon)' };
    if (!canBuildNamespaces()) {
      return { missing: 'not measured: it ignores peers on 127.0.0.0/8, so its pair needs a network namespace, which needs root and ip(8)' };
    }
    return { version };
  },
  network: async () => buildNamespace(),
  start,
};
