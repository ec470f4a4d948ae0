/** The log line of each swarm event, and that the logger adds time and swarm and keeps controls out. */
import { createLogger } from '../../src/main/logger.js';
import { describeSwarmEvent } from '../../src/main/swarm/swarm-events.js';

describe('describeSwarmEvent', () => {
  test('joined, as leecher or seeder', () => {
    expect(describeSwarmEvent({ kind: 'joined', role: 'leecher', have: 3, pieces: 12, from: 'checked', location: 'cache' })).toEqual({
      level: 'info',
      text: 'joined as leecher: 3 of 12 pieces verified, from a check of the data (data in cache/)',
    });
    expect(describeSwarmEvent({ kind: 'joined', role: 'seeder', have: 12, pieces: 12, from: 'fast', location: 'shareable' }).text).toBe(
      'joined as seeder: all 12 pieces verified in shareable/, from resume data after a clean stop',
    );
  });

  test('completed and role changed', () => {
    expect(describeSwarmEvent({ kind: 'completed', pieces: 12, path: '/data/shareable/a.iso' })).toEqual({
      level: 'info',
      text: 'download complete: all 12 pieces verified, data in /data/shareable/a.iso',
    });
    expect(describeSwarmEvent({ kind: 'role-changed', from: 'leecher', to: 'seeder' }).text).toBe('role changed: leecher -> seeder');
  });

  test('a banned peer and a failing tracker are warnings', () => {
    expect(describeSwarmEvent({ kind: 'peer-banned', address: '10.0.0.7:6881', reason: 'sent 3 pieces that failed their hash' })).toEqual({
      level: 'warn',
      text: 'banned peer 10.0.0.7:6881: sent 3 pieces that failed their hash',
    });
    expect(
      describeSwarmEvent({ kind: 'tracker-error', url: 'http://t:1/announce', reason: 'cannot reach tracker: ECONNREFUSED', failures: 2, retryInMs: 9_500 }),
    ).toEqual({ level: 'warn', text: 'tracker http://t:1/announce: announce failed (2 in a row), retrying in 10 s: cannot reach tracker: ECONNREFUSED' });
  });
});

describe('createLogger', () => {
  test('lines carry an ISO time, the level and the swarm; --quiet keeps warnings, --verbose adds debug', () => {
    const lines: string[] = [];
    const levels = ['quiet', 'normal', 'verbose'] as const;
    for (const level of levels) {
      const log = createLogger(level, (line) => lines.push(`${level}: ${line}`)).child('age.txt');
      log.info('i');
      log.warn('w');
      log.debug('d');
    }
    const shape = (level: string, tag: string, text: string): RegExp =>
      new RegExp(`^${level}: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${tag} \\[age\\.txt\\] ${text}\\n$`);
    expect(lines).toHaveLength(1 + 2 + 3);
    expect(lines[0]).toMatch(shape('quiet', 'warn', 'w'));
    expect(lines[1]).toMatch(shape('normal', 'info', 'i'));
    expect(lines[2]).toMatch(shape('normal', 'warn', 'w'));
    expect(lines[5]).toMatch(shape('verbose', 'debug', 'd'));
  });

  test('control characters from a swarm name or a message are replaced', () => {
    const lines: string[] = [];
    createLogger('normal', (line) => lines.push(line))
      .child('x\u001b]0;title\u0007')
      .info('bad\rline\u001b[2J');
    expect(lines[0].slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(lines[0]).toMatch(/\[x\uFFFD\]0;title\uFFFD\] bad\uFFFDline\uFFFD\[2J\n$/);
  });
});
