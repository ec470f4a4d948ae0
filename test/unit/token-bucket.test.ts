import { TokenBucket } from '../../src/main/net/token-bucket.js';

describe('TokenBucket (fake clock)', () => {
  test('lets a burst through, then paces to the rate', () => {
    const bucket = new TokenBucket(1000, 500, 0);
    expect(bucket.take(500, 0)).toBe(0);
    // 250 bytes of debt at 1000 B/s: wait 250 ms.
    expect(bucket.take(250, 0)).toBe(250);
    expect(bucket.delay(100)).toBe(150);
    expect(bucket.delay(250)).toBe(0);
  });

  test('refills no further than the burst', () => {
    const bucket = new TokenBucket(1000, 500, 0);
    expect(bucket.take(500, 0)).toBe(0);
    expect(bucket.take(500, 60_000)).toBe(0);
    expect(bucket.take(1, 60_000)).toBe(1);
  });

  test('over a long run the average is the rate', () => {
    const bucket = new TokenBucket(10_000, 1_000, 0);
    let now = 0;
    let moved = 0;
    while (now < 10_000) {
      now += bucket.delay(now);
      bucket.take(700, now);
      moved += 700;
    }
    expect(moved / (now / 1000)).toBeGreaterThan(9_500);
    expect(moved / (now / 1000)).toBeLessThan(10_500);
  });

  test('rate 0 is unlimited', () => {
    const bucket = new TokenBucket(0, 0, 0);
    expect(bucket.take(1e12, 0)).toBe(0);
  });
});
