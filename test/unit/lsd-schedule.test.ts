/** When local service discovery announces which swarms (src/main/discovery/lsd-schedule.ts), BEP 14's pacing. */
import { withOverrides } from '../../src/io/settings.js';
import { lsdOverheadBytes } from '../../src/main/discovery/lsd-message.js';
import { LsdSchedule } from '../../src/main/discovery/lsd-schedule.js';

const settings = withOverrides({ lsdAnnounceIntervalMs: 300_000, lsdMinPacketIntervalMs: 60_000, lsdMaxPacketBytes: 1_400 });
const hash = (i: number): string => i.toString(16).padStart(40, '0');

test('each swarm every 5 minutes, never two announcements within a minute; swarms joined together go together', () => {
  const schedule = new LsdSchedule(settings, lsdOverheadBytes(6881, 'cookie'));
  schedule.add(hash(1), 0);
  schedule.add(hash(2), 0);
  expect(schedule.next(0)).toEqual([hash(1), hash(2)]);
  schedule.add(hash(3), 1_000);
  expect(schedule.next(1_000)).toEqual([]);
  expect(schedule.next(59_999)).toEqual([]);
  expect(schedule.next(60_000)).toEqual([hash(3)]);
  expect(schedule.next(200_000)).toEqual([]);
  expect(schedule.next(300_000)).toEqual([hash(1), hash(2)]);
  schedule.remove(hash(3));
  expect(schedule.next(400_000)).toEqual([]);
});

test('more swarms than one announcement holds (1400 bytes) take turns, those waiting longest first', () => {
  const overhead = lsdOverheadBytes(6881, 'cookie');
  const schedule = new LsdSchedule(settings, overhead);
  for (let i = 0; i < 60; i++) schedule.add(hash(i), 0);
  const capacity = Math.floor((1_400 - overhead) / 52);
  const first = schedule.next(0);
  expect(first).toHaveLength(capacity);
  expect(first).toEqual(Array.from({ length: capacity }, (_, i) => hash(i)));
  const second = schedule.next(60_000);
  expect(second[0]).toBe(hash(capacity));
  const third = schedule.next(120_000);
  const sent = new Set([...first, ...second, ...third]);
  expect(sent.size).toBe(Math.min(60, 3 * capacity));
  // The first ones are due again only 5 minutes after they went.
  expect(schedule.next(180_000).includes(hash(0))).toBe(false);
});
