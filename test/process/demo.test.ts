/**
 * `npm run demo`: a seeder and three leechers on loopback, run through the compiled program. It
 * must end with every leecher complete and byte-identical, every peer stopped, and say where the
 * folders are.
 */
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { pollPeers, type PolledPeer } from '../../src/main/demo/local-swarm.js';
import type { StatusDocument } from '../../src/main/session.js';
import { fileDigest, PROJECT_ROOT, runProgram } from '../helpers/peer-process.js';

const DEMO = path.join(PROJECT_ROOT, 'dist', 'main', 'cli', 'demo.js');

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('npm run demo', () => {
  let root: string | undefined;
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('--size 4M: three leechers complete with the seeder\'s bytes, and every peer is stopped', async () => {
    const { code, stdout, stderr } = await runProgram(process.execPath, [DEMO, '--size', '4M', '--timeout', '150'], 180_000);
    const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
    root = /the folders are in (\S+) /.exec(stdout)?.[1];
    expect({ code, context }).toEqual({ code: 0, context });
    expect(stdout).toContain('all 3 leechers complete in ');
    expect(stdout).toContain('stopped 4 peers cleanly (SIGTERM, exit code 0 each)');
    expect(root).toBeDefined();

    const name = 'demo-4.0MiB.bin';
    const original = await fileDigest(path.join(root!, 'seeder', 'shareable', name));
    for (let i = 1; i <= 3; i++) {
      expect(stdout).toMatch(new RegExp(`leecher ${i} \\(port \\d+\\) has the whole file after `));
      expect(await fileDigest(path.join(root!, `leecher-${i}`, 'shareable', name))).toBe(original);
    }
    const ports = [...stdout.matchAll(/port (\d+)/g)].map((match) => Number(match[1]));
    expect(new Set(ports).size).toBe(4);
    for (const port of ports) expect(await refusesConnections(port)).toBe(true);
  }, 200_000);

  test('a bad --size is one line on stderr and exit code 2', async () => {
    const { code, stdout, stderr } = await runProgram(process.execPath, [DEMO, '--size', '12 parsecs'], 30_000);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('demo: --size expects a number of bytes like 500k or 2M, got "12 parsecs" (see --help)\n');
  });
});

describe('pollPeers', () => {
  function peer(label: string, have: number, exitCode: number | null = null): PolledPeer {
    const status = { swarms: [{ have, pieces: 8 }] } as unknown as StatusDocument;
    return { label, exitState: exitCode === null ? null : { code: exitCode, signal: null }, folders: { log: `/logs/${label}` }, status: async () => status };
  }
  const never = (): boolean => false;

  test('returns once done holds, with every status read', async () => {
    const peers = [peer('a', 8), peer('b', 8)];
    const statuses = new Map<PolledPeer, StatusDocument>();
    const done = (seen: Map<PolledPeer, StatusDocument>): boolean => seen.size === 2;
    expect(await pollPeers(peers, statuses, { deadline: Date.now() + 10_000, pollMs: 10, interrupted: never, done })).toBeNull();
    expect(statuses.size).toBe(2);
  });

  test('gives up at the deadline and says where each peer was', async () => {
    const silent: PolledPeer = { ...peer('c', 0), status: () => Promise.reject(new Error('refused')) };
    const reason = await pollPeers([peer('a', 3), silent], new Map(), { deadline: Date.now() + 50, pollMs: 10, interrupted: never, done: never });
    expect(reason).toBe('gave up after the time allowed (--timeout): a at 3/8 pieces, c not answering');
  });

  test('stops when a peer exits, naming its log, or when interrupted', async () => {
    const deadline = Date.now() + 10_000;
    expect(await pollPeers([peer('a', 1), peer('b', 1, 1)], new Map(), { deadline, pollMs: 10, interrupted: never, done: never })).toBe(
      'b exited unexpectedly (exit code 1); see /logs/b',
    );
    expect(await pollPeers([peer('a', 1)], new Map(), { deadline, pollMs: 10, interrupted: () => true, done: never })).toBe('interrupted');
  });
});
