import { defaultSettings as settings } from '../../src/io/settings.js';
import { PexSender, isShoalClient } from '../../src/main/swarm/pex-broadcast.js';
import { decodePex, encodePex, pexPeerKey, type PexMessage, type PexPeer } from '../../src/main/wire/ut-pex.js';

const peer = (i: number, flags?: number): PexPeer => {
  const p: PexPeer = { ip: `10.0.${i >> 8}.${i & 0xff}`, port: 6881 };
  if (flags !== undefined) p.flags = flags;
  return p;
};
const peer6 = (i: number): PexPeer => ({ ip: `2001:db8::${i.toString(16)}`, port: 6881 });
const range = (from: number, to: number): PexPeer[] => Array.from({ length: to - from }, (_, k) => peer(from + k));

describe('isShoalClient', () => {
  test.each<[string | undefined, boolean]>([
    ['shoal 0.1.0', true],
    ['shoal', true],
    ['shoal/2', true],
    [undefined, false],
    ['', false],
    ['libtorrent/2.0.9', false],
    ['Transmission 4.0.5', false],
    ['Shoal 0.1.0', false],
    [' shoal', false],
  ])('%p is %p', (v, expected) => {
    expect(isShoalClient(v)).toBe(expected);
  });
});

describe.each([
  ['another shoal peer', true, settings.pexShoalIntervalMs],
  ['another client', false, settings.pexIntervalMs],
])('PexSender to %s', (_name, shoalPeer, interval) => {
  test('the first message goes at once and carries the current list', () => {
    const sender = new PexSender({ shoalPeer });
    expect(sender.nextAllowedAt).toBe(-Infinity);
    expect(sender.next([peer(1, 0x10), peer6(2)], 1_000)).toEqual({ added: [peer(1, 0x10), peer6(2)], dropped: [] });
    expect(sender.nextAllowedAt).toBe(1_000 + interval);
  });

  test('nothing to say is no message, and does not use up the first message', () => {
    const sender = new PexSender({ shoalPeer });
    expect(sender.next([], 0)).toBeNull();
    expect(sender.nextAllowedAt).toBe(-Infinity);
    expect(sender.next([peer(1)], 5)).toEqual({ added: [peer(1)], dropped: [] });
    expect(sender.next([peer(1)], 5 + interval)).toBeNull();
    expect(sender.next([peer(1)], 5 + 100 * interval)).toBeNull();
  });

  test(`a change waits until ${interval} ms after the last message`, () => {
    const sender = new PexSender({ shoalPeer });
    expect(sender.next([peer(1)], 0)).not.toBeNull();
    expect(sender.next([peer(1), peer(2)], 1)).toBeNull();
    expect(sender.next([peer(1), peer(2), peer(3)], interval - 1)).toBeNull();
    expect(sender.next([peer(1), peer(2), peer(3)], interval)).toEqual({ added: [peer(2), peer(3)], dropped: [] });
    // After a quiet spell a change goes at once.
    expect(sender.next([peer(1), peer(2), peer(3), peer(4)], 10 * interval)).toEqual({ added: [peer(4)], dropped: [] });
  });

  test('diffs: added peers, then dropped ones, without flags', () => {
    const sender = new PexSender({ shoalPeer });
    expect(sender.next([peer(1, 2), peer(2, 2)], 0)).toEqual({ added: [peer(1, 2), peer(2, 2)], dropped: [] });
    expect(sender.next([peer(2, 2), peer(3, 16)], interval)).toEqual({ added: [peer(3, 16)], dropped: [peer(1)] });
    expect(sender.next([], 2 * interval)).toEqual({ added: [], dropped: [peer(2), peer(3)] });
    expect(sender.next([], 3 * interval)).toBeNull();
    // A peer dropped earlier is news again when it comes back.
    expect(sender.next([peer(1)], 4 * interval)).toEqual({ added: [peer(1)], dropped: [] });
  });

  test('a change undone before it could be sent is never mentioned', () => {
    const sender = new PexSender({ shoalPeer });
    sender.next([peer(1)], 0);
    expect(sender.next([peer(1), peer(2)], 1)).toBeNull(); // too soon
    expect(sender.next([], 2)).toBeNull(); // too soon
    expect(sender.next([peer(1)], interval)).toBeNull(); // and now nothing changed
  });

  test('one address in two spellings, or listed twice, is one peer; new flags alone are not news', () => {
    const sender = new PexSender({ shoalPeer });
    const mapped = { ip: '::ffff:10.0.0.1', port: 6881 };
    expect(sender.next([peer(1), mapped, peer(1, 2)], 0)).toEqual({ added: [peer(1)], dropped: [] });
    expect(sender.next([peer(1, 2)], interval)).toBeNull();
    expect(sender.next([mapped], 2 * interval)).toBeNull();
  });

  test(`at most ${settings.pexMaxPeersPerMessage} added per message, the rest in the next ones`, () => {
    const sender = new PexSender({ shoalPeer });
    const all = range(0, 120);
    expect(sender.next(all, 0)).toEqual({ added: range(0, 50), dropped: [] });
    expect(sender.next(all, interval - 1)).toBeNull();
    expect(sender.next(all, interval)).toEqual({ added: range(50, 100), dropped: [] });
    expect(sender.next(all, 2 * interval)).toEqual({ added: range(100, 120), dropped: [] });
    expect(sender.next(all, 3 * interval)).toBeNull();
  });

  test(`at most ${settings.pexMaxPeersPerMessage} dropped per message, alongside ${settings.pexMaxPeersPerMessage} added`, () => {
    const sender = new PexSender({ shoalPeer });
    sender.next(range(0, 50), 0);
    sender.next(range(0, 70), interval);
    // All 70 leave and 60 others come.
    const next = range(100, 160);
    expect(sender.next(next, 2 * interval)).toEqual({ added: range(100, 150), dropped: range(0, 50) });
    expect(sender.next(next, 3 * interval)).toEqual({ added: range(150, 160), dropped: range(50, 70) });
    expect(sender.next(next, 4 * interval)).toBeNull();
  });

  test('IPv4 and IPv6 share the cap', () => {
    const sender = new PexSender({ shoalPeer });
    const v6 = Array.from({ length: 30 }, (_, k) => peer6(k + 1));
    const all = [...range(0, 30), ...v6];
    expect(sender.next(all, 0)).toEqual({ added: [...range(0, 30), ...v6.slice(0, 20)], dropped: [] });
    expect(sender.next(all, interval)).toEqual({ added: v6.slice(20), dropped: [] });
  });

  test('what was sent is a copy of the caller’s peers', () => {
    const sender = new PexSender({ shoalPeer });
    const mine = peer(1, 2);
    const message = sender.next([mine], 0);
    mine.port = 1;
    mine.flags = 0;
    expect(message).toEqual({ added: [peer(1, 2)], dropped: [] });
    expect(sender.next([peer(1)], interval)).toBeNull();
  });
});

test('shoal peers hear of changes within a second, other clients once a minute', () => {
  const shoal = new PexSender({ shoalPeer: true });
  const other = new PexSender({ shoalPeer: false });
  const list: PexPeer[] = [peer(1)];
  shoal.next(list, 0);
  other.next(list, 0);
  list.push(peer(2));
  expect(shoal.next(list, 1_000)).toEqual({ added: [peer(2)], dropped: [] });
  expect(other.next(list, 1_000)).toBeNull();
  expect(other.next(list, 59_999)).toBeNull();
  expect(other.next(list, 60_000)).toEqual({ added: [peer(2)], dropped: [] });
});

test('random churn: every message is paced, bounded, non-empty and consistent, and the recipient catches up', () => {
  let seed = 0x9e3779b9;
  const random = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  for (const shoalPeer of [true, false]) {
    const interval = shoalPeer ? settings.pexShoalIntervalMs : settings.pexIntervalMs;
    const sender = new PexSender({ shoalPeer });
    const present = new Map<string, PexPeer>();
    /** What the recipient knows, from the bytes it received. */
    const known = new Map<string, PexPeer>();
    let lastSent = -Infinity;
    const deliver = (message: PexMessage, now: number): void => {
      expect(now - lastSent).toBeGreaterThanOrEqual(interval);
      lastSent = now;
      const received = decodePex(encodePex(message));
      expect(received.added.length + received.dropped.length).toBeGreaterThan(0);
      expect(received.added.length).toBeLessThanOrEqual(settings.pexMaxPeersPerMessage);
      expect(received.dropped.length).toBeLessThanOrEqual(settings.pexMaxPeersPerMessage);
      for (const p of received.dropped) {
        expect(known.delete(pexPeerKey(p))).toBe(true);
      }
      for (const p of received.added) {
        expect(known.has(pexPeerKey(p))).toBe(false);
        known.set(pexPeerKey(p), p);
      }
    };
    let now = 0;
    for (let step = 0; step < 1000; step++) {
      now += random(interval / 4);
      for (let k = random(12); k > 0; k--) {
        const p = random(3) === 0 ? peer6(1 + random(400)) : peer(random(400), random(32));
        const key = pexPeerKey(p);
        if (present.has(key)) present.delete(key);
        else present.set(key, p);
      }
      const message = sender.next([...present.values()], now);
      if (message !== null) deliver(message, now);
    }
    // Once the churn stops, the recipient's view converges on ours.
    for (let k = 0; k < 20; k++) {
      now += interval;
      const message = sender.next([...present.values()], now);
      if (message !== null) deliver(message, now);
    }
    expect(sender.next([...present.values()], now + interval)).toBeNull();
    const byKey = (m: Map<string, PexPeer>): string[] => [...m.keys()].sort();
    expect(byKey(known)).toEqual(byKey(present));
  }
});
