/**
 * The dashboard at `GET /`: served by the peer itself, self-contained, and shown in a real
 * browser (Debian's chromium driven by playwright-core) as the swarms progress. Names come from
 * .torrent files: one named like an HTML tag must show as text.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseMetainfo } from '../../src/io/metainfo.js';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { digest, fileDigest, folderArgs, freePort, httpGet, makePeerFolders, removeFolders, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
import { describeUnlessMissing } from '../helpers/require-tool.js';
import { generatedContent } from '../helpers/swarm-fixture.js';

const KiB = 1024;
const CHROMIUM = '/usr/bin/chromium';
const DATA_NAME = 'dash.bin';
const HOSTILE_NAME = '<img src=x onerror=window.__xss=1>';

interface Peers {
  seeder: PeerProcess;
  seedDirs: PeerFolders;
  running: PeerProcess[];
  folders: PeerFolders[];
  torrent: Buffer;
}

/** A seeder of two torrents (one with a hostile name), announcer of both. */
async function startSeeder(): Promise<Peers> {
  const port = await freePort();
  const seedDirs = await makePeerFolders();
  const announce = `http://127.0.0.1:${port}/announce`;
  let torrent: Buffer = Buffer.alloc(0);
  for (const [name, size] of [[DATA_NAME, 2048 * KiB], [HOSTILE_NAME, 16 * KiB]] as const) {
    const file = path.join(seedDirs.shareable, name);
    await writeFile(file, generatedContent(size));
    const made = await createTorrent(file, { announce, pieceLength: 64 * KiB });
    await writeFile(path.join(seedDirs.torrents, `${name === DATA_NAME ? 'data' : 'hostile'}.torrent`), made);
    if (name === DATA_NAME) torrent = made;
  }
  const seeder = startPeer([...folderArgs(seedDirs), '--workers', '1'], port);
  await seeder.waitForStatus((s) => s.swarms.length === 2 && s.swarms.every((swarm) => swarm.role === 'seeder'), 20_000, 'the seeder');
  return { seeder, seedDirs, running: [seeder], folders: [seedDirs], torrent };
}

describe('GET / over HTTP', () => {
  let peers: Peers;
  beforeAll(async () => {
    peers = await startSeeder();
  });
  afterAll(async () => {
    await Promise.all(peers.running.map((peer) => peer.stop()));
    await Promise.all(peers.folders.map(removeFolders));
  });

  test('is an HTML page that loads nothing from elsewhere, with a strict Content-Security-Policy', async () => {
    const url = `http://127.0.0.1:${peers.seeder.port}/`;
    const { status, body } = await httpGet(url);
    expect(status).toBe(200);
    expect(body).toMatch(/^<!doctype html>/);
    expect(body).not.toMatch(/\b(src|href)=/);
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      http.request(url, { method: 'HEAD', agent: false }, (res) => resolve(res.headers)).on('error', reject).end();
    });
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; connect-src 'self'/);
  });

  test('other paths are still not found, and /status still answers', async () => {
    expect((await httpGet(`http://127.0.0.1:${peers.seeder.port}/nope`)).status).toBe(404);
    expect(JSON.parse((await httpGet(`http://127.0.0.1:${peers.seeder.port}/status`)).body).swarms).toHaveLength(2);
  });
});

describeUnlessMissing(existsSync(CHROMIUM) ? [] : ['chromium'], ['chromium'], 'the dashboard in a browser', () => {
  let browser: Browser;
  let peers: Peers;
  beforeAll(async () => {
    [browser, peers] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
      startSeeder(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(peers?.running.map((peer) => peer.stop()) ?? []);
    await Promise.all(peers?.folders.map(removeFolders) ?? []);
  });

  /** A page that records what it requested and every error it met. */
  async function openDashboard(port: number): Promise<{ page: Page; requests: string[]; errors: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(`http://127.0.0.1:${port}/`);
    return { page, requests, errors };
  }

  const rowText = (page: Page, role: string, field: string): Promise<string> =>
    page.locator(`.swarm[data-role=${role}] .${field}`).first().innerText();

  test('a leecher\'s page shows its swarm, role and progress, and follows it to 100% as a seeder', async () => {
    const dirs = await makePeerFolders();
    peers.folders.push(dirs);
    await writeFile(path.join(dirs.torrents, `${DATA_NAME}.torrent`), peers.torrent);
    // Slow enough (about 4 s) for the page to see the leecher at work.
    const leecher = startPeer([...folderArgs(dirs), '--workers', '1', '--download-limit', '512k'], await freePort());
    peers.running.push(leecher);
    await leecher.waitForStatus((s) => s.swarms.length === 1, 20_000, 'the leecher to join');
    const { page, requests, errors } = await openDashboard(leecher.port);

    await page.locator('.swarm[data-role=leecher]').waitFor({ timeout: 15_000 });
    expect(await rowText(page, 'leecher', 'name')).toBe(DATA_NAME);
    expect(await rowText(page, 'leecher', 'role')).toBe('leecher');
    const firstPercent = parseFloat(await rowText(page, 'leecher', 'percent'));
    expect(firstPercent).toBeLessThan(100);
    expect(await page.locator('#peer').innerText()).toContain(`:${leecher.port},`);

    await page.locator('.swarm[data-role=seeder]').waitFor({ timeout: 30_000 });
    expect(await rowText(page, 'seeder', 'name')).toBe(DATA_NAME);
    expect(await rowText(page, 'seeder', 'role')).toBe('seeder');
    expect(await rowText(page, 'seeder', 'percent')).toBe('100.0%');
    await page.locator('.swarm summary').first().click();
    expect(await page.locator('.swarm ul.known li').allInnerTexts()).toContain(`127.0.0.1:${peers.seeder.port}`);
    // Its one tracker, the seeder, with its tier, status and counts.
    expect(await page.locator('.swarm table.trackers th').allInnerTexts()).toEqual(['tracker', 'tier', 'status', 'seeders', 'leechers']);
    const [url, tier, status, seeders] = await page.locator('.swarm table.trackers tbody tr').first().locator('td').allInnerTexts();
    expect([url, tier, status]).toEqual([`http://127.0.0.1:${peers.seeder.port}/announce`, '1', 'working']);
    expect(Number(seeders)).toBeGreaterThanOrEqual(1);

    expect(await page.locator('table:not(:has(tbody tr))').count()).toBe(0);
    expect(errors).toEqual([]);
    const origin = `http://127.0.0.1:${leecher.port}/`;
    expect(requests).toContain(`${origin}status`);
    expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
  }, 60_000);

  test('a stuck leecher says why in its summary line, lists its failing trackers, a skipped torrent shows with its reason, and no empty table or list is drawn', async () => {
    const dirs = await makePeerFolders();
    peers.folders.push(dirs);
    // Nothing listens on either tracker's port (two tiers), and nobody else has the data.
    const [closedPort, otherClosedPort] = [await freePort(), await freePort()];
    const [first, second] = [`http://127.0.0.1:${closedPort}/announce`, `http://127.0.0.1:${otherClosedPort}/announce`];
    const source = path.join(dirs.root, 'stuck.bin');
    await writeFile(source, generatedContent(64 * KiB));
    await writeFile(path.join(dirs.torrents, 'stuck.torrent'), await createTorrent(source, { announce: first, announceList: [[first], [second]], pieceLength: 16 * KiB }));
    await writeFile(path.join(dirs.torrents, 'broken.torrent'), 'd8:announce3:abc4:infod4:name');
    const stuck = startPeer([...folderArgs(dirs), '--workers', '1'], await freePort());
    peers.running.push(stuck);
    await stuck.waitForStatus((s) => s.swarms[0]?.tracker?.state === 'failing', 20_000, 'the tracker to fail');
    const { page, errors } = await openDashboard(stuck.port);

    const reason = page.locator('.swarm[data-role=leecher] .head .reason');
    await reason.waitFor({ timeout: 15_000 });
    // The first error in the torrent's order: the first tier's.
    expect(await reason.innerText()).toMatch(new RegExp(`^no peers: every tracker failed(, \\d+ rounds in a row)?: cannot reach tracker: .*ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`));
    expect(await page.locator('#skipped li').allInnerTexts()).toEqual([expect.stringMatching(/^broken\.torrent: not a \.torrent file \(/)]);

    await page.locator('.swarm summary').first().click();
    expect(await page.locator('.swarm summary').first().innerText()).toBe('trackers, peers and known peers');
    expect(await page.locator('.swarm .none').allInnerTexts()).toEqual(['no peer connected', 'no peer known']);
    // The one table: the trackers, each failing with its own error.
    expect(await page.locator('table').count()).toBe(1);
    const rows = page.locator('.swarm table.trackers tbody tr');
    expect(await rows.count()).toBe(2);
    for (const [i, [url, port]] of ([[first, closedPort], [second, otherClosedPort]] as const).entries()) {
      const [shownUrl, tier, status, seeders, leechers] = await rows.nth(i).locator('td').allInnerTexts();
      expect([shownUrl, tier, seeders, leechers]).toEqual([url, String(i + 1), '', '']);
      expect(status).toMatch(new RegExp(`^failed: cannot reach tracker: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    }
    expect(await page.locator('table:not(:has(tbody tr))').count()).toBe(0);
    expect(await page.locator('ul:not(:has(li))').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);

  test('with no skipped torrent there is no skipped section, and a seeder waiting for leechers shows no stall reason', async () => {
    const { page } = await openDashboard(peers.seeder.port);
    await page.locator('.swarm').nth(1).waitFor({ timeout: 15_000 });
    expect(await page.locator('#skipped').isVisible()).toBe(false);
    expect(await page.locator('#skipped *').count()).toBe(0);
    expect(await page.locator('.swarm .reason').count()).toBe(0);
    expect(await page.locator('table:not(:has(tbody tr))').count()).toBe(0);
    // The announcer's own URL: its one tracker is this peer.
    await page.locator('.swarm summary').first().click();
    const [url, tier, status] = await page.locator('.swarm table.trackers tbody tr').first().locator('td').allInnerTexts();
    expect([url, tier, status]).toEqual([`http://127.0.0.1:${peers.seeder.port}/announce`, '1', 'this peer']);
  }, 30_000);

  test('a swarm named like an HTML tag shows as text and runs nothing', async () => {
    const { page, errors } = await openDashboard(peers.seeder.port);
    await page.locator('.swarm').nth(1).waitFor({ timeout: 15_000 });
    const names = await page.locator('.swarm .name').allInnerTexts();
    expect(names.sort()).toEqual([HOSTILE_NAME, DATA_NAME].sort());
    expect(await page.locator('#swarms img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(errors).toEqual([]);
  }, 30_000);

  test('its controls add a magnet link, skip a file, pause, resume and remove, and the page asks nothing of anyone but its peer (issue 18)', async () => {
    // A seeder of two files, slow enough for the page to act during the download.
    const seedPort = await freePort();
    const seedDirs = await makePeerFolders();
    peers.folders.push(seedDirs);
    const folder = path.join(seedDirs.shareable, 'pair');
    await mkdir(folder);
    const one = generatedContent(512 * KiB);
    await writeFile(path.join(folder, 'one.bin'), one);
    await writeFile(path.join(folder, 'two.bin'), generatedContent(512 * KiB));
    const torrent = await createTorrent(folder, { announce: `http://127.0.0.1:${seedPort}/announce`, pieceLength: 64 * KiB });
    await writeFile(path.join(seedDirs.torrents, 'pair.torrent'), torrent);
    const seeder = startPeer([...folderArgs(seedDirs), '--workers', '1', '--upload-limit', '128k'], seedPort);
    peers.running.push(seeder);
    await seeder.waitForStatus((s) => s.swarms[0]?.role === 'seeder', 20_000, 'the seeder of pair');
    const infoHash = parseMetainfo(torrent).infoHashHex;

    const dirs = await makePeerFolders();
    peers.folders.push(dirs);
    const peer = startPeer([...folderArgs(dirs), '--workers', '1'], await freePort());
    peers.running.push(peer);
    await peer.waitForStatus((s) => s.swarms.length === 0, 20_000, 'the peer to start');
    const { page, requests, errors } = await openDashboard(peer.port);
    page.on('dialog', (dialog) => void dialog.accept());
    // Opened on the peer's machine by its user: the page got the token without asking.
    await page.locator('#peer').filter({ hasText: `:${peer.port},` }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#token-form').isVisible()).toBe(false);

    await page.locator('#magnet').fill(`magnet:?xt=urn:btih:${infoHash}&dn=pair&x.pe=127.0.0.1:${seedPort}`);
    await page.getByRole('button', { name: 'add magnet link' }).click();
    await page.locator('#message').filter({ hasText: 'added the magnet link' }).waitFor({ timeout: 10_000 });
    await peer.waitForStatus((s) => s.swarms[0]?.files?.length === 2, 20_000, 'the magnet\'s metadata');
    expect(await readdir(dirs.torrents)).toEqual(['pair.magnet']);

    // Skip the second file.
    await page.locator('.swarm details.files summary').click();
    const priorities = page.locator('.swarm table.files select.priority');
    await priorities.nth(1).waitFor({ timeout: 10_000 });
    expect(await page.locator('.swarm table.files a.open').allInnerTexts()).toEqual(['pair/one.bin', 'pair/two.bin']);
    expect(await page.locator('.swarm table.files a.open').first().getAttribute('href')).toBe(`/files/${infoHash}/pair/one.bin`);
    await priorities.nth(1).selectOption('skip');
    await peer.waitForStatus((s) => s.swarms[0].files?.[1].priority === 'skip', 10_000, 'two.bin to be skipped');

    await page.locator('.swarm button.pause').click();
    await peer.waitForStatus((s) => s.swarms[0].paused === true, 10_000, 'the torrent to be paused');
    await page.locator('.swarm[data-paused=yes] .role.paused').waitFor({ timeout: 10_000 });
    await page.locator('.swarm button.resume').click();
    await peer.waitForStatus((s) => s.swarms[0].paused === false, 10_000, 'the torrent to be resumed');

    const done = await peer.waitForStatus((s) => s.swarms[0].files?.[0].done === one.length && s.swarms[0].left === 0, 30_000, 'one.bin to complete');
    expect(done.swarms[0].role).toBe('leecher');
    expect(await fileDigest(path.join(dirs.shareable, 'pair', 'one.bin'))).toBe(digest(one));
    expect(existsSync(path.join(dirs.shareable, 'pair', 'two.bin'))).toBe(false);
    // The piece map shows what was had.
    expect(await page.locator('.swarm canvas.pieces').count()).toBe(1);

    await page.locator('.swarm button.remove').click();
    await peer.waitForStatus((s) => s.swarms.length === 0, 10_000, 'the torrent to be removed');
    expect(await readdir(dirs.torrents)).toEqual([]);
    expect(existsSync(path.join(dirs.shareable, 'pair', 'one.bin'))).toBe(true);

    expect(errors).toEqual([]);
    const origin = `http://127.0.0.1:${peer.port}/`;
    expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
    for (const endpoint of ['api-token', 'torrents', `torrents/${infoHash}/pause`, `torrents/${infoHash}/resume`, `torrents/${infoHash}/files`, `torrents/${infoHash}/pieces`, `torrents/${infoHash}`]) {
      expect(requests).toContain(origin + endpoint);
    }
  }, 90_000);

  test('without the token at hand (another user\'s browser), the page asks for it once and keeps it for the tab', async () => {
    const { page, errors } = await (async () => {
      const opened = await browser.newPage();
      const seen: string[] = [];
      opened.on('pageerror', (error) => seen.push(error.message));
      // As for a browser of another user: the peer does not hand the token out.
      await opened.route('**/api-token', (route) => route.fulfill({ status: 403, contentType: 'application/json', body: '{"error":"not yours"}' }));
      await opened.goto(`http://127.0.0.1:${peers.seeder.port}/`);
      return { page: opened, errors: seen };
    })();
    await page.locator('#token-form').waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.swarm').nth(1).waitFor({ timeout: 15_000 });
    const section = page.locator('.swarm', { has: page.locator('.name', { hasText: DATA_NAME }) });
    await page.locator('#token').fill('0'.repeat(64));
    await page.getByRole('button', { name: 'keep for this tab' }).click();
    await section.locator('button.pause').click();
    // A wrong token is refused, and asked for again.
    await page.locator('#message').filter({ hasText: 'The token was refused' }).waitFor({ timeout: 10_000 });
    await page.locator('#token').fill((await readFile(path.join(peers.seedDirs.cache, 'api-token'), 'utf8')).trim());
    await page.getByRole('button', { name: 'keep for this tab' }).click();
    await section.locator('button.pause').click();
    await peers.seeder.waitForStatus((s) => s.swarms.find((w) => w.name === DATA_NAME)?.paused === true, 10_000, 'dash.bin to be paused');
    // Kept for the tab: a reload does not ask again.
    await page.reload();
    await page.locator('.swarm[data-paused=yes]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#token-form').isVisible()).toBe(false);
    await page.locator('.swarm[data-paused=yes] button.resume').click();
    await peers.seeder.waitForStatus((s) => s.swarms.every((w) => w.paused === false), 10_000, 'dash.bin to be resumed');
    expect(errors).toEqual([]);
  }, 60_000);
});
