/**
 * Issue 18: who may change a running peer. A request needs a Host that names the peer (no DNS
 * rebinding), an Origin of the peer's own when a browser sends one, and the token; the first two
 * answer 403 before the token is looked at, the token 401.
 */
import { guardChange, isOwnHost, parseHostHeader, type OwnIdentity } from '../../src/main/control/request-guard.js';

const TOKEN = 'a'.repeat(64);
const own: OwnIdentity = { token: TOKEN, port: 6881, isOwnHost: (name) => ['127.0.0.1', '192.168.1.10', 'localhost', '::1'].includes(name) };

test('a Host header is read as a name and a port, 80 when none is given; a malformed one is null', () => {
  expect(parseHostHeader('127.0.0.1:6881')).toEqual({ hostname: '127.0.0.1', port: 6881 });
  expect(parseHostHeader('LocalHost')).toEqual({ hostname: 'localhost', port: 80 });
  expect(parseHostHeader('[::1]:6881')).toEqual({ hostname: '::1', port: 6881 });
  for (const bad of ['', 'a b:1', 'host:0', 'host:99999', 'host:x', '[::1', 'http://x:1']) expect(parseHostHeader(bad)).toBeNull();
});

test('the peer is named by its addresses or localhost, with or without a port', () => {
  expect(isOwnHost('127.0.0.1:6881', own)).toBe(true);
  expect(isOwnHost('localhost:6881', own)).toBe(true);
  expect(isOwnHost('[::1]:6881', own)).toBe(true);
  expect(isOwnHost('192.168.1.10:6881', own)).toBe(true);
  expect(isOwnHost('127.0.0.1', own)).toBe(true);
  expect(isOwnHost('localhost', own)).toBe(true);
  expect(isOwnHost('127.0.0.1:8080', own)).toBe(true);
  expect(isOwnHost('evil.example:6881', own)).toBe(false);
  expect(isOwnHost(undefined, own)).toBe(false);
});

test('the token, the right Host and no Origin (curl, npm run ctl) or the peer\'s own Origin (its dashboard) go ahead', () => {
  expect(guardChange({ host: '127.0.0.1:6881', token: TOKEN }, own)).toEqual({ allowed: true });
  expect(guardChange({ host: 'localhost:6881', origin: 'http://localhost:6881', token: TOKEN }, own)).toEqual({ allowed: true });
  expect(guardChange({ host: '192.168.1.10:6881', origin: 'http://127.0.0.1:6881', token: TOKEN }, own)).toEqual({ allowed: true });
});

test('without the token, or with another one, the answer is 401', () => {
  for (const token of [undefined, '', 'b'.repeat(64), TOKEN.slice(1), `${TOKEN}0`]) {
    expect(guardChange({ host: '127.0.0.1:6881', token }, own)).toMatchObject({ allowed: false, status: 401, reason: expect.stringContaining('X-Shoal-Token') });
  }
});

test('a Host that is not the peer (DNS rebinding) is 403 whatever the token', () => {
  for (const host of [undefined, '', 'evil.example:6881', 'evil.example', 'localhost.evil.example:6881', '10.9.9.9:6881', '127.0.0.1:99999']) {
    expect(guardChange({ host, token: TOKEN }, own)).toMatchObject({ allowed: false, status: 403, reason: expect.stringContaining('Host') });
  }
});

test('a page of another origin is 403, and it learns nothing of the token', () => {
  for (const origin of ['http://evil.example', 'https://127.0.0.1:6881', 'http://127.0.0.1:8080', 'null', 'http://127.0.0.1:6881/path', 'file://']) {
    expect(guardChange({ host: '127.0.0.1:6881', origin, token: TOKEN }, own)).toMatchObject({ allowed: false, status: 403 });
    expect(guardChange({ host: '127.0.0.1:6881', origin, token: 'wrong' }, own)).toMatchObject({ allowed: false, status: 403 });
  }
});
