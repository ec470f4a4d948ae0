/** The session-wide count of peer-wire connections. */
import { EventEmitter } from 'node:events';
import { ConnectionBudget } from '../../src/main/net/connection-budget.js';

test('connections are counted up to the limit and released when their socket closes', () => {
  const budget = new ConnectionBudget(2);
  const [a, b, c] = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
  expect(budget.claim(a)).toBe(true);
  expect(budget.claim(b)).toBe(true);
  expect(budget.hasRoom).toBe(false);
  expect(budget.claim(c)).toBe(false);
  expect(budget.count).toBe(2);
  a.emit('close');
  expect(budget.count).toBe(1);
  expect(budget.claim(c)).toBe(true);
  // A refused socket's close does not touch the count.
  const refused = new EventEmitter();
  expect(budget.claim(refused)).toBe(false);
  refused.emit('close');
  expect(budget.count).toBe(2);
});
