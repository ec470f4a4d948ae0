/** The terminal's live lines: what they show, and that they never exceed the width. */
import { progressBar, progressOf, renderSwarmLines, type SwarmLineStatus } from '../../src/main/ui/swarm-lines.js';

const MiB = 1024 * 1024;

function swarm(overrides: Partial<SwarmLineStatus> = {}): SwarmLineStatus {
  return {
    name: 'ubuntu.iso',
    role: 'leecher',
    size: 100 * MiB,
    left: 58 * MiB,
    downloadRate: 2 * MiB,
    uploadRate: 512 * 1024,
    peers: [
      { address: '127.0.0.1:6882', downloaded: 0, uploaded: 0, downloadRate: 0, uploadRate: 0, encryption: 'none' },
      { address: '127.0.0.1:6883', downloaded: 0, uploaded: 0, downloadRate: 0, uploadRate: 0, encryption: 'none' },
    ],
    ...overrides,
  };
}

describe('renderSwarmLines', () => {
  test('a leecher: name, role, bar, percent, rates, peers and time left', () => {
    // 42 MiB of 100 had, 58 MiB left at 2 MiB/s: 29 s.
    const [line] = renderSwarmLines({ swarms: [swarm()] }, 100);
    expect(line).toMatch(/^ubuntu\.iso leecher \[█+░+\] {2}42\.0% {2}↓2\.0M\/s {2}↑512k\/s {3}2 peers {5}ETA 0:29$/);
    expect([...line].length).toBeLessThanOrEqual(100);
  });

  test('a seeder is full and done; a stalled leecher has no time left to show', () => {
    const [seeder] = renderSwarmLines({ swarms: [swarm({ role: 'seeder', left: 0, downloadRate: 0, peers: [] })] }, 100);
    expect(seeder).toMatch(/seeder {2}\[█+\] 100\.0%.* 0 peers {9}done$/);
    const [stalled] = renderSwarmLines({ swarms: [swarm({ downloadRate: 0, peers: [swarm().peers[0]] })] }, 100);
    expect(stalled).toMatch(/ {4}1 peer {4}ETA --:--$/);
  });

  test('99.99% is not shown as 100%', () => {
    const [line] = renderSwarmLines({ swarms: [swarm({ size: 10_000, left: 1 })] }, 100);
    expect(line).toContain(' 99.9%');
  });

  test('every line fits the width, whatever the name; a long name is cut with an ellipsis', () => {
    const long = swarm({ name: 'a'.repeat(300) });
    for (const width of [40, 60, 80, 120, 200]) {
      for (const line of renderSwarmLines({ swarms: [long, swarm()] }, width)) expect([...line].length).toBeLessThanOrEqual(width);
    }
    const [line] = renderSwarmLines({ swarms: [long] }, 120);
    expect(line).toMatch(/^a+… leecher/);
  });

  test('names line up: the columns start at the same place on every line', () => {
    const lines = renderSwarmLines({ swarms: [swarm({ name: 'a' }), swarm({ name: 'a much longer name' })] }, 120);
    expect(lines[0].indexOf('leecher')).toBe(lines[1].indexOf('leecher'));
    expect(lines[0].indexOf('[')).toBe(lines[1].indexOf('['));
  });

  test('control characters in a name never reach the terminal', () => {
    const [line] = renderSwarmLines({ swarms: [swarm({ name: 'evil\u001b[2J\u001b]0;pwned\u0007\r\u009b.iso' })] }, 120);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain('evil\uFFFD[2J\uFFFD]0;pwned\uFFFD\uFFFD\uFFFD.iso');
  });

  test('in the order given while all fit; past maxLines leechers first, and the last line counts the rest', () => {
    const swarms = [
      swarm({ name: 's1', role: 'seeder', left: 0 }),
      swarm({ name: 'l1' }),
      swarm({ name: 's2', role: 'seeder', left: 0 }),
      swarm({ name: 'l2' }),
      swarm({ name: 'l3' }),
    ];
    const all = renderSwarmLines({ swarms }, 100);
    expect(all.map((line) => line.slice(0, 2))).toEqual(['s1', 'l1', 's2', 'l2', 'l3']);
    const cut = renderSwarmLines({ swarms }, 100, 3);
    expect(cut).toHaveLength(3);
    expect(cut.slice(0, 2).map((line) => line.slice(0, 2))).toEqual(['l1', 'l2']);
    expect(cut[2]).toBe('… and 3 more (1 leeching, 2 seeding)');
  });

  test('no swarm yet is one line saying so', () => {
    expect(renderSwarmLines({ swarms: [] }, 80)).toEqual(['no swarm joined yet']);
  });
});

describe('progress', () => {
  test('is the share of bytes had; an empty torrent is complete', () => {
    expect(progressOf({ size: 200, left: 50 })).toBe(0.75);
    expect(progressOf({ size: 0, left: 0 })).toBe(1);
  });

  test('the bar has exactly its width, filled by the share done', () => {
    expect(progressBar(0, 4)).toBe('░░░░');
    expect(progressBar(0.5, 4)).toBe('██░░');
    expect(progressBar(1, 4)).toBe('████');
  });
});
