/** When the DHT is asked about each swarm (src/main/dht/dht-swarms.ts), on a fake clock with a fake DHT node. */
import { withOverrides } from '../../src/io/settings.js';
import type { DhtSearches, DhtSwarm } from '../../src/main/dht/dht-swarms.js';
import { DhtSwarms } from '../../src/main/dht/dht-swarms.js';
import { createLogger } from '../../src/main/logger.js';
import type { PeerAddress } from '../../src/main/tracker/announce-client.js';
import { FakeClock } from '../helpers/fake-clock.js';

const settings = withOverrides({ dhtAnnounceIntervalMs: 900_000, dhtLookupIntervalMs: 300_000, dhtLookupRetryBaseMs: 15_000, dhtMaxConcurrentLookups: 2 });
const quiet = createLogger('quiet', () => undefined);

interface Call {
  kind: 'lookup' | 'announce';
  infoHash: string;
  at: number;
  finish(peers: PeerAddress[] | Error): void;
}

/** A DHT node whose searches end when the test says, with the peers it says. */
class FakeSearches implements DhtSearches {
  nodes = 1;
  readonly calls: Call[] = [];
  constructor(private readonly clock: FakeClock) {}
  lookup(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<number> {
    return this.record('lookup', infoHash, onPeers);
  }
  announce(infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<number> {
    return this.record('announce', infoHash, onPeers);
  }
  private record(kind: Call['kind'], infoHash: Buffer, onPeers: (peers: PeerAddress[]) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        kind,
        infoHash: infoHash.toString('hex'),
        at: this.clock.now(),
        finish: (result) => {
          if (result instanceof Error) return reject(result);
          onPeers(result);
          resolve(result.length);
        },
      });
    });
  }
  /** Ends the oldest unfinished search. */
  finishNext(result: PeerAddress[] | Error): Call {
    const call = this.calls.find((entry) => !('done' in entry))!;
    Object.assign(call, { done: true });
    call.finish(result);
    return call;
  }
}

function swarm(byte: number, wants = true): DhtSwarm & { learned: PeerAddress[]; wants: boolean } {
  const entry = {
    infoHash: Buffer.alloc(20, byte),
    learned: [] as PeerAddress[],
    wants,
    wantsPeers: () => entry.wants,
    isSelf: (ip: string, port: number) => ip === SELF.ip && port === SELF.port,
    learnPeers: (peers: readonly PeerAddress[]) => void entry.learned.push(...peers),
  };
  return entry;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const PEER = { ip: '10.0.0.1', port: 6881 };
/** This peer itself, as the DHT gives it back among the peers of its own swarms. */
const SELF = { ip: '10.0.0.9', port: 6881 };

test('a swarm is announced at once and every interval; while it wants peers it is looked up between announces', async () => {
  const clock = new FakeClock();
  const searches = new FakeSearches(clock);
  const scheduler = new DhtSwarms(searches, settings, clock, quiet);
  const leecher = swarm(1);
  scheduler.add(leecher);
  expect(searches.calls.map(({ kind, at }) => [kind, at])).toEqual([['announce', 0]]);
  searches.finishNext([PEER]);
  await settle();
  expect(leecher.learned).toEqual([PEER]);

  clock.advance(300_000);
  expect(searches.calls.map(({ kind, at }) => [kind, at])).toEqual([['announce', 0], ['lookup', 300_000]]);
  searches.finishNext([PEER]);
  await settle();
  // It has its peers and wants no more: no lookup, but the announce goes on.
  leecher.wants = false;
  clock.advance(600_000);
  expect(searches.calls.map(({ kind, at }) => [kind, at])).toEqual([['announce', 0], ['lookup', 300_000], ['announce', 900_000]]);
  scheduler.stop();
});

test('a search that finds nobody is repeated sooner, the delay doubling up to the lookup interval; a failed announce too', async () => {
  const clock = new FakeClock();
  const searches = new FakeSearches(clock);
  const scheduler = new DhtSwarms(searches, settings, clock, quiet);
  scheduler.add(swarm(1));
  searches.finishNext(new Error('No nodes to query'));
  await settle();
  for (const delay of [15_000, 30_000, 60_000, 120_000, 240_000, 300_000]) {
    const before = searches.calls.length;
    clock.advance(delay - 1);
    expect(searches.calls).toHaveLength(before);
    clock.advance(1);
    expect(searches.calls).toHaveLength(before + 1);
    searches.finishNext([]);
    await settle();
  }
  expect(searches.calls.map(({ kind }) => kind)).toEqual(['announce', 'announce', 'lookup', 'lookup', 'lookup', 'lookup', 'lookup']);
  scheduler.stop();
});

test('nothing is searched while the routing table is empty, and at most dhtMaxConcurrentLookups at once', async () => {
  const clock = new FakeClock();
  const searches = new FakeSearches(clock);
  searches.nodes = 0;
  const scheduler = new DhtSwarms(searches, settings, clock, quiet);
  const swarms = [1, 2, 3].map((byte) => swarm(byte));
  const stops = swarms.map((entry) => scheduler.add(entry));
  clock.advance(10_000);
  expect(searches.calls).toEqual([]);
  searches.nodes = 5;
  clock.advance(1_000);
  expect(searches.calls.map(({ infoHash }) => infoHash[1])).toEqual(['1', '2']);
  searches.finishNext([PEER]);
  await settle();
  clock.advance(1_000);
  expect(searches.calls.map(({ infoHash }) => infoHash[1])).toEqual(['1', '2', '3']);

  // A swarm that leaves gets nothing of the search it had under way, and no more searches.
  stops[1]();
  searches.finishNext([PEER]);
  await settle();
  expect(swarms[1].learned).toEqual([]);
  expect(scheduler.size).toBe(2);
  scheduler.stop();
});

test('finding only ourselves is finding nobody: the swarm is not told, and the search is repeated soon', async () => {
  const clock = new FakeClock();
  const searches = new FakeSearches(clock);
  const scheduler = new DhtSwarms(searches, settings, clock, quiet);
  const leecher = swarm(1);
  scheduler.add(leecher);
  searches.finishNext([SELF]);
  await settle();
  expect(leecher.learned).toEqual([]);
  clock.advance(15_000);
  expect(searches.calls.map(({ kind, at }) => [kind, at])).toEqual([['announce', 0], ['lookup', 15_000]]);
  searches.finishNext([SELF, PEER]);
  await settle();
  expect(leecher.learned).toEqual([PEER]);
  scheduler.stop();
});
