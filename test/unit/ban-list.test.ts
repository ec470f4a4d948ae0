/** Bans by address and peer id, bounded. */
import { BanList } from '../../src/main/swarm/ban-list.js';

test('a ban names the address and the peer id, not the whole IP', () => {
  const bans = new BanList(10);
  expect(bans.ban({ ip: '127.0.0.1', port: 6883, peerId: 'aa' })).toBe(true);
  expect(bans.isBannedAddress('127.0.0.1', 6883)).toBe(true);
  expect(bans.isBannedAddress('127.0.0.1', 6882)).toBe(false);
  expect(bans.isBannedPeerId('aa')).toBe(true);
  expect(bans.isBannedPeerId('bb')).toBe(false);
  expect(bans.addresses()).toEqual(['127.0.0.1:6883']);
});

test('banning an address again says so and lists it once', () => {
  const bans = new BanList(10);
  bans.ban({ ip: '10.0.0.1', port: 1, peerId: 'aa' });
  expect(bans.ban({ ip: '10.0.0.1', port: 1, peerId: 'bb' })).toBe(false);
  expect(bans.addresses()).toEqual(['10.0.0.1:1']);
  expect(bans.isBannedPeerId('bb')).toBe(true);
});

test('past the limit the oldest bans are forgotten', () => {
  const bans = new BanList(2);
  for (let i = 1; i <= 3; i++) bans.ban({ ip: '10.0.0.1', port: i, peerId: `id${i}` });
  expect(bans.addresses()).toEqual(['10.0.0.1:2', '10.0.0.1:3']);
  expect(bans.isBannedAddress('10.0.0.1', 1)).toBe(false);
  expect(bans.isBannedPeerId('id1')).toBe(false);
  expect(bans.isBannedPeerId('id3')).toBe(true);
});
