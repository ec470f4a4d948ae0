/** Keep-alives and idle peers, on a fake clock. */
import { defaultSettings as settings } from '../../src/io/settings.js';
import { livenessAction } from '../../src/main/swarm/liveness.js';

const T0 = 5_000_000;

test('the defaults: keep-alives every 2 minutes, a peer silent for 4 is dropped', () => {
  expect(settings.keepAliveIntervalMs).toBe(120_000);
  expect(settings.idleTimeoutMs).toBe(240_000);
});

test('nothing to do while both sides spoke recently', () => {
  expect(livenessAction(T0, T0, T0 + settings.keepAliveIntervalMs - 1)).toBe('none');
});

test('a keep-alive is due after keepAliveIntervalMs of silence on our side', () => {
  expect(livenessAction(T0 + 60_000, T0, T0 + settings.keepAliveIntervalMs)).toBe('keep-alive');
});

test('a peer silent for idleTimeoutMs is dropped, whatever we sent', () => {
  const now = T0 + settings.idleTimeoutMs;
  expect(livenessAction(T0, now, now)).toBe('drop');
  expect(livenessAction(T0 + 1, now, now)).toBe('none');
});
