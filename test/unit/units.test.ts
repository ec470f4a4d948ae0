/** Numbers as the terminal and the dashboard show them. */
import { formatBytes, formatDuration, formatRate } from '../../src/main/ui/units.js';
import { printable } from '../../src/main/printable-text.js';
import { fitWidth, padWidth } from '../../src/main/ui/terminal-text.js';

test('byte counts in binary units, one decimal below 10', () => {
  expect(formatBytes(0)).toBe('0 B');
  expect(formatBytes(999)).toBe('999 B');
  expect(formatBytes(1536)).toBe('1.5 KiB');
  expect(formatBytes(64 * 1024 * 1024)).toBe('64 MiB');
  expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
});

test('rates are compact and never longer than 7 characters', () => {
  expect(formatRate(0)).toBe('0B/s');
  expect(formatRate(512 * 1024)).toBe('512k/s');
  expect(formatRate(3355443)).toBe('3.2M/s');
  expect(formatRate(-5)).toBe('0B/s');
  for (let rate = 1; rate < 2 ** 50; rate *= 1.7) expect(formatRate(rate).length).toBeLessThanOrEqual(7);
});

test('durations as m:ss or h:mm:ss, with unknown and absurd ones marked', () => {
  expect(formatDuration(0)).toBe('0:00');
  expect(formatDuration(61.2)).toBe('1:02');
  expect(formatDuration(3600 + 5)).toBe('1:00:05');
  expect(formatDuration(Infinity)).toBe('--:--');
  expect(formatDuration(NaN)).toBe('--:--');
  expect(formatDuration(200 * 3600)).toBe('>99h');
});

test('text for a terminal: controls replaced, cut with an ellipsis, padded', () => {
  expect(printable('a\u001b[31mb\nc\u007f\u0085')).toBe('a\uFFFD[31mb\uFFFDc\uFFFD\uFFFD');
  expect(printable('naïve ☃ 日本')).toBe('naïve ☃ 日本');
  expect(fitWidth('abcdef', 4)).toBe('abc…');
  expect(fitWidth('abc', 4)).toBe('abc');
  expect(padWidth('ab', 4)).toBe('ab  ');
  expect(padWidth('☃☃☃☃☃', 3)).toBe('☃☃…');
});
