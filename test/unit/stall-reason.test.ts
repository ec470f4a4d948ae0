/** Why a swarm is stuck, as the dashboard's summary line of a swarm says it (stall-reason.ts). */
import type { TrackerStatus } from '../../src/main/tracker/announce-client.js';
import { stallReason, type StallStatus } from '../../src/main/ui/stall-reason.js';

const PEER = { address: '127.0.0.1:6882', downloaded: 0, uploaded: 0, downloadRate: 0, uploadRate: 0 };

function leecher(overrides: Partial<StallStatus> = {}): StallStatus {
  return { role: 'leecher', announcer: false, left: 1000, downloadRate: 0, peers: [], known: [], banned: [], ...overrides };
}

function tracker(overrides: Partial<TrackerStatus> = {}): TrackerStatus {
  return { url: 'http://127.0.0.1:1/announce', state: 'ok', failures: 0, peersReceived: 0, ...overrides };
}

const failing = tracker({ state: 'failing', failures: 3, lastError: 'cannot reach tracker: connect ECONNREFUSED 127.0.0.1:1' });

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

  test('its source runs alone, as the dashboard embeds it', () => {
    const embedded = new Function(`${stallReason.toString()}; return stallReason;`)() as typeof stallReason;
    expect(embedded(leecher({ tracker: failing }))).toBe(stallReason(leecher({ tracker: failing })));
  });
});
