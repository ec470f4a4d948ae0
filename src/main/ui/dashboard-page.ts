/**
 * The dashboard served at `GET /` on the peer's port: one self-contained HTML page (inline CSS
 * and script, no external assets, no build step) that reads `/status` every second and shows
 * the swarms, their roles, progress, rates, trackers (each with its tier, status, error and
 * counts), peers and known peers, why a stuck swarm is stuck (stall-reason.ts), and the .torrent
 * files skipped with their reasons. A list or table with nothing in it is not drawn: a short
 * sentence says so instead, or, for a torrent without trackers, nothing.
 *
 * Everything in the status document may come from strangers (a swarm's name is whatever the
 * .torrent says), so the script only ever puts it in the page as text (textContent, never
 * innerHTML); the Content-Security-Policy, which allows no script but this one (by its hash),
 * is a second wall should that rule ever be broken.
 */
import { createHash } from 'node:crypto';
import { defaultSettings } from '../../io/settings.js';
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

const openDetails = new Set();

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
  const head = el('div', 'head',
    el('span', 'name', swarm.name),
    el('span', 'role ' + (swarm.role === 'seeder' ? 'seeder' : 'leecher'), swarm.role),
    swarm.announcer ? el('span', 'role', 'announcer') : '',
    el('span', 'percent', percent),
    el('span', 'numbers', swarm.have + '/' + swarm.pieces + ' pieces of ' + formatBytes(swarm.size)),
    el('span', 'numbers rates', '↓ ' + formatRate(down) + '  ↑ ' + formatRate(swarm.uploadRate || 0)),
    el('span', 'numbers', left),
    el('span', 'numbers peer-count', swarm.peers.length + (swarm.peers.length === 1 ? ' peer' : ' peers') + ', ' + swarm.known.length + ' known'));
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
  const section = el('section', 'swarm', head, bar, el('div', 'numbers', 'downloaded ' + formatBytes(swarm.downloaded) + ', uploaded ' + formatBytes(swarm.uploaded)), details);
  section.dataset.infoHash = swarm.infoHash;
  section.dataset.role = swarm.role;
  return section;
}

function show(status) {
  document.getElementById('peer').textContent =
    'peer ' + status.peerId + ' at ' + (status.host || location.hostname) + ':' + status.port + ', ' + status.workers + (status.workers === 1 ? ' worker' : ' workers') + ', event-loop delay p99 ' + status.eventLoopDelayP99Ms + ' ms';
  const swarms = status.swarms.length ? status.swarms.map(swarmView) : [el('p', 'numbers', 'no swarm joined yet')];
  document.getElementById('swarms').replaceChildren(...swarms);
  const skipped = status.skipped || [];
  document.getElementById('skipped').replaceChildren(...(skipped.length === 0 ? [] : [
    el('h2', '', skipped.length === 1 ? '1 .torrent file skipped' : skipped.length + ' .torrent files skipped'),
    el('ul', '', ...skipped.map((s) => el('li', '', el('span', 'file', s.file), ': ', el('span', 'why', s.reason)))),
  ]));
  const state = document.getElementById('state');
  state.className = '';
  state.textContent = 'updated ' + new Date().toLocaleTimeString();
}

async function refresh() {
  try {
    const response = await fetch('/status', { cache: 'no-store' });
    if (!response.ok) throw new Error('/status answered ' + response.status);
    show(await response.json());
  } catch (error) {
    const state = document.getElementById('state');
    state.className = 'error';
    state.textContent = 'cannot read /status: ' + error.message + ' (retrying)';
  } finally {
    setTimeout(refresh, ${defaultSettings.dashboardRefreshMs});
  }
}
refresh();
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
