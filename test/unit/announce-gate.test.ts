/**
 * The session's gate for tracker requests (src/main/tracker/announce-gate.ts) alone, and the
 * announcers of many swarms going through one gate, on a fake clock with trackers in memory: the
 * bound on requests out at once, the order of the lanes, the wait at the gate that is no
 * tracker's silence, and event=stopped ahead of a long queue.
 */
import { AnnounceGate, type GateTicket } from '../../src/main/tracker/announce-gate.js';
import type { Announcer } from '../../src/main/tracker/announce-client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { announcerOf, HeldTracker, settle, TrackerLog } from '../helpers/held-tracker.js';

/** The tickets granted so far, by name, in the order their grant was seen. */
function watch(tickets: Record<string, GateTicket>): string[] {
  const granted: string[] = [];
  for (const [name, ticket] of Object.entries(tickets)) void ticket.granted.then(() => granted.push(name), () => undefined);
  return granted;
}

describe('AnnounceGate', () => {
  test('no more than maxInFlight requests are out at once; the others go in order of arrival as places are given back', async () => {
    const gate = new AnnounceGate(2);
    const tickets = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((name) => [name, gate.enter('announce')]));
    const granted = watch(tickets);
    await settle();
    expect(granted).toEqual(['a', 'b']);
    expect([gate.holding, gate.queued]).toEqual([2, 3]);
    tickets.b.leave();
    tickets.b.leave(); // a second leave gives nothing back twice
    await settle();
    expect(granted).toEqual(['a', 'b', 'c']);
    expect([gate.holding, gate.queued]).toEqual([2, 2]);
    tickets.a.leave();
    tickets.c.leave();
    await settle();
    expect(granted).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('event=stopped goes first, then event=completed, then other announces, scrapes last; a waiting announce can be raised', async () => {
    const gate = new AnnounceGate(1);
    const holder = gate.enter('announce');
    const tickets = {
      scrape: gate.enter('scrape'),
      started: gate.enter('announce'),
      periodic: gate.enter('announce'),
      completed: gate.enter('completed'),
      stopped: gate.enter('stopped'),
    };
    tickets.periodic.raise('completed');
    tickets.stopped.raise('announce'); // never lowered
    const granted = watch(tickets);
    for (let i = 0; i < 5; i++) {
      (i === 0 ? holder : Object.values(tickets).find((t) => t.holding)!).leave();
      await settle();
    }
    expect(granted).toEqual(['stopped', 'completed', 'periodic', 'started', 'scrape']);
  });

  test('a request that leaves while waiting, or whose signal aborts, is refused and takes no place', async () => {
    const gate = new AnnounceGate(1);
    const holder = gate.enter('announce');
    const controller = new AbortController();
    const aborted = gate.enter('announce', controller.signal);
    const withdrawn = gate.enter('announce');
    const next = gate.enter('announce');
    controller.abort();
    withdrawn.leave();
    await expect(aborted.granted).rejects.toMatchObject({ kind: 'aborted' });
    await expect(withdrawn.granted).rejects.toMatchObject({ kind: 'aborted' });
    expect(gate.enter('announce', AbortSignal.abort()).holding).toBe(false);
    holder.leave();
    await next.granted;
    expect([gate.holding, gate.queued]).toEqual([1, 0]);
  });

  test('a gate that lets nothing through is refused, naming the setting', () => {
    expect(() => new AnnounceGate(0)).toThrow(/maxConcurrentAnnounces/);
    expect(() => new AnnounceGate(1, { perSecond: 0, clock: new FakeClock() })).toThrow(/maxAnnouncesPerSecond/);
  });

  test('a paced gate lets a burst of perSecond out at once, then one request every 1/perSecond s, whatever the places free', async () => {
    const clock = new FakeClock();
    const gate = new AnnounceGate(100, { perSecond: 4, clock });
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const granted = watch(Object.fromEntries(names.map((name) => [name, gate.enter('announce')])));
    await settle();
    expect(granted).toEqual(names.slice(0, 4));
    clock.advance(249);
    await settle();
    expect(granted).toHaveLength(4);
    clock.advance(1);
    await settle();
    expect(granted).toEqual(names.slice(0, 5));
    clock.advance(1250);
    await settle();
    expect(granted).toEqual(names);
    expect([gate.holding, gate.queued]).toEqual([10, 0]);
  });

  test('event=stopped passes a paced gate at once; the paced lanes wait for the pace', async () => {
    const clock = new FakeClock();
    const gate = new AnnounceGate(100, { perSecond: 1, clock });
    const first = gate.enter('announce');
    const tickets = { started: gate.enter('announce'), completed: gate.enter('completed'), stopped: gate.enter('stopped') };
    const granted = watch(tickets);
    await first.granted;
    await settle();
    expect(granted).toEqual(['stopped']);
    clock.advance(1000);
    await settle();
    expect(granted).toEqual(['stopped', 'completed']);
    clock.advance(1000);
    await settle();
    expect(granted).toEqual(['stopped', 'completed', 'started']);
  });
});

describe('announcers through one gate (fake clock)', () => {
  let clock: FakeClock;
  let log: TrackerLog;
  let announcers: Announcer[];

  beforeEach(() => {
    clock = new FakeClock(1_000_000);
    log = new TrackerLog(clock);
    announcers = [];
  });

  afterEach(async () => {
    await Promise.all(announcers.map((a) => a.stop()));
  });

  function start(swarm: number, trackers: HeldTracker[], gate: AnnounceGate, extra: Parameters<typeof announcerOf>[3] = {}): Announcer {
    const announcer = announcerOf(swarm, trackers, log, { gate, ...extra });
    announcers.push(announcer);
    announcer.start();
    return announcer;
  }

  test('ten swarms starting together on one tracker have no more than three announces out at once, and all get announced', async () => {
    const gate = new AnnounceGate(3);
    const tracker = new HeldTracker('t', log);
    tracker.behaviour = 'hold';
    for (let swarm = 1; swarm <= 10; swarm++) start(swarm, [tracker], gate);
    await settle();
    expect(log.sent.map((s) => s.swarm)).toEqual([1, 2, 3]);
    while (log.sent.length < 10) {
      tracker.answerAll();
      await settle();
    }
    tracker.answerAll();
    await settle();
    expect(log.mostOut).toBe(3);
    expect(log.sent.map((s) => s.swarm)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(announcers.every((a) => a.status().state === 'ok')).toBe(true);
  });

  test('time waiting at the gate is no silence: the round waits its turn, then gives the tracker silentMs from when its request went out', async () => {
    const gate = new AnnounceGate(1);
    const first = new HeldTracker('first', log);
    const second = new HeldTracker('second', log);
    first.behaviour = 'hold';
    const blocker = gate.enter('announce');
    const announcer = start(1, [first, second], gate, { silentMs: 60_000, timeoutMs: 15_000 });
    await settle();
    clock.advance(10 * 60_000);
    await settle();
    expect(log.sent).toEqual([]);
    expect(announcer.trackerList().map((t) => t.status)).toEqual(['updating', 'idle']);

    blocker.leave();
    await settle();
    const sentAt = clock.now();
    expect(log.eventsOf('first')).toEqual(['started']);
    clock.advance(60_000 - 1);
    await settle();
    expect(log.eventsOf('second')).toEqual([]);
    // Silent for silentMs after it went out: the next tier's turn. The silent request gave its
    // place back after timeoutMs, so the second tracker's announce finds room at once.
    clock.advance(1);
    await settle();
    expect(log.sent.map((s) => [s.tracker, s.event, s.at - sentAt])).toEqual([
      ['first', 'started', 0],
      ['second', 'started', 60_000],
    ]);
    expect(announcer.status()).toMatchObject({ state: 'ok', url: 'second' });
  });

  test('event=stopped goes out at a stop ahead of a long queue of started, at the first place given back', async () => {
    const gate = new AnnounceGate(1);
    const home = new HeldTracker('home', log);
    const busy = new HeldTracker('busy', log);
    const leaving = start(1, [home], gate, { timeoutMs: 15_000 });
    await settle();
    expect(leaving.status().state).toBe('ok');
    busy.behaviour = 'hold';
    for (let swarm = 2; swarm <= 21; swarm++) start(swarm, [busy], gate, { timeoutMs: 15_000 });
    await settle();
    expect(gate.queued).toBe(19);

    let stopped = false;
    void leaving.stop().then(() => (stopped = true));
    await settle();
    expect(log.eventsOf('home')).toEqual(['started']);
    // The busy tracker never answers: its request gives its place back after timeoutMs.
    clock.advance(15_000);
    await settle();
    expect(log.sent.map((s) => [s.tracker, s.swarm, s.event])).toEqual([
      ['home', 1, 'started'],
      ['busy', 2, 'started'],
      ['home', 1, 'stopped'],
      ['busy', 3, 'started'],
    ]);
    expect(stopped).toBe(true);
  });

  test('a stop waits at the gate no longer than stopTimeoutMs, and says why its event=stopped was not sent', async () => {
    const gate = new AnnounceGate(1);
    const tracker = new HeldTracker('t', log);
    const lines: string[] = [];
    const leaving = start(1, [tracker], gate, { stopTimeoutMs: 50, log: (line) => lines.push(line) });
    await settle();
    const blocker = gate.enter('announce');
    await leaving.stop();
    expect(log.eventsOf('t')).toEqual(['started']);
    expect(lines).toEqual(['tracker t: event=stopped not delivered: not sent within 50 ms: all 1 tracker requests allowed at once (maxConcurrentAnnounces) were out']);
    expect([gate.holding, gate.queued]).toEqual([1, 0]);
    blocker.leave();
  });

  test('swarms stopped while their started wait at the gate leave the queue and send nothing, even when all stop at once', async () => {
    const gate = new AnnounceGate(1);
    const tracker = new HeldTracker('t', log);
    tracker.behaviour = 'hold';
    const [out, alone, ...rest] = [1, 2, 3, 4].map((swarm) => start(swarm, [tracker], gate));
    await settle();
    expect(gate.queued).toBe(3);
    await alone.stop();
    expect(gate.queued).toBe(2);
    // As at the program's end: each place given back on the way is granted to a swarm that is stopping too.
    await Promise.all([out, ...rest].map((a) => a.stop()));
    expect([gate.holding, gate.queued]).toEqual([0, 0]);
    expect(log.sent.map((s) => [s.swarm, s.event])).toEqual([
      [1, 'started'],
      [1, 'stopped'],
    ]);
  });

  test('event=completed does not wait behind the started queued before it, whether its round was waiting already or not', async () => {
    const gate = new AnnounceGate(1);
    const tracker = new HeldTracker('t', log);
    tracker.intervalS = 0; // each swarm comes again at its floor
    const fresh = start(1, [tracker], gate, { minIntervalMs: 3_600_000 });
    const periodic = start(2, [tracker], gate, { minIntervalMs: 1_000 });
    await settle();
    expect(log.sent.map((s) => s.swarm)).toEqual([1, 2]);
    tracker.behaviour = 'hold';
    const blocker = gate.enter('announce');
    for (let swarm = 3; swarm <= 6; swarm++) start(swarm, [tracker], gate);
    clock.advance(1_000);
    await settle();
    // Swarm 2's periodic round waits behind the four started; swarm 1 has no round waiting.
    expect(gate.queued).toBe(5);
    fresh.completed();
    periodic.completed();
    blocker.leave();
    for (let i = 0; i < 6; i++) {
      await settle();
      tracker.answerAll();
    }
    expect(log.sent.slice(2).map((s) => [s.swarm, s.event])).toEqual([
      [1, 'completed'],
      [2, 'completed'],
      [3, 'started'],
      [4, 'started'],
      [5, 'started'],
      [6, 'started'],
    ]);
  });
});
