/** BEP 6's allowed-fast set, against the BEP's own test vector. */
import { allowedFastSet } from '../../src/main/swarm/allowed-fast.js';

const INFO_HASH = Buffer.alloc(20, 0xaa);

test("BEP 6's vector: 1313 pieces, 80.4.4.200, info hash of 0xaa bytes, k = 7 and k = 9", () => {
  expect(allowedFastSet('80.4.4.200', INFO_HASH, 1313, 7)).toEqual([1059, 431, 808, 1217, 287, 376, 1188]);
  expect(allowedFastSet('80.4.4.200', INFO_HASH, 1313, 9)).toEqual([1059, 431, 808, 1217, 287, 376, 1188, 353, 508]);
});

test('the set depends on the /24 only, and an IPv4-mapped IPv6 address counts as its IPv4 address', () => {
  const set = allowedFastSet('80.4.4.200', INFO_HASH, 1313, 7);
  expect(allowedFastSet('80.4.4.1', INFO_HASH, 1313, 7)).toEqual(set);
  expect(allowedFastSet('::ffff:80.4.4.9', INFO_HASH, 1313, 7)).toEqual(set);
  expect(allowedFastSet('80.4.5.200', INFO_HASH, 1313, 7)).not.toEqual(set);
});

test('an IPv6 peer gets no set (BEP 6 defines it for IPv4 only)', () => {
  expect(allowedFastSet('2001:db8::1', INFO_HASH, 1313, 7)).toEqual([]);
});

test('a torrent with fewer pieces than k gives every piece once', () => {
  expect(allowedFastSet('80.4.4.200', INFO_HASH, 3, 10).sort()).toEqual([0, 1, 2]);
  expect(allowedFastSet('80.4.4.200', INFO_HASH, 0, 10)).toEqual([]);
});
