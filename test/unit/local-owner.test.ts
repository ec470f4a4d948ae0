/**
 * Issue 18: the dashboard is handed the token only by a connection from a program of the peer's
 * own user on its machine, found in /proc/net/tcp; anything else is refused.
 */
import net from 'node:net';
import { isLoopback, isOwnLocalClient, ownerIn, procAddress } from '../../src/main/control/local-owner.js';

test('addresses are written as /proc/net/tcp writes them', () => {
  expect(procAddress('127.0.0.1', 6881)).toBe('0100007F:1AE1');
  expect(procAddress('::ffff:127.0.0.1', 80)).toBe('0000000000000000FFFF00000100007F:0050');
  expect(procAddress('::1', 6881)).toBe('00000000000000000000000001000000:1AE1');
});

test('the owner of a socket is read from its line', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1AE1 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:C350 0100007F:1AE1 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');
  expect(ownerIn(table, '0100007F:C350', '0100007F:1AE1')).toBe(1001);
  expect(ownerIn(table, '0100007F:C351', '0100007F:1AE1')).toBeUndefined();
});

test('only loopback connections are considered', async () => {
  expect(isLoopback('127.3.4.5')).toBe(true);
  expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
  expect(isLoopback('::1')).toBe(true);
  expect(isLoopback('192.168.1.10')).toBe(false);
  expect(await isOwnLocalClient({ ip: '192.168.1.10', port: 5000 }, { ip: '192.168.1.2', port: 6881 })).toBe(false);
});

const linux = process.platform === 'linux' ? test : test.skip;
linux('a connection of this very process is its user\'s; a made-up one is nobody\'s', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  try {
    const socket = await accepted;
    const remote = { ip: socket.remoteAddress!, port: socket.remotePort! };
    const local = { ip: socket.localAddress!, port: socket.localPort! };
    expect(await isOwnLocalClient(remote, local)).toBe(true);
    expect(await isOwnLocalClient({ ip: remote.ip, port: remote.port === 1 ? 2 : 1 }, local)).toBe(false);
    socket.destroy();
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
