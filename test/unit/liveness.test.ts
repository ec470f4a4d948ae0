/** Keep-alives and idle peers, on a fake clock. */
import { defaultSettings as settings } from '../../src/io/settings.js';
import { livenessAction, tendLiveness } from '../../src/main/swarm/liveness.js';

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

test('tendLiveness sends keep-alives where due and closes the idle peers, saying for how long', () => {
  const log: string[] = [];
  const peer = (name: string, lastReceivedAt: number, lastSentAt: number) => ({
    lastReceivedAt,
    lastSentAt,
    send: () => log.push(`${name} keep-alive`),
    close: (reason: string) => log.push(`${name} closed: ${reason}`),
  });
  const now = T0 + settings.idleTimeoutMs;
  tendLiveness([peer('quiet', T0, T0), peer('talking', now, T0), peer('fresh', now, now)], now);
  expect(log).toEqual(['talking keep-alive', `quiet closed: nothing received for ${settings.idleTimeoutMs / 1000} s (idleTimeoutMs)`]);
});
