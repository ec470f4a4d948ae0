/** Settings as a value: overrides for one peer (in-process tests) and SHOAL_TEST_SETTINGS (peer processes). */
import { defaultSettings, settingsFromEnvironment, withOverrides } from '../../src/io/settings.js';

test('no variable, or an empty one, gives the defaults', () => {
  expect(settingsFromEnvironment(undefined)).toEqual(defaultSettings);
  expect(settingsFromEnvironment('  ')).toEqual(defaultSettings);
});

test('named numeric settings are replaced, the others kept', () => {
  const merged = settingsFromEnvironment('{"keepAliveIntervalMs": 3000, "maxConnections": 12}');
  expect(merged.keepAliveIntervalMs).toBe(3000);
  expect(merged.maxConnections).toBe(12);
  expect(merged.handshakeTimeoutMs).toBe(defaultSettings.handshakeTimeoutMs);
});

test('text and switch settings take values of their own type', () => {
  const merged = settingsFromEnvironment('{"dhtBootstrapNodes": "127.0.0.1:9", "lsdEnabled": false}');
  expect(merged.dhtBootstrapNodes).toBe('127.0.0.1:9');
  expect(merged.lsdEnabled).toBe(false);
  expect(merged.dhtEnabled).toBe(true);
});

test('overrides make a new value and leave the defaults and the base as they were', () => {
  const base = withOverrides({ requestTimeoutMs: 500 });
  const derived = withOverrides({ maxConnections: 3 }, base);
  expect(derived.requestTimeoutMs).toBe(500);
  expect(derived.maxConnections).toBe(3);
  expect(base.maxConnections).toBe(defaultSettings.maxConnections);
  expect(defaultSettings.requestTimeoutMs).toBe(30_000);
  expect(Object.isFrozen(derived)).toBe(true);
});

test.each([
  ['not JSON', '{idle', /SHOAL_TEST_SETTINGS is not JSON/],
  ['not an object', '[1, 2]', /must be a JSON object/],
  ['an unknown name', '{"idleTimeout": 5}', /SHOAL_TEST_SETTINGS: there is no setting "idleTimeout"/],
  ['a number for a text setting', '{"clientName": 5}', /"clientName" must be a string, got 5/],
  ['text for a switch', '{"dhtEnabled": "no"}', /"dhtEnabled" must be a boolean, got "no"/],
  ['a string for a number', '{"maxConnections": "12"}', /must be a non-negative number, got "12"/],
  ['a negative number', '{"maxConnections": -1}', /non-negative/],
])('%s is refused with the reason', (_what, json, reason) => {
  expect(() => settingsFromEnvironment(json)).toThrow(reason);
});
