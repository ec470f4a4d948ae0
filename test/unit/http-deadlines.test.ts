/**
 * HttpDeadlines over real loopback sockets handed to node:http the way the port listener hands
 * them (so that node's own time-outs, which need a listening server, never fire), with limits
 * short enough to run in a second.
 */
import http from 'node:http';
import net from 'node:net';
import { HttpDeadlines } from '../../src/main/net/http-deadlines.js';
import { RawHttpClient, within } from '../helpers/raw-http-client.js';

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 600;
/** Bound on every wait: well past both limits, so a limit that never fires fails the test. */
const WAIT_MS = 5_000;

interface Harness {
  port: number;
  /** Waits, with a bound, until the server has accepted a connection and holds none open. */
  emptied(): Promise<void>;
  close(): Promise<void>;
}

/** A net server adopting each connection into an http server that answers /small and /large. */
async function harness(): Promise<Harness> {
  const deadlines = new HttpDeadlines({ headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const large = Buffer.alloc(64 * 1024 * 1024, 0x61);
  const server = http.createServer({ headersTimeout: 0, requestTimeout: 0 }, (req, res) => {
    deadlines.requestStarted(req, res);
    if (req.url === '/stream') {
      // A file streamed as its pieces arrive: the client takes each part, then waits on us.
      res.writeHead(200, { 'content-length': '10' });
      res.write('first');
      setTimeout(() => res.end('-last'), 3 * REQUEST_TIMEOUT_MS);
      return;
    }
    res.end(req.url === '/large' ? large : 'ok');
  });
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const listener = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    deadlines.adopt(socket);
    server.emit('connection', socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as net.AddressInfo).port,
    emptied: async () => {
      const deadline = Date.now() + WAIT_MS;
      while (accepted === 0 || sockets.size > 0) {
        if (Date.now() > deadline) throw new Error(`the server still holds ${sockets.size} of ${accepted} connections`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

describe('HTTP deadlines', () => {
  let server: Harness;
  const clients: RawHttpClient[] = [];
  const client = (): RawHttpClient => {
    const c = new RawHttpClient(server.port, WAIT_MS);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    server = await harness();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await server.close();
  });

  test('headers sent a byte at a time are cut off with 408 after the header time, while others are served', async () => {
    const slow = client();
    void slow.trickle(`GET /small HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`, 20);
    const prompt = client();
    prompt.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await prompt.responses(1);
    expect(slow.isClosed).toBe(false);
    const closedAfter = await within(slow.closed, WAIT_MS, 'closing the slow client');
    expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('each request of a kept-alive connection has the header time anew', async () => {
    const c = client();
    // Four prompt requests spread over more than the header time: all are served.
    for (let i = 1; i <= 4; i++) {
      c.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.responses(i);
      await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS / 2));
    }
    expect(c.isClosed).toBe(false);
    // Then a slow one is cut off like the first would have been.
    void c.trickle(`GET /small HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`, 20);
    await within(c.closed, WAIT_MS, 'closing the kept-alive client once it is slow');
    expect(c.received).toMatch(/408 Request Timeout/);
  });

  test('a connection that sends nothing after being handed over is cut off after the header time', async () => {
    const c = client();
    const closedAfter = await within(c.closed, WAIT_MS, 'closing the silent client');
    expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
  });

  test('a response the client does not read is cut off after the request time', async () => {
    const c = client();
    // A paused client does not see the close, so the server's side is watched.
    c.pause();
    const sentAt = Date.now();
    c.write('GET /large HTTP/1.1\r\nHost: x\r\n\r\n');
    await server.emptied();
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
  });

  test('a response under way whose bytes the client has all taken is not cut off while the server is slow (issue 18, streams)', async () => {
    const c = client();
    c.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    const deadline = Date.now() + WAIT_MS;
    while (!c.received.endsWith('first-last') && !c.isClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(c.received).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nfirst-last$/);
    expect(c.isClosed).toBe(false);
  });
});
