/**
 * Test hosts made of Linux network namespaces on one bridge: each host has its own IPv4 address,
 * as the machines of a LAN do. Root only. The bridge has an address too, so the test (in the
 * root namespace) can reach every host's /status. Everything is removed by destroy(), which
 * tolerates a half-built LAN.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { SHOAL, PeerProcess, type TestSettings } from './peer-process.js';

export interface LanHost {
  name: string;
  namespace: string;
  address: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function canBuildLan(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class TestLan {
  readonly hosts: LanHost[] = [];
  readonly bridge: string;
  readonly subnet: string;
  private readonly tag: string;

  constructor(names: string[]) {
    // Unique per run, short enough for interface names (15 characters at most).
    this.tag = (process.pid % 10000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
    this.bridge = `shbr${this.tag}`;
    this.subnet = `10.231.${process.pid % 250}`;
    this.hosts = names.map((name, i) => ({ name, namespace: `shoal-${name}-${this.tag}`, address: `${this.subnet}.${i + 1}` }));
  }

  /** Makes the bridge and the hosts; what a failure leaves half made is removed before it throws. */
  build(): void {
    try {
      this.buildHosts();
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  private buildHosts(): void {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.subnet}.254/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    this.hosts.forEach((host, i) => {
      const inside = `shv${this.tag}${i}`;
      const outside = `shp${this.tag}${i}`;
      ip('netns', 'add', host.namespace);
      ip('link', 'add', inside, 'type', 'veth', 'peer', 'name', outside);
      ip('link', 'set', outside, 'master', this.bridge);
      ip('link', 'set', outside, 'up');
      ip('link', 'set', inside, 'netns', host.namespace);
      ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', inside);
      ip('-n', host.namespace, 'link', 'set', inside, 'up');
      ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
    });
  }

  /** Runs the peer's command line inside a host; its /status is reached at the host's address. */
  startPeer(host: LanHost, args: string[], port = 6881, testSettings?: TestSettings): PeerProcess {
    const env = testSettings ? { ...process.env, SHOAL_TEST_SETTINGS: JSON.stringify(testSettings) } : process.env;
    const child = spawn('ip', ['netns', 'exec', host.namespace, process.execPath, SHOAL, '--port', String(port), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    return new PeerProcess(child, port, host.address);
  }

  /** Runs `node -e script ...args` inside a host (a listener a test scripts), its output piped. */
  runScript(host: LanHost, script: string, args: string[] = []): ChildProcess {
    return spawn('ip', ['netns', 'exec', host.namespace, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  destroy(): void {
    for (const host of this.hosts) {
      try {
        ip('netns', 'del', host.namespace);
      } catch {
        // Never made, or already gone.
      }
    }
    try {
      ip('link', 'del', this.bridge);
    } catch {
      // Never made, or already gone.
    }
  }
}
