/**
 * The peer list on its own: learning peers, which to dial with a given time and given
 * connections, the back-off after failed dials, the admission limits, and the ut_pex broadcast
 * to fake connected peers. No sockets.
 */
import { defaultSettings, type Settings } from '../../src/io/settings.js';
import { PexSender } from '../../src/main/swarm/pex-broadcast.js';
import {
  admissionLimit,
  MAX_CONNECT_FAILURES,
  PeerList,
  RECONNECT_BASE_MS,
  type KnownPeer,
  type OpenConnection,
  type PexRecipient,
} from '../../src/main/swarm/peer-list.js';
import { decodePex, type PexPeer } from '../../src/main/wire/ut-pex.js';
import type { WireMessage } from '../../src/main/wire/wire-messages.js';

const SELF = { ip: '10.0.0.1', port: 6881 };
const T0 = 1_000_000;

interface Options {
  settings?: Partial<Settings>;
  banned?: string[];
}

function setup(options: Options = {}) {
  const settings: Settings = { ...defaultSettings, ...options.settings };
  const banned = new Set(options.banned ?? []);
  const debug: string[] = [];
  const list = new PeerList({
    settings,
    isSelf: (ip, port) => ip === SELF.ip && port === SELF.port,
    isBanned: (ip, port) => banned.has(`${ip}:${port}`),
    log: { debug: (line) => debug.push(line) },
  });
  return { list, debug };
}

/** Open connections at these addresses ("ip:port"). */
function connections(...addresses: string[]): Set<OpenConnection> {
  return new Set(addresses.map((address) => ({ address, remoteIp: address.slice(0, address.lastIndexOf(':')) })));
}

/** Dials what toDial gives, as the swarm does: each dial starts before the next is asked for. */
function dialAll(list: PeerList, now: number, open: Set<OpenConnection> = new Set(), room: (n: number) => boolean = () => true): string[] {
  const dialled: string[] = [];
  for (const known of list.toDial(now, open, room)) {
    list.dialStarted(known);
    dialled.push(known.address);
  }
  return dialled;
}

/** Learns `count` peers 10.1.0.<i>:7000, or at `ip` with ports 7000 + i. */
function learnMany(list: PeerList, count: number, ip?: string): string[] {
  return Array.from({ length: count }, (_, i) => {
    const [peerIp, port] = ip ? [ip, 7000 + i] : [`10.1.0.${i + 1}`, 7000];
    list.learn(peerIp, port, 'tracker');
    return `${peerIp}:${port}`;
  });
}

function known(list: PeerList, address: string): KnownPeer {
  for (const peer of list.toDial(Infinity, new Set(), () => true)) if (peer.address === address) return peer;
  throw new Error(`${address} is not on the list, or not to be dialled`);
}

describe('learning peers', () => {
  test('a new peer is learned once, in order, and logged', () => {
    const { list, debug } = setup();
    expect(list.learn('10.1.0.1', 7000, 'tracker')).toBe(true);
    expect(list.learn('10.1.0.2', 7000, 'tracker')).toBe(true);
    expect(list.learn('10.1.0.1', 7000, 'tracker')).toBe(false);
    expect(list.addresses()).toEqual(['10.1.0.1:7000', '10.1.0.2:7000']);
    expect(debug).toEqual(['learned of peer 10.1.0.1:7000 (tracker)', 'learned of peer 10.1.0.2:7000 (tracker)']);
  });

  test('each peer keeps where it was first heard of', () => {
    const { list } = setup();
    list.learn('10.1.0.1', 7000, 'dht');
    list.learn('10.1.0.2', 7000, 'lsd');
    list.learn('10.1.0.1', 7000, 'pex');
    list.learn('10.1.0.3', 7000, 'incoming');
    expect(list.sources()).toEqual([
      { address: '10.1.0.1:7000', source: 'dht' },
      { address: '10.1.0.2:7000', source: 'lsd' },
      { address: '10.1.0.3:7000', source: 'incoming' },
    ]);
  });

  test('this peer itself is never learned; the same IP at another port is', () => {
    const { list } = setup();
    expect(list.learn(SELF.ip, SELF.port, 'tracker')).toBe(false);
    expect(list.learn(SELF.ip, SELF.port + 1, 'tracker')).toBe(true);
    expect(list.addresses()).toEqual([`${SELF.ip}:${SELF.port + 1}`]);
  });

  test('a banned address is not learned', () => {
    const { list } = setup({ banned: ['10.1.0.9:7000'] });
    expect(list.learn('10.1.0.9', 7000, 'tracker')).toBe(false);
    expect(list.learn('10.1.0.9', 7001, 'tracker')).toBe(true);
    expect(list.addresses()).toEqual(['10.1.0.9:7001']);
  });

  test('no more than maxKnownPeersPerSwarm are kept; a removed one makes room', () => {
    const { list } = setup({ settings: { maxKnownPeersPerSwarm: 3 } });
    const learned = learnMany(list, 5);
    expect(list.addresses()).toEqual(learned.slice(0, 3));
    expect(list.remove(learned[0])).toBe(true);
    expect(list.remove(learned[0])).toBe(false);
    expect(list.learn('10.1.0.4', 7000, 'tracker')).toBe(true);
    expect(list.addresses()).toEqual([learned[1], learned[2], learned[3]]);
  });
});

describe('which peers to dial', () => {
  test('every known peer not connected and not being dialled, in the order learned', () => {
    const { list } = setup();
    const learned = learnMany(list, 4);
    expect(dialAll(list, T0, connections(learned[1]))).toEqual([learned[0], learned[2], learned[3]]);
    // Those being dialled are not dialled twice.
    expect(dialAll(list, T0, connections(learned[1]))).toEqual([]);
  });

  test('no more than maxPeersPerSwarm, counting open connections and dials under way', () => {
    const { list } = setup({ settings: { maxPeersPerSwarm: 5 } });
    learnMany(list, 10);
    const open = connections('10.9.0.1:1', '10.9.0.2:1');
    expect(dialAll(list, T0, open)).toHaveLength(3);
    expect(dialAll(list, T0, open)).toEqual([]);
  });

  test('the session-wide room is asked with the swarm count including the dials just started', () => {
    const { list } = setup();
    learnMany(list, 10);
    const asked: number[] = [];
    const dialled = dialAll(list, T0, connections('10.9.0.1:1'), (swarmConnections) => {
      asked.push(swarmConnections);
      return swarmConnections < 4;
    });
    expect(dialled).toHaveLength(3);
    expect(asked).toEqual([1, 2, 3, 4]);
  });

  test('no more than maxPeersPerAddress to one IP, counting open connections and dials under way', () => {
    const { list } = setup({ settings: { maxPeersPerAddress: 3 } });
    const sameIp = learnMany(list, 6, '10.2.0.1');
    list.learn('10.2.0.2', 7000, 'tracker');
    const dialled = dialAll(list, T0, connections('10.2.0.1:9999'));
    expect(dialled).toEqual([sameIp[0], sameIp[1], '10.2.0.2:7000']);
    // Dials under way count too: nothing more for that IP until one ends.
    expect(dialAll(list, T0, connections('10.2.0.1:9999'))).toEqual([]);
  });

  test('a failed dial backs off RECONNECT_BASE_MS, doubling per failure', () => {
    const { list } = setup();
    const [address] = learnMany(list, 1);
    const peer = known(list, address);
    let now = T0;
    const delays: number[] = [];
    for (let failures = 1; failures < MAX_CONNECT_FAILURES; failures++) {
      list.dialStarted(peer);
      expect(list.dialFailed(peer, now)).toBe(false);
      delays.push(peer.nextAttemptAt - now);
      expect(dialAll(list, peer.nextAttemptAt - 1)).toEqual([]);
      now = peer.nextAttemptAt;
      expect(dialAll(list, now)).toEqual([address]);
    }
    expect(delays).toEqual([1, 2, 4, 8].map((k) => k * RECONNECT_BASE_MS));
  });

  test(`after ${MAX_CONNECT_FAILURES} failed dials in a row the peer leaves the list, and that is reported`, () => {
    const { list } = setup();
    const [address, other] = learnMany(list, 2);
    const peer = known(list, address);
    const left: boolean[] = [];
    for (let i = 0; i < MAX_CONNECT_FAILURES; i++) {
      list.dialStarted(peer);
      left.push(list.dialFailed(peer, T0));
    }
    expect(left).toEqual([...Array<boolean>(MAX_CONNECT_FAILURES - 1).fill(false), true]);
    expect(list.addresses()).toEqual([other]);
  });

  test('an answer resets the failures: the count starts again', () => {
    const { list } = setup();
    const [address] = learnMany(list, 1);
    const peer = known(list, address);
    for (let i = 0; i < MAX_CONNECT_FAILURES - 1; i++) list.dialFailed(peer, T0);
    list.answered(peer, 'aa');
    expect(peer.failures).toBe(0);
    expect(list.dialFailed(peer, T0)).toBe(false);
    expect(list.addresses()).toEqual([address]);
  });

  test('a duplicate connection is not dialled again until the connection with that peer id closes', () => {
    const { list } = setup();
    const [address] = learnMany(list, 1);
    const peer = known(list, address);
    list.dialStarted(peer);
    list.answered(peer, 'beef');
    list.admitted(peer, 'duplicate', T0);
    expect(dialAll(list, T0 + 24 * 3600_000)).toEqual([]);
    list.connectionClosed('f00d', T0 + 10);
    expect(dialAll(list, T0 + 24 * 3600_000)).toEqual([]);
    list.connectionClosed('beef', T0 + 10);
    expect(dialAll(list, T0 + 10 + RECONNECT_BASE_MS - 1)).toEqual([]);
    expect(dialAll(list, T0 + 10 + RECONNECT_BASE_MS)).toEqual([address]);
  });

  test('a refused connection is tried again after RECONNECT_BASE_MS; an admitted one is not delayed', () => {
    const { list } = setup();
    const [refused, admitted] = learnMany(list, 2);
    for (const [address, admission] of [
      [refused, 'refused'],
      [admitted, 'admitted'],
    ] as const) {
      const peer = known(list, address);
      list.dialStarted(peer);
      list.answered(peer, address);
      list.admitted(peer, admission, T0);
    }
    expect(dialAll(list, T0)).toEqual([admitted]);
    expect(dialAll(list, T0 + RECONNECT_BASE_MS)).toEqual([refused]);
  });
});

describe('admission limits', () => {
  const peerId = (n: number): Buffer => Buffer.alloc(20, n);
  const open = (...peers: [number, string][]) => new Set(peers.map(([id, remoteIp]) => ({ handshake: { peerId: peerId(id) }, remoteIp })));

  test('a second connection to a peer id is a duplicate', () => {
    expect(admissionLimit(peerId(1), '10.3.0.9', open([1, '10.3.0.1']), defaultSettings)).toEqual({ reason: 'already connected to that peer', admission: 'duplicate' });
  });

  test('maxPeersPerSwarm and maxPeersPerAddress refuse; below them, a connection is admitted', () => {
    const limits = { maxPeersPerSwarm: 3, maxPeersPerAddress: 2 };
    expect(admissionLimit(peerId(9), '10.3.0.1', open([1, '10.3.0.1'], [2, '10.3.0.2']), limits)).toBeNull();
    expect(admissionLimit(peerId(9), '10.3.0.1', open([1, '10.3.0.1'], [2, '10.3.0.1']), limits)).toEqual({
      reason: '2 peers from 10.3.0.1 are connected in this swarm already (maxPeersPerAddress)',
      admission: 'refused',
    });
    expect(admissionLimit(peerId(9), '10.3.0.9', open([1, '10.3.0.1'], [2, '10.3.0.2'], [3, '10.3.0.3']), limits)).toEqual({
      reason: '3 peers are connected in this swarm already (maxPeersPerSwarm)',
      admission: 'refused',
    });
  });
});

describe('the ut_pex broadcast', () => {
  const addresses = (peers: PexPeer[]): string[] => peers.map(({ ip, port }) => `${ip}:${port}`);

  class Recipient implements PexRecipient {
    /** Each ut_pex message it was sent, as addresses. */
    readonly sent: { added: string[]; dropped: string[] }[] = [];
    readonly pex: PexSender | null;
    readonly extensions: { m: { ut_pex?: number } } | null;

    constructor(
      readonly remoteIp: string,
      readonly listenPort: number | undefined,
      speaksPex = true,
    ) {
      this.extensions = { m: speaksPex ? { ut_pex: 3 } : {} };
      this.pex = speaksPex ? new PexSender({ shoalPeer: true }) : null;
    }

    send(message: WireMessage): void {
      if (message.kind !== 'extended' || message.extId !== 3) throw new Error(`sent ${message.kind}`);
      const { added, dropped } = decodePex(message.payload);
      this.sent.push({ added: addresses(added), dropped: addresses(dropped) });
    }
  }

  test('each peer that speaks ut_pex hears of the list, without its own address', () => {
    const { list } = setup();
    list.learn('10.4.0.1', 7000, 'tracker');
    list.learn('10.4.0.2', 7000, 'tracker');
    const a = new Recipient('10.4.0.1', 7000);
    const b = new Recipient('10.4.0.3', undefined);
    const mute = new Recipient('10.4.0.4', 7000, false);
    list.broadcast([a, b, mute], T0);
    expect(a.sent).toEqual([{ added: ['10.4.0.2:7000'], dropped: [] }]);
    expect(b.sent).toEqual([{ added: ['10.4.0.1:7000', '10.4.0.2:7000'], dropped: [] }]);
    expect(mute.sent).toEqual([]);
  });

  test('a peer dropped after failed dials is reported as dropped in the next broadcast', () => {
    const { list } = setup();
    const [gone, stays] = learnMany(list, 2);
    const recipient = new Recipient('10.4.0.9', 7000);
    list.broadcast([recipient], T0);
    const peer = known(list, gone);
    let dropped = false;
    for (let i = 0; i < MAX_CONNECT_FAILURES; i++) dropped = list.dialFailed(peer, T0);
    expect(dropped).toBe(true);
    list.broadcast([recipient], T0 + defaultSettings.pexShoalIntervalMs);
    expect(recipient.sent).toEqual([
      { added: [gone, stays], dropped: [] },
      { added: [], dropped: [gone] },
    ]);
    expect(list.addresses()).toEqual([stays]);
  });
});
