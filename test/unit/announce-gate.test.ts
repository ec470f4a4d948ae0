/**
 * The session's gate for tracker requests (src/main/tracker/announce-gate.ts) alone, and the
 * announcers of many swarms going through one gate, on a fake clock with trackers in memory: the
 * bound on requests out at once, the order of the lanes, the wait at the gate that is no
 * tracker's silence, and event=stopped ahead of a long queue.
 */
import { AnnounceGate, type GateLane, type GateTicket } from '../../src/main/tracker/announce-gate.js';
import type { Announcer } from '../../src/main/tracker/announce-client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { announcerOf, HeldTracker, settle, TrackerLog } from '../helpers/held-tracker.js';

/** Grants as they come, by name, in order. */
class Grants {
  readonly seen: string[] = [];
  readonly tickets: Record<string, GateTicket> = {};
  constructor(private readonly gate: AnnounceGate) {}

  enter(name: string, lane: GateLane = 'announce'): GateTicket {
    return (this.tickets[name] = this.gate.enter(lane, () => this.seen.push(name)));
  }
}

const nothing = (): void => undefined;

describe('AnnounceGate', () => {
  test('no more than maxInFlight requests are out at once; the others go in order of arrival as places are given back', async () => {
    const gate = new AnnounceGate(2);
    const grants = new Grants(gate);
    const tickets = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((name) => [name, grants.enter(name)]));
    // Never inside enter(): the caller has its ticket before its grant comes.
    expect(grants.seen).toEqual([]);
    await settle();
    expect(grants.seen).toEqual(['a', 'b']);
    expect([gate.holding, gate.queued]).toEqual([2, 3]);
    tickets.b.leave();
    tickets.b.leave(); // a second leave gives nothing back twice
    await settle();
    expect(grants.seen).toEqual(['a', 'b', 'c']);
    expect([gate.holding, gate.queued]).toEqual([2, 2]);
    tickets.a.leave();
    tickets.c.leave();
    await settle();
    expect(grants.seen).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('event=stopped goes first, then event=completed, then other announces, scrapes last; a waiting announce can be raised', async () => {
    const gate = new AnnounceGate(1);
    const holder = gate.enter('announce', nothing);
    const grants = new Grants(gate);
    grants.enter('scrape', 'scrape');
    grants.enter('started');
    grants.enter('periodic');
    grants.enter('completed', 'completed');
    grants.enter('stopped', 'stopped');
    grants.tickets.periodic.raise('completed');
    grants.tickets.stopped.raise('announce'); // never lowered
    for (let i = 0; i < 5; i++) {
      (i === 0 ? holder : Object.values(grants.tickets).find((t) => t.holding)!).leave();
      await settle();
    }
    expect(grants.seen).toEqual(['stopped', 'completed', 'periodic', 'started', 'scrape']);
  });

  test('a request that leaves while waiting takes no place and is never granted; one granted and left before its turn came is not called', async () => {
    const gate = new AnnounceGate(1);
    const grants = new Grants(gate);
    const holder = grants.enter('holder');
    grants.enter('withdrawn').leave();
    grants.enter('next');
    await settle();
    expect(grants.seen).toEqual(['holder']);
    expect([gate.holding, gate.queued]).toEqual([1, 1]);
    holder.leave();
    // Granted at once, left in the same turn: its grant is not delivered and its place is free.
    grants.tickets.next.leave();
    await settle();
    expect(grants.seen).toEqual(['holder']);
    expect([gate.holding, gate.queued]).toEqual([0, 0]);
  });

  test('wait() for code that awaits: an abort while waiting refuses it and takes no place; an abort after the grant gives the place back', async () => {
    const gate = new AnnounceGate(1);
    const holder = gate.enter('announce', nothing);
    const controller = new AbortController();
    const aborted = gate.wait('announce', controller.signal);
    const next = gate.wait('announce', new AbortController().signal);
    controller.abort();
    await expect(aborted.granted).rejects.toMatchObject({ kind: 'aborted' });
    expect(gate.wait('announce', AbortSignal.abort()).ticket.holding).toBe(false);
    expect(gate.queued).toBe(1);
    holder.leave();
    await next.granted;
    expect(next.ticket.holding).toBe(true);
    expect([gate.holding, gate.queued]).toEqual([1, 0]);

    const late = new AbortController();
    next.ticket.leave();
    const granted = gate.wait('announce', late.signal);
    await granted.granted;
    late.abort();
    expect([granted.ticket.holding, gate.holding]).toEqual([false, 0]);
  });

  test('a gate that lets nothing through is refused, naming the setting', () => {
    expect(() => new AnnounceGate(0)).toThrow(/maxConcurrentAnnounces/);
    expect(() => new AnnounceGate(1, { perSecond: 0, clock: new FakeClock() })).toThrow(/maxAnnouncesPerSecond/);
  });

  test('a paced gate lets a burst of perSecond out at once, then one request every 1/perSecond s, whatever the places free', async () => {
    const clock = new FakeClock();
    const gate = new AnnounceGate(100, { perSecond: 4, clock });
    const grants = new Grants(gate);
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    for (const name of names) grants.enter(name);
    await settle();
    expect(grants.seen).toEqual(names.slice(0, 4));
    clock.advance(249);
    await settle();
    expect(grants.seen).toHaveLength(4);
    clock.advance(1);
    await settle();
    expect(grants.seen).toEqual(names.slice(0, 5));
    clock.advance(1250);
    await settle();
    expect(grants.seen).toEqual(names);
    expect([gate.holding, gate.queued]).toEqual([10, 0]);
  });

  test('event=stopped passes a paced gate at once; the paced lanes wait for the pace', async () => {
    const clock = new FakeClock();
    const gate = new AnnounceGate(100, { perSecond: 1, clock });
    const grants = new Grants(gate);
    grants.enter('first');
    grants.enter('started');
    grants.enter('completed', 'completed');
    grants.enter('stopped', 'stopped');
    await settle();
    expect(grants.seen).toEqual(['first', 'stopped']);
    clock.advance(1000);
    await settle();
    expect(grants.seen).toEqual(['first', 'stopped', 'completed']);
    clock.advance(1000);
    await settle();
    expect(grants.seen).toEqual(['first', 'stopped', 'completed', 'started']);
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
    const blocker = gate.enter('announce', nothing);
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
    const blocker = gate.enter('announce', nothing);
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
    const blocker = gate.enter('announce', nothing);
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
