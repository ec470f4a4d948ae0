/** The connection limit shared among swarms: a swarm over its share leaves the last tenth to the others. */
import { mayConnect } from '../../src/main/swarm/connection-shares.js';

test('nothing beyond the limit', () => {
  expect(mayConnect(500, 0, 1, 500)).toBe(false);
});

test('a swarm alone may use all but the reserve beyond its share, which is the whole limit', () => {
  expect(mayConnect(499, 499, 1, 500)).toBe(true);
});

test('a swarm over its share stops at nine tenths; one under its share may still dial', () => {
  // 20 swarms: a fair share of 25 connections each.
  expect(mayConnect(449, 60, 20, 500)).toBe(true);
  expect(mayConnect(450, 60, 20, 500)).toBe(false);
  expect(mayConnect(450, 24, 20, 500)).toBe(true);
  expect(mayConnect(499, 0, 20, 500)).toBe(true);
});

test('more swarms than connections: each may still have one', () => {
  expect(mayConnect(480, 0, 1000, 500)).toBe(true);
  expect(mayConnect(480, 1, 1000, 500)).toBe(false);
});
