/** What the request pipeline keeps per peer: the abandoned requests whose late answers are excused. */
import { defaultSettings } from '../../src/io/settings.js';
import { blockKey, PeerRequests } from '../../src/main/swarm/peer-requests.js';

test('the late answer to an abandoned request is excused once', () => {
  const requests = new PeerRequests(defaultSettings);
  requests.abandon(blockKey(3, 0));
  expect(requests.excuseLate(blockKey(3, 0))).toBe(true);
  expect(requests.excuseLate(blockKey(3, 0))).toBe(false);
});

test('only the last 1024 abandoned requests are remembered', () => {
  const requests = new PeerRequests(defaultSettings);
  for (let i = 0; i <= 1024; i++) requests.abandon(blockKey(i, 0));
  expect(requests.excuseLate(blockKey(0, 0))).toBe(false);
  expect(requests.excuseLate(blockKey(1, 0))).toBe(true);
  expect(requests.excuseLate(blockKey(1024, 0))).toBe(true);
});
