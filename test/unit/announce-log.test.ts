import { AnnounceLog, busiestWindow, quantile, spreadOf } from '../../bench/announce-log.js';

describe('busiestWindow', () => {
  it('counts the most arrivals within any window, wherever it starts', () => {
    expect(busiestWindow([0, 100, 2000, 2300, 2600, 2900, 5000], 1000)).toBe(4);
  });

  it('leaves out an arrival a whole window after the first', () => {
    expect(busiestWindow([0, 999, 1000], 1000)).toBe(2);
  });

  it('is zero for no arrival', () => {
    expect(busiestWindow([], 1000)).toBe(0);
  });
});

describe('spreadOf', () => {
  it('gives the first and last arrival after the origin, whatever their order', () => {
    expect(spreadOf([1500, 1200, 3700], 1000)).toEqual({ count: 3, firstMs: 200, lastMs: 2700, peakInWindow: 2 });
  });

  it('has no first or last without arrivals', () => {
    expect(spreadOf([], 0)).toEqual({ count: 0, firstMs: null, lastMs: null, peakInWindow: 0 });
  });
});

describe('AnnounceLog', () => {
  const log = new AnnounceLog();
  log.record({ at: 10, infoHashHex: 'a', event: 'started' });
  log.record({ at: 20, infoHashHex: 'b', event: 'started' });
  log.record({ at: 30, infoHashHex: 'a', event: 'started' });
  log.record({ at: 1010, infoHashHex: 'a', event: 'empty' });
  log.record({ at: 2010, infoHashHex: 'a', event: 'empty' });

  it('counts every announce but each swarm once per event', () => {
    expect(log.count).toBe(5);
    expect(log.swarmsThatSent('started')).toBe(2);
    expect(log.swarmsThatSent('empty')).toBe(1);
    expect(log.swarmsThatSent('stopped')).toBe(0);
  });

  it("keeps each swarm's first announce of an event", () => {
    expect(log.firstOfEach('started').sort((x, y) => x - y)).toEqual([10, 20]);
    expect(log.firstOfEach('empty')).toEqual([1010]);
  });

  it('measures the delay between two events only for swarms that sent both', () => {
    expect(log.delays('started', 'empty')).toEqual([1000]);
  });
});

describe('quantile', () => {
  it('picks the value below which the fraction lies', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i);
    expect([quantile(sorted, 0.05), quantile(sorted, 0.5), quantile(sorted, 0.95), quantile(sorted, 1)]).toEqual([5, 50, 95, 99]);
  });
});
