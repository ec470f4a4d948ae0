/**
 * One port per peer, its UDP side (docs/architecture.md): a seeder that is its torrent's
 * announcer serves the UDP tracker protocol (BEP 15) on the UDP port of its TCP port's number,
 * over the same peer lists as its HTTP tracker. A raw datagram client here connects, announces
 * and scrapes over UDP; a second fake peer announces over HTTP; each sees the other.
 */
import dgram from 'node:dgram';
import { request } from 'undici';
import { asBytes, decodeBencode, isDict } from '../../src/io/bencode.js';
import { decodeResponse, encodeRequest } from '../../src/main/tracker/udp-tracker-codec.js';
import type { UdpAnnounceRequest, UdpTrackerRequest, UdpTrackerResponse } from '../../src/main/tracker/udp-tracker-packets.js';
import { decodeCompactPeers } from '../../src/main/tracker/tracker-responses.js';
import { generatedContent, InProcessSwarm } from '../helpers/in-process-peer.js';

const swarm = new InProcessSwarm('udp-tracker.bin');
let client: dgram.Socket | null = null;
afterEach(async () => {
  if (client) await new Promise<void>((resolve) => client!.close(() => resolve()));
  client = null;
  await swarm.cleanup();
});

/** Sends a request to 127.0.0.1:`port` over UDP and waits for the reply with its transaction id. */
function exchange(socket: dgram.Socket, port: number, packet: UdpTrackerRequest, timeoutMs = 5_000): Promise<UdpTrackerResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no UDP reply to ${packet.action} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (data: Buffer, rinfo: dgram.RemoteInfo): void => {
      if (rinfo.port !== port) return;
      const decoded = decodeResponse(data, 'IPv4');
      if (!decoded.ok) return finish(new Error(`undecodable reply: ${decoded.reason}`));
      if (decoded.packet.transactionId === packet.transactionId) finish(null, decoded.packet);
    };
    const finish = (error: Error | null, reply?: UdpTrackerResponse): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      if (error) reject(error);
      else resolve(reply!);
    };
    socket.on('message', onMessage);
    socket.send(encodeRequest(packet), port, '127.0.0.1', (error) => error && finish(error));
  });
}

const escaped = (bytes: Buffer): string => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

test('a UDP announce gets the seeder, and UDP and HTTP announcers see each other', async () => {
  const seeder = await swarm.startSeeder(generatedContent(256 * 1024));
  await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 30_000, 'the seeder to seed');
  const infoHash = Buffer.from(swarm.meta.infoHashHex, 'hex');
  const port = seeder.port;
  const seederAddress = `127.0.0.1:${port}`;

  client = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => client!.bind(0, '127.0.0.1', () => resolve()));

  const connected = await exchange(client, port, { action: 'connect', transactionId: 0x1001 });
  if (connected.action !== 'connect') throw new Error(`expected a connect response, got ${JSON.stringify(connected)}`);
  const announce: UdpAnnounceRequest = {
    action: 'announce',
    connectionId: connected.connectionId,
    transactionId: 0x1002,
    infoHash,
    peerId: Buffer.from('-XX0100-udpudpudpudp', 'latin1'),
    downloaded: 0,
    left: 256 * 1024,
    uploaded: 0,
    event: 'started',
    ip: 0,
    key: 1,
    numWant: -1,
    port: 7101,
    urlData: Buffer.from('/announce'),
  };
  const first = await exchange(client, port, announce);
  expect(first).toMatchObject({ action: 'announce', transactionId: 0x1002, seeders: 1, leechers: 1 });
  expect((first as { peers: { ip: string; port: number }[] }).peers.map((p) => `${p.ip}:${p.port}`)).toEqual([seederAddress]);

  // Another fake peer announces over HTTP, on the same port number, and is told of the UDP one.
  const query = `info_hash=${escaped(infoHash)}&peer_id=-XX0100-httphttphttp&port=7102&uploaded=0&downloaded=0&left=1&compact=1`;
  const { body } = await request(`http://127.0.0.1:${port}/announce?${query}`);
  const reply = decodeBencode(Buffer.from(await body.arrayBuffer()));
  if (!isDict(reply)) throw new Error('the HTTP tracker reply is not a dictionary');
  const httpPeers = decodeCompactPeers(asBytes(reply.peers) ?? Buffer.alloc(0), 4)!.map((p) => `${p.ip}:${p.port}`);
  expect(httpPeers.sort()).toEqual(['127.0.0.1:7101', seederAddress].sort());

  // The UDP client, announcing again, is told of the HTTP one.
  const again = await exchange(client, port, { ...announce, transactionId: 0x1003, event: 'empty' });
  expect(again).toMatchObject({ action: 'announce', seeders: 1, leechers: 2 });
  expect((again as { peers: { ip: string; port: number }[] }).peers.map((p) => `${p.ip}:${p.port}`).sort()).toEqual(['127.0.0.1:7102', seederAddress].sort());

  const scraped = await exchange(client, port, { action: 'scrape', connectionId: connected.connectionId, transactionId: 0x1004, infoHashes: [infoHash, Buffer.alloc(20)] });
  expect(scraped).toEqual({
    action: 'scrape',
    transactionId: 0x1004,
    files: [
      { seeders: 1, completed: 0, leechers: 2 },
      { seeders: 0, completed: 0, leechers: 0 },
    ],
  });

  // A connection id is bound to the address and port it was given to.
  const stranger = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', () => resolve()));
    await expect(exchange(stranger, port, { ...announce, transactionId: 0x1005 }, 500).then(() => 'answered', () => 'dropped')).resolves.toBe('dropped');
  } finally {
    await new Promise<void>((resolve) => stranger.close(() => resolve()));
  }

  // A stopped peer lets go of its UDP port: it can be bound again at once.
  await seeder.stop();
  const rebound = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    rebound.once('error', reject);
    rebound.bind(port, '0.0.0.0', () => resolve());
  });
  await new Promise<void>((resolve) => rebound.close(() => resolve()));
}, 60_000);
