/**
 * The dashboard at `GET /`: served by the peer itself, self-contained, and shown in a real
 * browser (Debian's chromium driven by playwright-core) as the swarms progress. Names come from
 * .torrent files: one named like an HTML tag must show as text.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTorrent } from '../../src/io/torrent-maker.js';
import { folderArgs, freePort, httpGet, makePeerFolders, removeFolders, startPeer, type PeerFolders, type PeerProcess } from '../helpers/peer-process.js';
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
    expect(new Set(requests)).toEqual(new Set([origin, `${origin}status`]));
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
});
