/**
 * The dashboard served at `GET /` on the peer's port: one self-contained HTML page (inline CSS
 * and script, no external assets, no build step) that reads `/status` every second and shows
 * the swarms, their roles, progress, rates, trackers (each with its tier, status, error and
 * counts), peers and known peers, why a stuck swarm is stuck (stall-reason.ts), and the .torrent
 * files skipped with their reasons. A list or table with nothing in it is not drawn: a short
 * sentence says so instead, or, for a torrent without trackers, nothing.
 *
 * It also drives the control API (docs/architecture.md, Control): add a magnet link or a
 * .torrent, pause, resume, remove, each file's priority (with a link that opens the file, which
 * plays in the browser while it downloads), sequential order, and a piece map per swarm. The
 * token comes from the start-up line's link (`#token=...`, never sent to a server), else from
 * GET /api-token (only for a browser of the peer's user on its machine), else the page asks for
 * it once; it is kept in sessionStorage, for the tab.
 *
 * Everything in the status document may come from strangers (a swarm's name is whatever the
 * .torrent says), so the script only ever puts it in the page as text (textContent, never
 * innerHTML); the Content-Security-Policy, which allows no script but this one (by its hash),
 * is a second wall should that rule ever be broken.
 */
import { createHash } from 'node:crypto';
import { defaultSettings } from '../../io/settings.js';
import { encodeFilePath } from '../control/file-stream.js';
import { stallReason } from './stall-reason.js';
import { formatBytes, formatDuration, formatRate } from './units.js';

const STYLE = `
:root { color-scheme: light dark; --bar: #3b82f6; --done: #16a34a; --muted: #6b7280; --line: #8882; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; max-width: 72rem; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
#peer, #state { color: var(--muted); margin: 0; }
#state.error, .reason, #skipped h2 { color: #dc2626; }
#skipped { border: 1px solid #dc262666; border-radius: 6px; padding: .4rem .8rem; margin: .8rem 0; }
#skipped:empty { display: none; }
#skipped h2 { font-size: 1rem; margin: 0; }
#skipped ul { margin: .3rem 0; padding-left: 1.2rem; }
#skipped .file { font-weight: 600; overflow-wrap: anywhere; }
.swarm { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; margin: .8rem 0; }
.head { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: baseline; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.role { font-size: .8rem; padding: 0 .4rem; border-radius: 4px; background: var(--line); }
.role.seeder { background: #16a34a33; }
.role.leecher { background: #3b82f633; }
.numbers { color: var(--muted); font-variant-numeric: tabular-nums; }
.bar { height: .5rem; background: var(--line); border-radius: 3px; margin: .4rem 0; overflow: hidden; }
.bar > div { height: 100%; background: var(--bar); }
.bar.done > div { background: var(--done); }
details { margin-top: .3rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: .3rem 0; }
th, td { text-align: left; padding: .1rem .8rem .1rem 0; }
th { font-weight: 500; color: var(--muted); }
ul.known { columns: 14rem; margin: .3rem 0; padding-left: 1.2rem; }
#controls { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; margin: .6rem 0; }
#controls input[type=text], #controls input[type=password] { min-width: 22rem; }
#message { margin: .2rem 0; min-height: 1.2em; }
#message.error { color: #dc2626; }
.actions { display: inline-flex; gap: .3rem; }
.role.paused { background: #f59e0b44; }
canvas.pieces { display: block; width: 100%; height: 10px; background: var(--line); border-radius: 3px; margin: .3rem 0; }
table.files td:first-child { overflow-wrap: anywhere; }
table.trackers td:first-child, table.trackers td:nth-child(3) { overflow-wrap: anywhere; }
`;

/**
 * The page's script. The number formatters are the terminal's own (units.ts), embedded as source
 * text: they are self-contained functions, so their compiled source runs as it is.
 */
const SCRIPT = `
'use strict';
${formatBytes.toString()}
${formatRate.toString()}
${formatDuration.toString()}
${stallReason.toString()}
${encodeFilePath.toString()}

const openDetails = new Set();
const openFiles = new Set();
/** The last piece map read per torrent, drawn at once while the next is read. */
const pieceMaps = new Map();
let token = null;

const TOKEN_KEY = 'shoal-token';

/** The token of the start-up line's link (#token=...), kept for the tab and taken out of the address bar. */
function tokenFromAddress() {
  const match = /(?:^#|&)token=([0-9a-f]{64})(?:&|$)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, match[1]);
  history.replaceState(null, '', location.pathname);
}

async function findToken() {
  tokenFromAddress();
  token = sessionStorage.getItem(TOKEN_KEY);
  if (token) return;
  try {
    const response = await fetch('/api-token', { cache: 'no-store' });
    if (response.ok) {
      token = (await response.json()).token;
      sessionStorage.setItem(TOKEN_KEY, token);
      return;
    }
  } catch (error) {
    // Asked for below.
  }
  askToken('Changes need the token of cache/api-token: paste it here once.');
}

function askToken(why) {
  document.getElementById('token-form').hidden = false;
  say(why, true);
}

function say(text, error) {
  const message = document.getElementById('message');
  message.className = error ? 'error' : '';
  message.textContent = text;
}

/** Thrown when a change waits for the token: the page has asked for it already. */
class NeedToken extends Error {}

/** A request of the control API with the token; the answer's JSON, or an Error with its reason. */
async function api(method, path, body, type) {
  if (!token) {
    askToken('That needs the token of cache/api-token: paste it here.');
    throw new NeedToken();
  }
  const headers = { 'x-shoal-token': token };
  if (type) headers['content-type'] = type;
  const response = await fetch(path, { method: method, headers: headers, body: body, cache: 'no-store' });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    askToken('The token was refused: paste the one of cache/api-token.');
    throw new NeedToken();
  }
  if (!response.ok && response.status !== 409) throw new Error(answer.error || (method + ' ' + path + ' answered ' + response.status));
  return answer;
}

/** Runs a change, says how it went, and shows the status it made. */
async function act(what, change) {
  try {
    const answer = await change();
    say(what + (answer && answer.error ? ': ' + answer.error : ''), false);
  } catch (error) {
    if (!(error instanceof NeedToken)) say(what + ' failed: ' + error.message, true);
  }
  await load();
}

function button(label, className, onClick) {
  const node = el('button', className, label);
  node.type = 'button';
  node.addEventListener('click', onClick);
  return node;
}

/** The files of a torrent: each with its progress, a link that opens it, and its priority. */
function filesView(swarm) {
  const files = swarm.files || [];
  const details = el('details', 'files', el('summary', '', files.length === 1 ? '1 file' : files.length + ' files'));
  details.open = openFiles.has(swarm.infoHash);
  details.addEventListener('toggle', () => {
    // Opened by this very drawing (its toggle event comes after): nothing changed.
    if (details.open === openFiles.has(swarm.infoHash)) return;
    if (details.open) openFiles.add(swarm.infoHash);
    else openFiles.delete(swarm.infoHash);
    load();
  });
  if (!details.open) return details;
  const sequential = el('input', 'sequential');
  sequential.type = 'checkbox';
  sequential.checked = Boolean(swarm.sequential);
  sequential.addEventListener('change', () => act('sequential ' + (sequential.checked ? 'on' : 'off'), () =>
    api('PUT', '/torrents/' + swarm.infoHash + '/files', JSON.stringify({ sequential: sequential.checked }), 'application/json')));
  const rows = files.map((file, i) => {
    const link = el('a', 'open', file.path);
    link.href = '/files/' + swarm.infoHash + '/' + encodeFilePath(file.path);
    link.target = '_blank';
    link.rel = 'noopener';
    const priority = el('select', 'priority', ...['skip', 'normal', 'high'].map((p) => {
      const option = el('option', '', p);
      option.value = p;
      return option;
    }));
    priority.value = file.priority;
    priority.addEventListener('change', () => {
      const priorities = files.map((f, j) => (j === i ? priority.value : f.priority));
      act(file.path + ': ' + priority.value, () => api('PUT', '/torrents/' + swarm.infoHash + '/files', JSON.stringify({ priorities: priorities }), 'application/json'));
    });
    const percent = file.size === 0 ? 100 : Math.floor((1000 * file.done) / file.size) / 10;
    return [link, formatBytes(file.size), percent.toFixed(1) + '%', priority];
  });
  details.append(el('label', 'numbers', sequential, ' fetch in order (sequential)'), table(['file', 'size', 'done', 'priority'], rows, 'no file', 'files'));
  return details;
}

/** The pieces had, as a strip: one column per piece, coloured once verified. */
function drawPieces(canvas, map) {
  const width = (canvas.width = Math.max(1, canvas.clientWidth || 600));
  const height = (canvas.height = 10);
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, width, height);
  context.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--done').trim() || '#16a34a';
  const bits = atob(map.have);
  for (let i = 0; i < map.pieces; i++) {
    if (!(bits.charCodeAt(i >> 3) & (0x80 >> (i & 7)))) continue;
    const x = Math.floor((i * width) / map.pieces);
    context.fillRect(x, 0, Math.max(1, Math.ceil(width / map.pieces)), height);
  }
}

async function refreshPieces(swarm, canvas) {
  if (pieceMaps.has(swarm.infoHash)) drawPieces(canvas, pieceMaps.get(swarm.infoHash));
  try {
    const response = await fetch('/torrents/' + swarm.infoHash + '/pieces', { cache: 'no-store' });
    if (!response.ok) return;
    const map = await response.json();
    pieceMaps.set(swarm.infoHash, map);
    if (canvas.isConnected) drawPieces(canvas, map);
  } catch (error) {
    // The next refresh tries again.
  }
}

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** A table of the rows; when there are none, the sentence given instead (no empty table with headers). */
function table(headers, rows, none, className) {
  if (rows.length === 0) return el('p', 'numbers none', none);
  const head = el('tr', '', ...headers.map((h) => el('th', '', h)));
  return el('table', className || '', el('thead', '', head), el('tbody', '', ...rows.map((row) => el('tr', '', ...row.map((cell) => el('td', '', cell))))));
}

const TRACKER_STATUS = { working: 'working', error: 'failed', updating: 'announcing', idle: 'not asked yet', self: 'this peer' };

/** Every tracker of the torrent (BEP 12 tiers, numbered from 1 as the torrent command does); nothing for a torrent without any. */
function trackersView(swarm) {
  const trackers = swarm.trackers || [];
  if (trackers.length === 0) {
    // A status document without the list: its one tracker.
    const t = swarm.tracker;
    return t ? el('p', 'numbers', 'tracker ' + t.url + ': ' + t.state + (t.lastError ? ' (' + t.lastError + ')' : '')) : '';
  }
  const count = (n) => (typeof n === 'number' ? String(n) : '');
  return table(['tracker', 'tier', 'status', 'seeders', 'leechers'], trackers.map((t) => [
    t.url, String(t.tier + 1), (TRACKER_STATUS[t.status] || t.status) + (t.error ? ': ' + t.error : ''), count(t.seeders), count(t.leechers),
  ]), '', 'trackers');
}

function progressOf(swarm) {
  const left = typeof swarm.left === 'number' ? swarm.left : swarm.size * (1 - swarm.have / Math.max(1, swarm.pieces));
  return swarm.size === 0 ? 1 : Math.min(1, Math.max(0, (swarm.size - left) / swarm.size));
}

function swarmView(swarm) {
  const progress = progressOf(swarm);
  const percent = (Math.floor(progress * 1000) / 10).toFixed(1) + '%';
  const down = swarm.downloadRate || 0;
  const left = swarm.role === 'seeder' ? 'done' : formatDuration((swarm.left || 0) / down) + ' left';
  const bar = el('div', progress >= 1 ? 'bar done' : 'bar', el('div'));
  bar.firstChild.style.width = (progress * 100).toFixed(1) + '%';
  const actions = el('span', 'actions',
    swarm.paused
      ? button('resume', 'resume', () => act('resumed ' + swarm.name, () => api('POST', '/torrents/' + swarm.infoHash + '/resume')))
      : button('pause', 'pause', () => act('paused ' + swarm.name, () => api('POST', '/torrents/' + swarm.infoHash + '/pause'))),
    button('remove', 'remove', () => {
      if (confirm('Leave the swarm of ' + swarm.name + ' and remove its torrent file? Its data stays.')) {
        act('removed ' + swarm.name + ' (its data stays)', () => api('DELETE', '/torrents/' + swarm.infoHash));
      }
    }));
  const head = el('div', 'head',
    el('span', 'name', swarm.name),
    el('span', 'role ' + (swarm.role === 'seeder' ? 'seeder' : 'leecher'), swarm.role),
    swarm.paused ? el('span', 'role paused', 'paused') : '',
    swarm.announcer ? el('span', 'role', 'announcer') : '',
    el('span', 'percent', percent),
    el('span', 'numbers', swarm.have + '/' + swarm.pieces + ' pieces of ' + formatBytes(swarm.size)),
    el('span', 'numbers rates', '↓ ' + formatRate(down) + '  ↑ ' + formatRate(swarm.uploadRate || 0)),
    el('span', 'numbers', left),
    el('span', 'numbers peer-count', swarm.peers.length + (swarm.peers.length === 1 ? ' peer' : ' peers') + ', ' + swarm.known.length + ' known'),
    actions);
  const reason = stallReason(swarm);
  if (reason) head.append(el('span', 'reason', reason));
  const peers = table(['peer', '↓ rate', '↑ rate', 'downloaded', 'uploaded'], swarm.peers.map((p) => [
    p.address, formatRate(p.downloadRate || 0), formatRate(p.uploadRate || 0), formatBytes(p.downloaded), formatBytes(p.uploaded),
  ]), 'no peer connected');
  const known = swarm.known.length ? el('ul', 'known', ...swarm.known.map((address) => el('li', '', address))) : el('p', 'numbers none', 'no peer known');
  const trackers = trackersView(swarm);
  const details = el('details', '', el('summary', '', (trackers ? 'trackers, ' : '') + 'peers and known peers'), trackers, peers, swarm.known.length ? el('div', 'numbers', 'known peers') : '', known);
  details.open = openDetails.has(swarm.infoHash);
  details.addEventListener('toggle', () => details.open ? openDetails.add(swarm.infoHash) : openDetails.delete(swarm.infoHash));
  const pieces = el('canvas', 'pieces');
  if (swarm.metadata !== false) refreshPieces(swarm, pieces);
  const files = swarm.metadata === false ? '' : filesView(swarm);
  const section = el('section', 'swarm', head, bar, pieces, el('div', 'numbers', 'downloaded ' + formatBytes(swarm.downloaded) + ', uploaded ' + formatBytes(swarm.uploaded)), details, files);
  section.dataset.infoHash = swarm.infoHash;
  section.dataset.role = swarm.role;
  section.dataset.paused = swarm.paused ? 'yes' : 'no';
  return section;
}

function show(status) {
  document.getElementById('peer').textContent =
    'peer ' + status.peerId + ' at ' + (status.host || location.hostname) + ':' + status.port + ', ' + status.workers + (status.workers === 1 ? ' worker' : ' workers') + ', event-loop delay p99 ' + status.eventLoopDelayP99Ms + ' ms';
  const list = document.getElementById('swarms');
  // Not redrawn under a priority being chosen: that would close its list.
  const choosing = document.activeElement && document.activeElement.tagName === 'SELECT' && list.contains(document.activeElement);
  if (!choosing) list.replaceChildren(...(status.swarms.length ? status.swarms.map(swarmView) : [el('p', 'numbers', 'no swarm joined yet')]));
  const skipped = status.skipped || [];
  document.getElementById('skipped').replaceChildren(...(skipped.length === 0 ? [] : [
    el('h2', '', skipped.length === 1 ? '1 .torrent file skipped' : skipped.length + ' .torrent files skipped'),
    el('ul', '', ...skipped.map((s) => el('li', '', el('span', 'file', s.file), ': ', el('span', 'why', s.reason)))),
  ]));
  const state = document.getElementById('state');
  state.className = '';
  state.textContent = 'updated ' + new Date().toLocaleTimeString();
}

async function load() {
  try {
    const response = await fetch('/status', { cache: 'no-store' });
    if (!response.ok) throw new Error('/status answered ' + response.status);
    show(await response.json());
  } catch (error) {
    const state = document.getElementById('state');
    state.className = 'error';
    state.textContent = 'cannot read /status: ' + error.message + ' (retrying)';
  }
}

async function refresh() {
  await load();
  setTimeout(refresh, ${defaultSettings.dashboardRefreshMs});
}

document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const given = document.getElementById('token').value.trim();
  if (!/^[0-9a-f]{64}$/.test(given)) return say('A token is 64 hexadecimal characters: the content of cache/api-token.', true);
  token = given;
  sessionStorage.setItem(TOKEN_KEY, token);
  document.getElementById('token-form').hidden = true;
  say('token kept for this tab', false);
});

document.getElementById('add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const magnet = document.getElementById('magnet');
  const uri = magnet.value.trim();
  if (!uri) return say('Paste a magnet link (magnet:?xt=urn:btih:...) first, or choose a .torrent file.', true);
  act('added the magnet link', async () => {
    const answer = await api('POST', '/torrents', uri, 'text/plain');
    magnet.value = '';
    return answer;
  });
});

document.getElementById('torrent-file').addEventListener('change', (event) => {
  const file = event.target.files[0];
  if (!file) return;
  act('added ' + file.name, async () => {
    const answer = await api('POST', '/torrents', await file.arrayBuffer(), 'application/x-bittorrent');
    event.target.value = '';
    return answer;
  });
});

findToken().finally(refresh);
`;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shoal</title>
<style>${STYLE}</style>
</head>
<body>
<h1>shoal</h1>
<p id="peer">connecting…</p>
<p id="state"></p>
<section id="controls">
<form id="token-form" hidden><label>token <input id="token" type="password" autocomplete="off" placeholder="the content of cache/api-token"></label> <button type="submit">keep for this tab</button></form>
<form id="add-form"><input id="magnet" type="text" placeholder="magnet:?xt=urn:btih:..." autocomplete="off"> <button type="submit">add magnet link</button></form>
<label>or a .torrent: <input id="torrent-file" type="file" accept=".torrent,application/x-bittorrent"></label>
</section>
<p id="message"></p>
<section id="skipped"></section>
<main id="swarms"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Only this page's own script and style run, it talks only to its own peer, and it loads nothing else. */
export const DASHBOARD_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': `default-src 'none'; script-src 'sha256-${sha256(SCRIPT)}'; style-src 'sha256-${sha256(STYLE)}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
} as const;
