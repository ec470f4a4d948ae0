/** --dht-bootstrap's list (src/main/dht/bootstrap-nodes.ts). */
import { defaultSettings } from '../../src/io/settings.js';
import { parseBootstrapNodes } from '../../src/main/dht/bootstrap-nodes.js';

test('host names and IPv4 addresses with ports, separated by commas', () => {
  expect(parseBootstrapNodes('router.example.org:6881, 10.0.0.1:1')).toEqual([
    { host: 'router.example.org', port: 6881 },
    { host: '10.0.0.1', port: 1 },
  ]);
  expect(parseBootstrapNodes(defaultSettings.dhtBootstrapNodes).map(({ host }) => host)).toEqual(['router.bittorrent.com', 'dht.transmissionbt.com', 'router.utorrent.com']);
});

test.each([
  ['', /HOST:PORT entries separated by commas/],
  ['a:1,,b:2', /separated by commas/],
  ['router.example.org', /"router.example.org" is not HOST:PORT/],
  ['router.example.org:0', /the port must be between 1 and 65535/],
  ['router.example.org:65536', /the port must be between 1 and 65535/],
  ['[::1]:6881', /IPv4 only/],
  ['bad_host:1', /is not HOST:PORT/],
  [Array.from({ length: 65 }, (_, i) => `h${i}:1`).join(','), /at most 64 nodes/],
])('%s is refused with the reason', (text, reason) => {
  expect(() => parseBootstrapNodes(text)).toThrow(reason);
});
