/**
 * The peer's one UDP socket: datagrams told apart by their first bytes, tracker requests to the
 * tracker, responses to whoever waits for their transaction id (from the address asked only),
 * DHT messages and oversized or unknown datagrams dropped and counted, a busy port refused with
 * a clear reason. Real sockets on loopback.
 */
import dgram from 'node:dgram';
import { createLogger } from '../../src/main/logger.js';
import { classifyPacket, UdpPort } from '../../src/main/net/udp-port.js';
import { StartupError } from '../../src/main/startup-error.js';
import { encodeRequest, encodeResponse } from '../../src/main/tracker/udp-tracker-codec.js';
import { PROTOCOL_ID } from '../../src/main/tracker/udp-tracker-packets.js';
import { defaultSettings } from '../../src/io/settings.js';

const quiet = createLogger('quiet', () => undefined);
const options = { log: quiet, settings: defaultSettings };

function rawSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}

function closeRaw(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

function sendRaw(socket: dgram.Socket, packet: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const marked = (length: number): Buffer => Buffer.concat([Buffer.from([0x80]), Buffer.alloc(length - 1)]);

describe('telling datagrams apart by their first bytes', () => {
  test('a connect request (the protocol id) and a request with a marked connection id are tracker requests', () => {
    expect(classifyPacket(encodeRequest({ action: 'connect', transactionId: 1 }))).toBe('tracker-request');
    expect(classifyPacket(marked(98))).toBe('tracker-request');
    expect(classifyPacket(Buffer.concat([Buffer.from([0xff]), Buffer.alloc(15)]))).toBe('tracker-request');
  });

  test('a response (action 0 to 3, first byte 0) is a tracker response', () => {
    for (const action of ['connect', 'announce', 'scrape', 'error'] as const) {
      const packet = encodeResponse(
        action === 'connect'
          ? { action, transactionId: 1, connectionId: 5n }
          : action === 'announce'
            ? { action, transactionId: 1, intervalS: 1, leechers: 0, seeders: 0, peers: [] }
            : action === 'scrape'
              ? { action, transactionId: 1, files: [] }
              : { action, transactionId: 1, message: 'no' },
      );
      expect(classifyPacket(packet)).toBe('tracker-response');
    }
  });

  test("a bencoded dictionary ('d') is the DHT's; anything else is unknown", () => {
    expect(classifyPacket(Buffer.from('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe'))).toBe('dht');
    expect(classifyPacket(Buffer.alloc(0))).toBe('unknown');
    expect(classifyPacket(Buffer.from([0x41, 0, 0, 0, 0, 0, 0, 0]))).toBe('unknown');
    expect(classifyPacket(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]))).toBe('unknown');
    // The protocol id's first 32 bits are 0x417, no action: without the rest, it is nothing.
    expect(classifyPacket(Buffer.from('0000041727101980', 'hex'))).toBe('unknown');
    expect(PROTOCOL_ID >> 32n).toBe(0x417n);
  });
});

describe('the UDP port', () => {
  test('hands tracker requests to the tracker with their source, and counts what it drops', async () => {
    const port = await UdpPort.open(0, '127.0.0.1', { ...options, settings: { udpMaxPacketBytes: 100 } });
    const client = await rawSocket();
    const requests: { length: number; port: number; address: string; family: string }[] = [];
    try {
      await sendRaw(client, encodeRequest({ action: 'connect', transactionId: 1 }), port.port);
      await until(() => port.counters.dropped.noTracker === 1, 'a request without a tracker to be dropped');
      port.onTrackerRequest = (packet, from) => requests.push({ length: packet.length, ...from });
      await sendRaw(client, encodeRequest({ action: 'connect', transactionId: 1 }), port.port);
      await sendRaw(client, Buffer.from('d1:q4:pinge'), port.port);
      await sendRaw(client, marked(101), port.port);
      await sendRaw(client, Buffer.from('hello'), port.port);
      await sendRaw(client, encodeResponse({ action: 'error', transactionId: 99, message: 'late' }), port.port);
      await until(() => port.counters.received === 6, 'six datagrams');
      expect(requests).toEqual([{ length: 16, port: client.address().port, address: '127.0.0.1', family: 'IPv4' }]);
      expect(port.counters.dropped).toMatchObject({ noTracker: 1, dht: 1, oversized: 1, unrecognized: 1, unknownTransaction: 1 });
    } finally {
      await closeRaw(client);
      await port.close();
    }
  });

  test('hands DHT messages to the DHT with their source once it has one, tracker requests still to the tracker', async () => {
    const port = await UdpPort.open(0, '127.0.0.1', options);
    const client = await rawSocket();
    const dht: { text: string; port: number }[] = [];
    let trackerRequests = 0;
    try {
      port.onTrackerRequest = () => trackerRequests++;
      port.onDhtPacket = (packet, from) => dht.push({ text: packet.toString('latin1'), port: from.port });
      await sendRaw(client, Buffer.from('d1:q4:pinge'), port.port);
      await sendRaw(client, encodeRequest({ action: 'connect', transactionId: 1 }), port.port);
      await until(() => port.counters.received === 2, 'two datagrams');
      expect(dht).toEqual([{ text: 'd1:q4:pinge', port: client.address().port }]);
      expect(trackerRequests).toBe(1);
      expect(port.counters.dropped.dht).toBe(0);
      port.onDhtPacket = () => {
        throw new Error('boom');
      };
      await sendRaw(client, Buffer.from('d1:q4:pinge'), port.port);
      await until(() => port.counters.dropped.handlerError === 1, 'a failing DHT handler to be counted, not thrown');
    } finally {
      await closeRaw(client);
      await port.close();
    }
  });

  test('a tracker handler that throws is counted, never thrown', async () => {
    const port = await UdpPort.open(0, '127.0.0.1', options);
    const client = await rawSocket();
    try {
      port.onTrackerRequest = () => {
        throw new Error('boom');
      };
      await sendRaw(client, encodeRequest({ action: 'connect', transactionId: 1 }), port.port);
      await until(() => port.counters.dropped.handlerError === 1, 'the failure to be counted');
    } finally {
      await closeRaw(client);
      await port.close();
    }
  });

  test('request() sends and resolves with the response of its transaction id, from the address asked only', async () => {
    const port = await UdpPort.open(0, '127.0.0.1', options);
    const tracker = await rawSocket();
    const stranger = await rawSocket();
    try {
      tracker.on('message', (packet, rinfo) => {
        const transactionId = packet.readUInt32BE(12);
        // A forged reply from another socket first, then the real one.
        const reply = encodeResponse({ action: 'connect', transactionId, connectionId: 0x8000000000000042n });
        void sendRaw(stranger, reply, rinfo.port).then(() => setTimeout(() => void sendRaw(tracker, reply, rinfo.port), 20));
      });
      const transactionId = port.newTransactionId();
      const { packet, from } = await port.request(encodeRequest({ action: 'connect', transactionId }), transactionId, tracker.address().port, '127.0.0.1', 2_000);
      expect(packet.readBigUInt64BE(8)).toBe(0x8000000000000042n);
      expect(from).toEqual({ address: '127.0.0.1', port: tracker.address().port, family: 'IPv4' });
      expect(port.counters.dropped.wrongSource).toBe(1);
      expect(port.awaitedCount).toBe(0);
    } finally {
      await Promise.all([closeRaw(tracker), closeRaw(stranger)]);
      await port.close();
    }
  });

  test('request() rejects after its time-out, and when the port closes', async () => {
    const port = await UdpPort.open(0, '127.0.0.1', options);
    const silent = await rawSocket();
    try {
      const id = port.newTransactionId();
      await expect(port.request(encodeRequest({ action: 'connect', transactionId: id }), id, silent.address().port, '127.0.0.1', 50)).rejects.toThrow(/no response .* within 50 ms/);
      expect(port.awaitedCount).toBe(0);
      const pending = port.request(encodeRequest({ action: 'connect', transactionId: id }), id, silent.address().port, '127.0.0.1', 10_000);
      await port.close();
      await expect(pending).rejects.toThrow(/closed/);
      await expect(port.send(Buffer.alloc(1), 1, '127.0.0.1')).rejects.toThrow(/closed/);
      await port.close();
    } finally {
      await closeRaw(silent);
    }
  });

  test('a busy UDP port is a StartupError that says so', async () => {
    const holder = await rawSocket();
    try {
      const taken = holder.address().port;
      const opening = UdpPort.open(taken, '127.0.0.1', options);
      await expect(opening).rejects.toThrow(StartupError);
      await expect(opening).rejects.toThrow(new RegExp(`UDP port ${taken} is already in use \\(127\\.0\\.0\\.1:${taken}\\); choose another with --port`));
    } finally {
      await closeRaw(holder);
    }
  });

  test('an address that is not ours is a StartupError naming --host', async () => {
    await expect(UdpPort.open(0, '192.0.2.123', options)).rejects.toThrow(/192\.0\.2\.123 is not an address of this machine \(--host\)/);
  });
});
