/** Issue 18: which request is which endpoint of the control API, and what is not the API's. */
import { controlRoute } from '../../src/main/control/control-routes.js';

const HASH = 'dbe6b4d20a41c163a059a968e101ddadcb42bae0';

test('each endpoint by its method and path; an info hash in capitals is the same torrent', () => {
  expect(controlRoute('POST', '/torrents')).toEqual({ kind: 'add' });
  expect(controlRoute('POST', '/torrents/')).toEqual({ kind: 'add' });
  expect(controlRoute('DELETE', `/torrents/${HASH}`)).toEqual({ kind: 'remove', infoHash: HASH });
  expect(controlRoute('POST', `/torrents/${HASH.toUpperCase()}/pause`)).toEqual({ kind: 'pause', infoHash: HASH });
  expect(controlRoute('POST', `/torrents/${HASH}/resume`)).toEqual({ kind: 'resume', infoHash: HASH });
});

test('a preflight is known as one, so that it can be refused; a wrong method says which one the path takes', () => {
  expect(controlRoute('OPTIONS', `/torrents/${HASH}/pause`)).toEqual({ kind: 'preflight' });
  expect(controlRoute('GET', '/torrents')).toEqual({ kind: 'method-not-allowed', allow: 'POST' });
  expect(controlRoute('GET', `/torrents/${HASH}/pause`)).toEqual({ kind: 'method-not-allowed', allow: 'POST' });
  expect(controlRoute('POST', `/torrents/${HASH}`)).toEqual({ kind: 'method-not-allowed', allow: 'DELETE' });
  expect(controlRoute('POST', '/torrents/xyz/pause')).toEqual({ kind: 'bad-hash', text: 'xyz' });
});

test('paths that are not the API\'s are left to the other routes', () => {
  for (const pathname of ['/', '/status', '/announce', '/torrentsx', `/torrents/${HASH}/stop`, `/torrents/${HASH}/pause/x`]) {
    expect(controlRoute('POST', pathname)).toBeNull();
  }
});

test('the read-only paths: a file of a torrent, its pieces, and the token for the peer\'s own browser', () => {
  expect(controlRoute('PUT', `/torrents/${HASH}/files`)).toEqual({ kind: 'files', infoHash: HASH });
  expect(controlRoute('GET', `/torrents/${HASH}/files`)).toEqual({ kind: 'method-not-allowed', allow: 'PUT' });
  expect(controlRoute('GET', `/files/${HASH}/set/a%20b.bin`)).toEqual({ kind: 'file', infoHash: HASH, path: 'set/a%20b.bin' });
  expect(controlRoute('HEAD', `/files/${HASH}/a`)).toEqual({ kind: 'file', infoHash: HASH, path: 'a' });
  expect(controlRoute('DELETE', `/files/${HASH}/a`)).toEqual({ kind: 'method-not-allowed', allow: 'GET, HEAD' });
  expect(controlRoute('GET', '/files/nothash/a')).toEqual({ kind: 'bad-hash', text: 'nothash' });
  expect(controlRoute('GET', `/torrents/${HASH}/pieces`)).toEqual({ kind: 'pieces', infoHash: HASH });
  expect(controlRoute('GET', '/api-token')).toEqual({ kind: 'token' });
  expect(controlRoute('POST', '/api-token')).toEqual({ kind: 'method-not-allowed', allow: 'GET' });
  expect(controlRoute('OPTIONS', '/api-token')).toEqual({ kind: 'preflight' });
  expect(controlRoute('GET', `/files/${HASH}`)).toBeNull();
});
