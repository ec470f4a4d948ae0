/**
 * Our scrape of several torrents in one request against a tracker that is not ours: opentracker
 * (Debian's build) on 127.0.0.1, with three whitelisted torrents, one seeded, one leeched, one
 * with nobody, scraped once over HTTP (BEP 48, `info_hash` repeated) and once over UDP (BEP 15).
 */
import { defaultSettings } from '../../src/io/settings.js';
import { createLogger } from '../../src/main/logger.js';
import { UdpPort } from '../../src/main/net/udp-port.js';
import { announceOnce, httpTracker } from '../../src/main/tracker/http-tracker-client.js';
import { udpTracker } from '../../src/main/tracker/udp-tracker-client.js';
import { Opentracker } from '../helpers/opentracker.js';
import { describeWithTool } from '../helpers/require-tool.js';

const [SEEDED, LEECHED, EMPTY] = [0x5e, 0x1e, 0xe0].map((byte) => Buffer.alloc(20, byte));

describeWithTool(['opentracker'], 'a scrape of several torrents at opentracker', () => {
  let tracker: Opentracker | undefined;
  let udp: UdpPort | undefined;
  afterEach(async () => {
    await udp?.close();
    await tracker?.stop();
    udp = tracker = undefined;
  });

  test('over HTTP and over UDP, each torrent gets its own counts in one request', async () => {
    const opentracker = await Opentracker.start([SEEDED, LEECHED, EMPTY].map((hash) => hash.toString('hex')));
    tracker = opentracker;
    const peer = { peerId: Buffer.from('-SH0100-multiscrape1', 'latin1'), port: 7001, event: 'started' as const };
    await announceOnce(opentracker.httpAnnounceUrl, { ...peer, infoHash: SEEDED, stats: { uploaded: 0, downloaded: 0, left: 0 } });
    await announceOnce(opentracker.httpAnnounceUrl, { ...peer, infoHash: LEECHED, stats: { uploaded: 0, downloaded: 0, left: 10 } });
    const seeded = { seeders: 1, leechers: 0, completed: 0 };
    const leeched = { seeders: 0, leechers: 1, completed: 0 };

    // Its HTTP reply leaves out a torrent it has never had a peer of; a BEP 15 answer has a place for each.
    const overHttp = await httpTracker(opentracker.httpAnnounceUrl).scrape!([SEEDED, LEECHED, EMPTY]);
    expect(overHttp).toEqual([seeded, leeched, undefined]);

    udp = await UdpPort.open(0, '127.0.0.1', { log: createLogger('quiet', () => undefined), settings: defaultSettings });
    const overUdp = await udpTracker(opentracker.udpAnnounceUrl, { transport: udp }).scrape!([SEEDED, LEECHED, EMPTY], { deadlineMs: 5_000 });
    expect(overUdp).toEqual([seeded, leeched, { seeders: 0, leechers: 0, completed: 0 }]);
  });
});
