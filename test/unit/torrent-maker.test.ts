/**
 * The pure rules of making a .torrent: the default piece length and the tracker URLs accepted
 * (issue 21, "A newcomer's first hour"). Hashing real files is test/process/metainfo.test.ts.
 */
import fc from 'fast-check';
import { MetainfoError } from '../../src/io/metainfo.js';
import { KiB, MiB } from '../../src/io/settings.js';
import {
  checkTrackerUrl,
  defaultPieceLength,
  maxCreatePieceLength,
  minDefaultPieceLength,
  supportedTrackerSchemes,
  targetMaxPieceCount,
} from '../../src/io/torrent-maker.js';

const GiB = 1024 * MiB;

describe('the default piece length', () => {
  test('is 256 KiB for empty, tiny and small sources, up to 2000 pieces of it', () => {
    expect(minDefaultPieceLength).toBe(256 * KiB);
    expect(targetMaxPieceCount).toBe(2000);
    expect(defaultPieceLength(0)).toBe(256 * KiB);
    expect(defaultPieceLength(1)).toBe(256 * KiB);
    expect(defaultPieceLength(30 * MiB)).toBe(256 * KiB);
    expect(Math.ceil((30 * MiB) / defaultPieceLength(30 * MiB))).toBe(120);
    expect(defaultPieceLength(2000 * 256 * KiB)).toBe(256 * KiB);
  });

  test('doubles exactly when one more byte would need more than 2000 pieces', () => {
    expect(defaultPieceLength(2000 * 256 * KiB + 1)).toBe(512 * KiB);
    expect(defaultPieceLength(2000 * 512 * KiB)).toBe(512 * KiB);
    expect(defaultPieceLength(2000 * 512 * KiB + 1)).toBe(MiB);
    // 1 GiB in 512 KiB pieces would be 2048 of them.
    expect(defaultPieceLength(GiB)).toBe(MiB);
    expect(defaultPieceLength(2000 * 8 * MiB)).toBe(8 * MiB);
    expect(defaultPieceLength(2000 * 8 * MiB + 1)).toBe(16 * MiB);
  });

  test('stops at 16 MiB, letting the count grow past 2000 for huge sources', () => {
    expect(maxCreatePieceLength).toBe(16 * MiB);
    expect(defaultPieceLength(2000 * 16 * MiB)).toBe(16 * MiB);
    expect(defaultPieceLength(2000 * 16 * MiB + 1)).toBe(16 * MiB);
    expect(defaultPieceLength(100 * GiB)).toBe(16 * MiB);
    expect(defaultPieceLength(Number.MAX_SAFE_INTEGER)).toBe(16 * MiB);
  });

  test('is the smallest power of two in bounds giving at most 2000 pieces, for any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 46 }), (total) => {
        const length = defaultPieceLength(total);
        expect(length & (length - 1)).toBe(0);
        expect(length).toBeGreaterThanOrEqual(minDefaultPieceLength);
        expect(length).toBeLessThanOrEqual(maxCreatePieceLength);
        if (length < maxCreatePieceLength) expect(Math.ceil(total / length)).toBeLessThanOrEqual(targetMaxPieceCount);
        // Half the length would have been too many pieces, or below the floor.
        if (length > minDefaultPieceLength) expect(Math.ceil(total / (length / 2))).toBeGreaterThan(targetMaxPieceCount);
      }),
    );
  });
});

describe('tracker URLs', () => {
  const check = (url: string): void => checkTrackerUrl(url, 'announce URL');

  test('the peer announces over http, https and udp (BEP 15) only', () => {
    expect(supportedTrackerSchemes).toEqual(['http:', 'https:', 'udp:']);
  });

  test('accepts the http, https and udp URLs the peer can announce to', () => {
    for (const url of [
      'udp://tracker.example:6969/announce',
      'udp://[::1]:6881',
      'http://127.0.0.1:6881/announce',
      'https://tracker.example/announce',
      'http://tracker.example/announce?passkey=abc',
      'HTTP://Tracker.Example:80/announce',
      'http://[::1]:6969/announce',
    ]) {
      expect(() => check(url)).not.toThrow();
    }
  });

  test('refuses other schemes, naming the ones supported', () => {
    for (const url of ['wss://tracker.example/announce', 'ftp://host/x', 'mailto:a@b']) {
      expect(() => check(url)).toThrow(MetainfoError);
      expect(() => check(url)).toThrow(/cannot announce to; only http:\/\/, https:\/\/ or udp:\/\/ trackers are supported$/);
    }
    expect(() => check('wss://tracker.example/announce')).toThrow('announce URL "wss://tracker.example/announce" uses wss:');
  });

  test('refuses what is not a URL, or names no reachable host and port', () => {
    for (const url of ['', 'not a url', 'tracker.example/announce', 'http://', 'http://:6881/announce', 'http://host:99999/']) {
      expect(() => check(url)).toThrow(/is not a valid URL; give a tracker URL starting with http:\/\/, https:\/\/ or udp:\/\//);
    }
    for (const url of ['http://host:0/announce', 'https://[::1]:0/', 'udp:///announce', 'udp://host:0']) {
      expect(() => check(url)).toThrow(/names no host and port a tracker can listen on/);
    }
    // A UDP tracker has no default port (BEP 15).
    expect(() => check('udp://tracker.example/announce')).toThrow(/names no port; a udp:\/\/ tracker URL needs one/);
  });
});
