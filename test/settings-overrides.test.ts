/** SHOAL_TEST_SETTINGS: how tests shrink time-outs and limits of a real peer process. */
import { settings, withOverrides } from '../src/main/settings.js';

test('no variable, or an empty one, gives the defaults', () => {
  expect(withOverrides(undefined)).toEqual(settings);
  expect(withOverrides('  ')).toEqual(settings);
});

test('named numeric settings are replaced, the others kept', () => {
  const merged = withOverrides('{"keepAliveIntervalMs": 3000, "maxConnections": 12}');
  expect(merged.keepAliveIntervalMs).toBe(3000);
  expect(merged.maxConnections).toBe(12);
  expect(merged.handshakeTimeoutMs).toBe(settings.handshakeTimeoutMs);
});

test.each([
  ['not JSON', '{idle', /not JSON/],
  ['not an object', '[1, 2]', /must be a JSON object/],
  ['an unknown name', '{"idleTimeout": 5}', /there is no setting "idleTimeout"/],
  ['a setting that is not a number', '{"clientName": 5}', /"clientName" is not a numeric setting/],
  ['a string for a number', '{"maxConnections": "12"}', /must be a non-negative number, got "12"/],
  ['a negative number', '{"maxConnections": -1}', /non-negative/],
])('%s is refused with the reason', (_what, json, reason) => {
  expect(() => withOverrides(json)).toThrow(reason);
});
