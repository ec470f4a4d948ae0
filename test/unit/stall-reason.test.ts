/** Why a swarm is stuck, as the dashboard's summary line of a swarm says it (stall-reason.ts). */
import type { TrackerEntry, TrackerStatus } from '../../src/main/tracker/announce-client.js';
import { stallReason, type StallStatus } from '../../src/main/ui/stall-reason.js';

const PEER = { address: '127.0.0.1:6882', downloaded: 0, uploaded: 0, downloadRate: 0, uploadRate: 0, encryption: 'none' as const };

function leecher(overrides: Partial<StallStatus> = {}): StallStatus {
  return { role: 'leecher', announcer: false, left: 1000, downloadRate: 0, peers: [], known: [], banned: [], ...overrides };
}

function tracker(overrides: Partial<TrackerStatus> = {}): TrackerStatus {
  return { url: 'http://127.0.0.1:1/announce', state: 'ok', failures: 0, peersReceived: 0, ...overrides };
}

const failing = tracker({ state: 'failing', failures: 3, lastError: 'cannot reach tracker: connect ECONNREFUSED 127.0.0.1:1' });

const REFUSED = 'cannot reach tracker: connect ECONNREFUSED 127.0.0.1:1';
const SILENT = 'no answer within 60000 ms (still trying)';
const entry = (url: string, tier: number, status: TrackerEntry['status'], error?: string): TrackerEntry => ({ url, tier, status, ...(error !== undefined && { error }) });

describe('stallReason', () => {
  test('a swarm that moves, or a seeder that can be found, has none', () => {
    expect(stallReason(leecher({ peers: [PEER], downloadRate: 5000 }))).toBe('');
    expect(stallReason(leecher({ role: 'seeder', left: 0, tracker: tracker() }))).toBe('');
    expect(stallReason(leecher({ role: 'seeder', left: 0, peers: [PEER], tracker: failing }))).toBe('');
  });

  test('a leecher with no peer while its tracker fails names the tracker\'s error', () => {
    expect(stallReason(leecher({ tracker: failing }))).toBe('no peers: the tracker failed 3 times: cannot reach tracker: connect ECONNREFUSED 127.0.0.1:1');
    expect(stallReason(leecher({ tracker: tracker({ state: 'failing', failures: 1 }) }))).toBe('no peers: the tracker failed');
  });

  test('a seeder nobody can find because its tracker fails says so', () => {
    expect(stallReason(leecher({ role: 'seeder', left: 0, tracker: failing }))).toBe('peers cannot find it: the tracker failed 3 times: cannot reach tracker: connect ECONNREFUSED 127.0.0.1:1');
  });

  test('a leecher with no peer says what it knows', () => {
    expect(stallReason(leecher({ known: ['10.0.0.1:6881', '10.0.0.2:6881'], banned: ['10.0.0.2'] }))).toBe(
      'no peers: 2 peers known, none connected (1 banned for bad data)',
    );
    expect(stallReason(leecher({ announcer: true }))).toMatch(/none has announced to this peer's tracker/);
    expect(stallReason(leecher())).toBe('no peers: the torrent names no tracker');
    expect(stallReason(leecher({ tracker: tracker({ state: 'announcing' }) }))).toBe("no peers yet: waiting for the tracker's answer");
    expect(stallReason(leecher({ tracker: tracker({ lastAnnounceAt: 1 }) }))).toBe('no peers: the tracker knows no other peer');
  });

  test('a leecher connected to peers that send nothing', () => {
    expect(stallReason(leecher({ peers: [PEER, PEER] }))).toBe('nothing arriving: 2 peers connected, none sending');
  });

  test('with a trackers list, every tracker failing is said with the first error in the torrent\'s order', () => {
    const trackers = [entry('udp://10.0.0.9:6969/announce', 0, 'error', SILENT), entry('http://127.0.0.1:1/announce', 1, 'error', REFUSED)];
    expect(stallReason(leecher({ tracker: tracker({ state: 'failing', failures: 1, lastError: 'the last' }), trackers }))).toBe(`no peers: every tracker failed: ${SILENT}`);
    expect(stallReason(leecher({ tracker: failing, trackers }))).toBe(`no peers: every tracker failed, 3 rounds in a row: ${SILENT}`);
    expect(stallReason(leecher({ role: 'seeder', left: 0, tracker: failing, trackers }))).toBe(`peers cannot find it: every tracker failed, 3 rounds in a row: ${SILENT}`);
    // One tracker to announce to (this peer's own URL aside): "the tracker", as without a list.
    const one = [entry('http://127.0.0.1:1/announce', 0, 'error', REFUSED), entry('http://10.0.0.1:6881/announce', 1, 'self')];
    expect(stallReason(leecher({ tracker: failing, trackers: one }))).toBe(`no peers: the tracker failed 3 times: ${REFUSED}`);
  });

  test('with a trackers list, one that works or is still being asked means the trackers have not all failed', () => {
    const working = [entry('udp://10.0.0.9:6969/announce', 0, 'error', SILENT), entry('http://127.0.0.1:1/announce', 1, 'working')];
    // The list wins over a round that failed before a late answer came.
    expect(stallReason(leecher({ tracker: tracker({ state: 'failing', failures: 2, lastAnnounceAt: 1 }), trackers: working }))).toBe('no peers: the tracker knows no other peer');
    const asking = [entry('udp://10.0.0.9:6969/announce', 0, 'error', SILENT), entry('http://127.0.0.1:1/announce', 1, 'updating')];
    expect(stallReason(leecher({ tracker: tracker({ state: 'announcing' }), trackers: asking }))).toBe("no peers yet: waiting for the tracker's answer");
    // Only this peer's own URL: the announcer's reason, whatever `tracker` says.
    expect(stallReason(leecher({ announcer: true, trackers: [entry('http://10.0.0.1:6881/announce', 0, 'self')] }))).toMatch(/none has announced to this peer's tracker/);
    // An empty list: judged from `tracker`, as before the list.
    expect(stallReason(leecher({ tracker: failing, trackers: [] }))).toBe(`no peers: the tracker failed 3 times: ${REFUSED}`);
  });

  test('its source runs alone, as the dashboard embeds it', () => {
    const embedded = new Function(`${stallReason.toString()}; return stallReason;`)() as typeof stallReason;
    expect(embedded(leecher({ tracker: failing }))).toBe(stallReason(leecher({ tracker: failing })));
    const trackers = [entry('udp://10.0.0.9:6969/announce', 0, 'error', SILENT), entry('http://127.0.0.1:1/announce', 1, 'error', REFUSED)];
    expect(embedded(leecher({ tracker: failing, trackers }))).toBe(stallReason(leecher({ tracker: failing, trackers })));
  });

  test('a storage error is the reason whatever the peers do', () => {
    const error = { kind: 'disk-full' as const, message: 'cannot write piece 3: ENOSPC: no space left on device, write', since: '2026-01-01T00:00:00.000Z' };
    const expected = 'storage error (disk-full): cannot write piece 3: ENOSPC: no space left on device, write; downloading paused until it is gone';
    expect(stallReason(leecher({ error }))).toBe(expected);
    expect(stallReason(leecher({ error, peers: [PEER], downloadRate: 5000 }))).toBe(expected);
    expect(stallReason(leecher({ error: null, peers: [PEER], downloadRate: 5000 }))).toBe('');
  });
});

test('a swarm paused by its user is not stuck (issue 18)', () => {
  expect(stallReason({ role: 'leecher', announcer: false, left: 100, downloadRate: 0, peers: [], known: [], banned: [], tracker: undefined, paused: true })).toBe('');
});
