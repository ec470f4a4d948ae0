/**
 * What a person sees of a running peer. On a terminal: live lines per swarm, redrawn in place,
 * with log lines above them. Anywhere else (a pipe here): one plain line per event, with the
 * time and the swarm, and no escape sequence; --quiet keeps only warnings.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { folderArgs, freePort, makePeerFolders, removeFolders, runProgram, SHOAL, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { describeWithTool } from '../helpers/require-tool.js';
import { generatedContent, SwarmFixture } from '../helpers/swarm-fixture.js';

const KiB = 1024;
const NAME = 'view.bin';
const SIZE = 768 * KiB;
const ISO_TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
const ESCAPE = /\u001b/;

function eventLine(level: string, text: string): RegExp {
  return new RegExp(`^${ISO_TIME} ${level} \\[${NAME.replace('.', '\\.')}\\] ${text}`, 'm');
}

describe('the peer on a pipe: one log line per event', () => {
  const fixture = new SwarmFixture(NAME);
  afterAll(() => fixture.cleanup());

  test('joined, completed and role changed, each with time and swarm, no escapes', async () => {
    const seeder = await fixture.startSeeder(generatedContent(SIZE), [], 64 * KiB);
    await seeder.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder');
    const leecher = await fixture.startPeer(['--exit-when-done']);
    expect((await leecher.peer.exited).code).toBe(0);
    const output = leecher.peer.output.join('');
    expect(output).toMatch(eventLine('info', 'joined as leecher: 0 of 12 pieces verified, from a check of the data \\(data in cache/\\)$'));
    expect(output).toMatch(eventLine('info', `download complete: all 12 pieces verified, data in ${leecher.dirs.shareable}/${NAME}$`));
    expect(output).toMatch(eventLine('info', 'role changed: leecher -> seeder$'));
    expect(output).not.toMatch(ESCAPE);
    // Peer-level detail is for --verbose only.
    expect(output).not.toMatch(/connected to /);
    expect(seeder.peer.output.join('')).toMatch(eventLine('info', 'joined as seeder: all 12 pieces verified in shareable/, from a check of the data$'));
  }, 60_000);
});

describe('a failing tracker', () => {
  let dirs: PeerFolders;
  const running: PeerProcess[] = [];
  beforeAll(async () => {
    dirs = await makePeerFolders();
    const data = path.join(dirs.root, NAME);
    await writeFile(data, generatedContent(64 * KiB));
    // Nobody listens at the announce address.
    const torrent = await createTorrent(data, { announce: `http://127.0.0.1:${await freePort()}/announce`, pieceLength: 16 * KiB });
    await writeFile(path.join(dirs.torrents, `${NAME}.torrent`), torrent);
  });
  afterAll(async () => {
    await Promise.all(running.map((peer) => peer.stop()));
    await removeFolders(dirs);
  });

  test('is a warning line with the reason and the retry', async () => {
    const peer = startPeer(folderArgs(dirs), await freePort());
    running.push(peer);
    const warning = eventLine('warn', String.raw`tracker http://127\.0\.0\.1:\d+/announce: announce failed \(1 in a row\), retrying in 5 s: cannot reach tracker: .*ECONNREFUSED`);
    await peer.waitForStatus(() => warning.test(peer.output.join('')), 20_000, 'the tracker warning');
  });

  test('--quiet keeps the warning and nothing else', async () => {
    const peer = startPeer([...folderArgs(dirs), '--quiet'], await freePort());
    running.push(peer);
    await peer.waitForStatus(() => /announce failed/.test(peer.output.join('')), 20_000, 'the tracker warning');
    const lines = peer.output.join('').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(new RegExp(`^${ISO_TIME} warn `));
  });
});

/** Single quotes for sh. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Runs the peer on a pseudo-terminal of 100 x 20 (script(1)), to completion. */
function runOnTerminal(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = `stty cols 100 rows 20; exec ${[process.execPath, SHOAL, ...args].map(quote).join(' ')}`;
  return runProgram('script', ['-qec', command, '/dev/null'], timeoutMs);
}

describeWithTool(['script', 'stty'], 'the peer on a terminal', () => {
  const fixture = new SwarmFixture(NAME);
  const leechDirs: PeerFolders[] = [];
  beforeAll(async () => {
    const seeder = await fixture.startSeeder(generatedContent(SIZE), [], 64 * KiB);
    await seeder.peer.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder');
  });
  afterAll(async () => {
    await fixture.cleanup();
    await Promise.all(leechDirs.map(removeFolders));
  });

  async function leecherArgs(extra: string[]): Promise<string[]> {
    const dirs = await makePeerFolders();
    leechDirs.push(dirs);
    await writeFile(path.join(dirs.torrents, `${NAME}.torrent`), fixture.torrent);
    return ['--port', String(await freePort()), ...folderArgs(dirs), '--workers', '1', '--exit-when-done', ...extra];
  }

  test('live lines redrawn in place, log lines above them', async () => {
    // Slow enough for a few redraws while it downloads.
    const { code, stdout } = await runOnTerminal(await leecherArgs(['--download-limit', '256k']), 60_000);
    expect(code).toBe(0);
    const draws = stdout.split('\u001b[?7l').slice(1).map((block) => block.split('\u001b[?7h')[0]);
    const liveLeecher = draws.find((block) => /^view\.bin leecher \[[█░]+\] +\d+\.\d% +↓\S+ +↑\S+ +1 peer +ETA /.test(block));
    expect(liveLeecher).toBeDefined();
    expect(draws.at(-1)).toMatch(/^view\.bin seeder {2}\[█+\] 100\.0% .* done\r?\n$/);
    // Every line fits the 100 columns.
    for (const block of draws) for (const line of block.split(/\r?\n/)) expect([...line].length).toBeLessThanOrEqual(100);
    // Each log line is written after going up over the block and erasing it, then the block again.
    const complete = new RegExp(`\\r\\u001b\\[1A\\u001b\\[J${ISO_TIME} info \\[view\\.bin\\] download complete: [^\\n]*\\n\\u001b\\[\\?7l`);
    expect(stdout).toMatch(complete);
  }, 90_000);

  test('--quiet on a terminal: no live lines', async () => {
    const { code, stdout } = await runOnTerminal(await leecherArgs(['--quiet']), 60_000);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(ESCAPE);
    expect(stdout).not.toMatch(/ info /);
  }, 90_000);
});
