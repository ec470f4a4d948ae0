/**
 * The live view of a terminal: one line per swarm with its name, role, a progress bar, the
 * percentage, the download and upload rates, the peers and the time left. Pure: from a status
 * document and a width to lines of at most that many characters (the caller draws them).
 */
import type { SwarmStatus } from '../swarm/swarm-status.js';
import { printable } from '../printable-text.js';
import { fitWidth, padWidth } from './terminal-text.js';
import { formatDuration, formatRate } from './units.js';

/** The part of a swarm's status the line shows. */
export type SwarmLineStatus = Pick<SwarmStatus, 'name' | 'role' | 'size' | 'left' | 'downloadRate' | 'uploadRate' | 'peers'>;

const ROLE_WIDTH = 'leecher'.length;
const PERCENT_WIDTH = '100.0%'.length;
const RATE_WIDTH = 1 + '1000k/s'.length;
const PEERS_WIDTH = '999 peers'.length;
const TIME_WIDTH = 'ETA 99:59:59'.length;
/** The bar's brackets, and one space between each of the eight columns. */
const BRACKETS = 2;
const SEPARATORS = 7;
/** Everything but the name and the bar. */
const FIXED_WIDTH = ROLE_WIDTH + BRACKETS + PERCENT_WIDTH + 2 * RATE_WIDTH + PEERS_WIDTH + TIME_WIDTH + SEPARATORS;
const MIN_NAME_WIDTH = 8;
const MIN_BAR_WIDTH = 10;
const MAX_BAR_WIDTH = 40;

/** Share of the swarm's bytes that this peer has, from 0 to 1. */
export function progressOf(swarm: Pick<SwarmStatus, 'size' | 'left'>): number {
  return swarm.size === 0 ? 1 : Math.min(1, Math.max(0, (swarm.size - swarm.left) / swarm.size));
}

/** `width` cells, the done share filled. */
export function progressBar(progress: number, width: number): string {
  const filled = Math.round(progress * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** "ETA 1:23"; "done" for a seeder; "ETA --:--" while nothing arrives. */
function timeLeft(swarm: SwarmLineStatus): string {
  if (swarm.role === 'seeder' || swarm.left === 0) return 'done';
  return `ETA ${formatDuration(swarm.left / swarm.downloadRate)}`;
}

function swarmLine(swarm: SwarmLineStatus, nameWidth: number, barWidth: number, width: number): string {
  const progress = progressOf(swarm);
  const peers = swarm.peers.length === 1 ? '1 peer' : `${swarm.peers.length} peers`;
  const columns = [
    padWidth(printable(swarm.name), nameWidth),
    swarm.role.padEnd(ROLE_WIDTH),
    `[${progressBar(progress, barWidth)}]`,
    `${(Math.floor(progress * 1000) / 10).toFixed(1)}%`.padStart(PERCENT_WIDTH),
    `↓${formatRate(swarm.downloadRate)}`.padStart(RATE_WIDTH),
    `↑${formatRate(swarm.uploadRate)}`.padStart(RATE_WIDTH),
    peers.padStart(PEERS_WIDTH),
    timeLeft(swarm).padStart(TIME_WIDTH),
  ];
  return fitWidth(columns.join(' ').trimEnd(), width);
}

/**
 * One line per swarm, each at most `width` characters, in the order given. More swarms than
 * `maxLines`: leechers come first (they are what a person waits for), and the last line says how
 * many are not shown.
 */
export function renderSwarmLines(status: { swarms: readonly SwarmLineStatus[] }, width: number, maxLines = Infinity): string[] {
  if (status.swarms.length === 0) return [fitWidth('no swarm joined yet', width)];
  const swarms =
    status.swarms.length <= maxLines
      ? status.swarms
      : [...status.swarms.filter((s) => s.role === 'leecher'), ...status.swarms.filter((s) => s.role !== 'leecher')];
  const shown = swarms.length > maxLines ? swarms.slice(0, Math.max(0, maxLines - 1)) : swarms;
  const room = width - FIXED_WIDTH;
  const longestName = Math.max(...shown.map((s) => [...printable(s.name)].length), 0);
  const nameWidth = Math.max(MIN_NAME_WIDTH, Math.min(longestName, room - MIN_BAR_WIDTH));
  const barWidth = Math.max(MIN_BAR_WIDTH, Math.min(MAX_BAR_WIDTH, room - nameWidth));
  const lines = shown.map((swarm) => swarmLine(swarm, nameWidth, barWidth, width));
  if (shown.length < swarms.length) {
    const hidden = swarms.slice(shown.length);
    const leeching = hidden.filter((s) => s.role === 'leecher').length;
    lines.push(fitWidth(`… and ${hidden.length} more (${leeching} leeching, ${hidden.length - leeching} seeding)`, width));
  }
  return lines;
}
