/**
 * The HTTP limits of a real peer process, against raw-socket clients: oversized headers are
 * answered 431 and closed, headers sent a byte at a time are cut off after the header time, and
 * the peer answers /status all along.
 */
import { defaultSettings as settings } from '../../src/io/settings.js';
import { folderArgs, freePort, makePeerFolders, removeFolders, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { RawHttpClient, within } from '../helpers/raw-http-client.js';

/** Bound on a wait for something that must happen at once. */
const PROMPT_MS = 5_000;

describe('HTTP limits of a peer', () => {
  let folders: PeerFolders;
  let peer: PeerProcess;
  const clients: RawHttpClient[] = [];
  const client = (waitMs = PROMPT_MS): RawHttpClient => {
    const c = new RawHttpClient(peer.port, waitMs);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    folders = await makePeerFolders();
    peer = startPeer(folderArgs(folders), await freePort());
    await peer.waitForStatus(() => true, 15_000, 'the peer to answer /status');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  afterAll(async () => {
    await peer.stop();
    await removeFolders(folders);
  });

  test(`headers over httpMaxHeaderBytes (${settings.httpMaxHeaderBytes} bytes) are answered 431 and the connection closed`, async () => {
    const c = client();
    c.write(`GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(settings.httpMaxHeaderBytes)}\r\n\r\n`);
    await within(c.closed, PROMPT_MS, 'closing the connection with oversized headers');
    expect(c.received).toMatch(/^HTTP\/1\.1 431 /);
    expect((await peer.status()).port).toBe(peer.port);
  });

  test(`headers sent a byte at a time are cut off after httpHeadersTimeoutMs (${settings.httpHeadersTimeoutMs} ms), while /status answers`, async () => {
    const slow = client();
    // One byte every 100 ms would take 30 s for these headers.
    void slow.trickle(`GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(300)}\r\n\r\n`, 100);
    await peer.status();
    expect(slow.isClosed).toBe(false);
    const closedAfter = await within(slow.closed, settings.httpHeadersTimeoutMs + PROMPT_MS, 'cutting off the slow client');
    expect(closedAfter).toBeGreaterThanOrEqual(settings.httpHeadersTimeoutMs - 100);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
    expect((await peer.status()).port).toBe(peer.port);
  });
});
