/**
 * Issue 20: /status with 10,000 swarms. The document is sent a swarm at a time, each status made
 * only when its turn comes, and `?offset=&limit=` lists a page of the swarms (`?limit=0` the
 * summary alone) while plain /status still lists every swarm with every field.
 */
import { everySwarm, listedStatuses, parseStatusQuery, statusJson, wholeStatus, type StatusParts } from '../../src/main/status-document.js';
import type { SwarmStatus } from '../../src/main/swarm/swarm-status.js';

function swarmStatus(n: number): SwarmStatus {
  return {
    infoHash: n.toString(16).padStart(40, '0'), name: `file-${n}.bin`, role: 'seeder', announcer: true, private: false, metadata: true,
    pieces: 1, have: 1, size: 16384, downloaded: 0, received: 0, uploaded: 0, left: 0, downloadRate: 0, uploadRate: 0,
    peers: [], known: [], knownFrom: [], banned: [], trackers: [{ url: 'http://127.0.0.1:1/announce', tier: 0, status: 'self' } as SwarmStatus['trackers'][number]],
    startedFrom: 'fast', error: null, files: [{ path: `file-${n}.bin`, size: 16384, priority: 'normal', done: 16384 }], sequential: false, paused: false,
  };
}

const head: StatusParts['head'] = {
  peerId: '-SH0100-abcdefghijkl', host: '127.0.0.1', port: 6881, workers: 2, eventLoopDelayP99Ms: 1.5,
  connections: { peers: 0, pending: 0, http: 1 },
  summary: { swarms: 3, seeders: 3, leechers: 0, fetchingMetadata: 0, paused: 0 },
  skipped: [{ file: 'bad.torrent', reason: 'not bencoded' }],
  dht: { enabled: false, nodes: 0 },
};

describe('the /status query', () => {
  test('none means every swarm; offset and limit are read, other parameters ignored', () => {
    expect(parseStatusQuery(new URLSearchParams(''))).toEqual(everySwarm);
    expect(parseStatusQuery(new URLSearchParams('offset=100&limit=50'))).toEqual({ offset: 100, limit: 50 });
    expect(parseStatusQuery(new URLSearchParams('limit=0&_=1712345678'))).toEqual({ offset: 0, limit: 0 });
  });

  test.each(['limit=-1', 'limit=', 'offset=1.5', 'limit=ten', 'offset=1e3', 'limit=9999999999'])('%s is refused with the form to use', (search) => {
    expect(parseStatusQuery(new URLSearchParams(search))).toEqual({ error: expect.stringMatching(/whole number.*\?offset=100&limit=50/) });
  });

  test('a page lists the swarms from offset on, at most limit of them, in order; limit=0 none', () => {
    const all = [0, 1, 2, 3, 4];
    const page = (offset: number, limit: number | null): string[] => [...listedStatuses(all, { offset, limit }, swarmStatus)].map((s) => s.name);
    expect(page(0, null)).toEqual(['file-0.bin', 'file-1.bin', 'file-2.bin', 'file-3.bin', 'file-4.bin']);
    expect(page(1, 2)).toEqual(['file-1.bin', 'file-2.bin']);
    expect(page(3, 10)).toEqual(['file-3.bin', 'file-4.bin']);
    expect(page(2, null)).toEqual(['file-2.bin', 'file-3.bin', 'file-4.bin']);
    expect(page(9, 1)).toEqual([]);
    expect(page(0, 0)).toEqual([]);
  });
});

describe('the document as JSON text', () => {
  test('its pieces put together are the whole document, every field of every swarm', () => {
    const parts = (): StatusParts => ({ head, swarms: [0, 1, 2].map(swarmStatus) });
    for (const chunkChars of [1, 200, 64 * 1024]) {
      expect(JSON.parse([...statusJson(parts(), chunkChars)].join(''))).toEqual(wholeStatus(parts()));
    }
    expect(JSON.parse([...statusJson({ head, swarms: [] })].join(''))).toEqual({ ...head, swarms: [] });
  });

  test('each swarm status is made only when the text has reached it', () => {
    const made: number[] = [];
    const chunks = statusJson({ head, swarms: listedStatuses([0, 1, 2, 3], everySwarm, (n) => (made.push(n), swarmStatus(n))) }, 1);
    expect(chunks.next().done).toBe(false);
    expect(made).toEqual([0]);
    chunks.next();
    expect(made).toEqual([0, 1]);
    expect([...chunks].length).toBeGreaterThan(0);
    expect(made).toEqual([0, 1, 2, 3]);
  });
});
