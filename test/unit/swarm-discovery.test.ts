/** A swarm's part in the DHT and local discovery (src/main/swarm/swarm-discovery.ts), with fake ones. */
import type { DhtSwarm } from '../../src/main/dht/dht-swarms.js';
import type { PeerSource } from '../../src/main/swarm/peer-list.js';
import { SwarmDiscovery } from '../../src/main/swarm/swarm-discovery.js';
import type { PeerAddress } from '../../src/main/tracker/announce-client.js';
import type { Handshake } from '../../src/main/wire/wire-messages.js';

const INFO_HASH = Buffer.alloc(20, 7);
const PEER = { ip: '10.0.0.2', port: 7000 };

function handshake(dht: boolean): Handshake {
  return { reserved: Buffer.from([0, 0, 0, 0, 0, 0x10, 0, dht ? 0x05 : 0x04]), infoHash: INFO_HASH, peerId: Buffer.alloc(20, 1) };
}

function fakes() {
  const calls = { dhtSwarms: [] as DhtSwarm[], nodes: [] as string[], lsd: [] as string[], left: [] as string[] };
  const lsdListeners: ((peers: PeerAddress[]) => void)[] = [];
  const context = {
    port: 6881,
    isSelf: (ip: string, port: number) => ip === '10.0.0.1' && port === 6881,
    dht: {
      add: (swarm: DhtSwarm) => {
        calls.dhtSwarms.push(swarm);
        return () => void calls.left.push('dht');
      },
      addNode: (host: string, port: number) => void calls.nodes.push(`${host}:${port}`),
    },
    lsd: {
      add: (infoHashHex: string, learn: (peers: PeerAddress[]) => void) => {
        calls.lsd.push(infoHashHex);
        lsdListeners.push(learn);
        return () => void calls.left.push('lsd');
      },
    },
  };
  return { context, calls, lsdListeners };
}

test('a public swarm joins both, with peers labelled by where they came from, and leaves both', () => {
  const { context, calls, lsdListeners } = fakes();
  const discovery = new SwarmDiscovery(context, false);
  const learned: [PeerAddress[], PeerSource][] = [];
  discovery.join(INFO_HASH, () => true, (peers, source) => void learned.push([[...peers], source]));
  expect(calls.lsd).toEqual([INFO_HASH.toString('hex')]);
  const [asDht] = calls.dhtSwarms;
  expect(asDht.infoHash).toEqual(INFO_HASH);
  expect(asDht.isSelf('10.0.0.1', 6881)).toBe(true);
  asDht.learnPeers([PEER]);
  lsdListeners[0]([PEER]);
  expect(learned).toEqual([[[PEER], 'dht'], [[PEER], 'lsd']]);
  discovery.stop();
  expect(calls.left).toEqual(['dht', 'lsd']);
});

test('PORT goes to a peer that set the DHT bit; the first PORT of a connection adds its node, later ones do not', () => {
  const { context, calls } = fakes();
  const discovery = new SwarmDiscovery(context, false);
  expect(discovery.offersDht).toBe(true);
  expect(discovery.portMessageFor(handshake(true))).toEqual({ kind: 'port', port: 6881 });
  expect(discovery.portMessageFor(handshake(false))).toBeNull();
  const connection = {};
  discovery.portReceived(connection, '10.0.0.2', 7001);
  discovery.portReceived(connection, '10.0.0.2', 7002);
  discovery.portReceived({}, '10.0.0.3', 7003);
  expect(calls.nodes).toEqual(['10.0.0.2:7001', '10.0.0.3:7003']);
});

test('a private swarm takes no part: not announced, no DHT bit, no PORT either way', () => {
  const { context, calls } = fakes();
  const discovery = new SwarmDiscovery(context, true);
  discovery.join(INFO_HASH, () => true, () => undefined);
  expect(calls.dhtSwarms).toEqual([]);
  expect(calls.lsd).toEqual([]);
  expect(discovery.offersDht).toBe(false);
  expect(discovery.portMessageFor(handshake(true))).toBeNull();
  discovery.portReceived({}, '10.0.0.2', 7001);
  expect(calls.nodes).toEqual([]);
});

test('with the DHT and local discovery off, nothing is joined and nothing offered', () => {
  const { context } = fakes();
  const discovery = new SwarmDiscovery({ ...context, dht: null, lsd: null }, false);
  discovery.join(INFO_HASH, () => true, () => undefined);
  expect(discovery.offersDht).toBe(false);
  expect(discovery.portMessageFor(handshake(true))).toBeNull();
  discovery.stop();
});
