import { RateMeter } from '../../src/main/swarm/rate-meter.js';

const KiB = 1024;

describe('RateMeter (fake clock)', () => {
  test('a steady stream reads as its rate, from the first seconds on', () => {
    const meter = new RateMeter(5_000, 1_000);
    // 16 KiB every 100 ms: 160 KiB/s.
    for (let now = 0; now <= 20_000; now += 100) {
      meter.add(16 * KiB, now);
      if (now >= 2_000 && now % 700 === 0) {
        expect(meter.rate(now) / (160 * KiB)).toBeGreaterThan(0.95);
        expect(meter.rate(now) / (160 * KiB)).toBeLessThan(1.06);
      }
    }
    expect(meter.total).toBe(201 * 16 * KiB);
  });

  test('a burst then silence decays to 0 once the burst slid out of the window', () => {
    const meter = new RateMeter(5_000, 1_000);
    meter.add(1_000_000, 0);
    // Never extrapolated from less than one bucket of time.
    expect(meter.rate(0)).toBe(1_000_000);
    expect(meter.rate(500)).toBe(1_000_000);
    expect(meter.rate(2_000)).toBe(500_000);
    expect(meter.rate(4_000)).toBe(250_000);
    expect(meter.rate(5_999)).toBeGreaterThan(0);
    expect(meter.rate(6_000)).toBe(0);
    expect(meter.rate(60_000)).toBe(0);
    expect(meter.total).toBe(1_000_000);
  });

  test('window boundaries: the oldest bucket leaves at its bucket boundary', () => {
    const meter = new RateMeter(5_000, 1_000);
    meter.add(1_000, 10_000);
    meter.add(2_000, 11_500);
    // The window is the current bucket and the 5 before it: at 15 999, buckets 10..15.
    expect(meter.rate(15_999)).toBeCloseTo((3_000 * 1000) / 5_999, 6);
    // At 16 000 bucket 10 left: buckets 11..16 span 11 000..16 000.
    expect(meter.rate(16_000)).toBeCloseTo((2_000 * 1000) / 5_000, 6);
    meter.add(3_000, 16_999);
    expect(meter.rate(16_999)).toBeCloseTo((5_000 * 1000) / 5_999, 6);
    expect(meter.rate(17_000)).toBeCloseTo((3_000 * 1000) / 5_000, 6);
    expect(meter.rate(21_999)).toBeCloseTo((3_000 * 1000) / 5_999, 6);
    expect(meter.rate(22_000)).toBe(0);
  });

  test('a stream resuming after a long silence is measured afresh', () => {
    const meter = new RateMeter(5_000, 1_000);
    meter.add(50_000, 0);
    for (let now = 100_000; now < 110_000; now += 250) meter.add(2_500, now);
    expect(meter.rate(110_000)).toBeCloseTo(10_000, -2);
    expect(meter.total).toBe(50_000 + 40 * 2_500);
  });

  test('nothing added reads 0; a clock stepping back keeps counting', () => {
    const meter = new RateMeter();
    expect(meter.rate(1_000)).toBe(0);
    meter.add(1_000, 5_000);
    meter.add(1_000, 3_000);
    expect(meter.total).toBe(2_000);
    expect(meter.rate(5_500)).toBe(2_000);
  });
});
