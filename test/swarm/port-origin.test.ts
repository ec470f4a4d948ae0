/**
 * The start-up line says where the port came from: --port, the port the last run used (kept in
 * cache/), or the default. A remembered port must not move a peer silently.
 */
import { rm } from 'node:fs/promises';
import { peerConfigFile } from '../../src/io/peer-config.js';
import { InProcessSwarm, type InProcessPeer } from '../helpers/in-process-peer.js';
import { freePort } from '../helpers/peer-process.js';

const peers = new InProcessSwarm();
afterEach(() => peers.cleanup());

/** The last start-up line of the peer. */
function startLine(peer: InProcessPeer): string {
  const lines = peer.lines.filter((line) => / info peer \S+ at /.test(line));
  return lines[lines.length - 1] ?? '';
}

test('the start-up line says whether the port is from --port, the last run or the default', async () => {
  const dirs = await peers.makeFolders();
  const port = await freePort();
  // The default is this test's own free port, so that nothing else on the machine is in the way.
  const peer = await peers.start(dirs, { port, settings: { defaultPort: port } });
  expect(startLine(peer)).toMatch(new RegExp(`:${port} \\(--port\\) with 0 torrent\\(s\\); dashboard at http://`));

  await peer.restart(false);
  expect(peer.status().port).toBe(port);
  expect(startLine(peer)).toMatch(new RegExp(`:${port} \\(the port last used; --port to change\\) with 0 torrent\\(s\\);`));

  await peer.stop();
  await rm(peerConfigFile(dirs.cache));
  await peer.restart(false);
  expect(startLine(peer)).toMatch(new RegExp(`:${port} \\(the default port\\) with 0 torrent\\(s\\);`));
});
