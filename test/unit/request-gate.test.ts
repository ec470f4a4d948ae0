/** Requests while choked and the queue bound, on a fake clock. */
import { defaultSettings as settings } from '../../src/io/settings.js';
import { RequestGate } from '../../src/main/swarm/request-gate.js';

const T0 = 1_000_000;

test('an unchoked peer is served until its queue holds maxIncomingRequests; one more drops it', () => {
  const gate = new RequestGate(T0);
  gate.unchoked();
  expect(gate.judge(false, 0, T0)).toEqual({ action: 'serve' });
  expect(gate.judge(false, settings.maxIncomingRequests - 1, T0)).toEqual({ action: 'serve' });
  const verdict = gate.judge(false, settings.maxIncomingRequests, T0);
  expect(verdict).toMatchObject({ action: 'drop', reason: expect.stringMatching(/maxIncomingRequests/) });
});

test('requests in flight when we choked are ignored, however many, within the grace time', () => {
  const gate = new RequestGate(T0);
  gate.unchoked();
  gate.choked(T0 + 10_000);
  for (let i = 0; i < 10 * settings.maxRequestsWhileChoked; i++) {
    expect(gate.judge(true, 0, T0 + 10_000 + settings.chokedRequestGraceMs - 1)).toEqual({ action: 'ignore' });
  }
});

test('after the grace time, a few late requests are ignored and more drop the peer', () => {
  const gate = new RequestGate(T0);
  const late = T0 + settings.chokedRequestGraceMs;
  for (let i = 0; i < settings.maxRequestsWhileChoked; i++) expect(gate.judge(true, 0, late)).toEqual({ action: 'ignore' });
  expect(gate.judge(true, 0, late)).toMatchObject({ action: 'drop', reason: expect.stringMatching(/while choked/) });
});

test('an unchoke forgives late requests, and a new choke starts a new grace time', () => {
  const gate = new RequestGate(T0);
  const late = T0 + settings.chokedRequestGraceMs;
  for (let i = 0; i < settings.maxRequestsWhileChoked; i++) gate.judge(true, 0, late);
  gate.unchoked();
  gate.choked(late + 1);
  expect(gate.judge(true, 0, late + 2)).toEqual({ action: 'ignore' });
  const later = late + 1 + settings.chokedRequestGraceMs;
  for (let i = 0; i < settings.maxRequestsWhileChoked; i++) expect(gate.judge(true, 0, later)).toEqual({ action: 'ignore' });
  expect(gate.judge(true, 0, later).action).toBe('drop');
});

describe('a Fast peer (BEP 6)', () => {
  test('is rejected, never ignored nor dropped, while choked, even long after the grace time', () => {
    const gate = new RequestGate(T0);
    const late = T0 + settings.chokedRequestGraceMs;
    for (let i = 0; i < 10 * settings.maxRequestsWhileChoked; i++) expect(gate.judge(true, 0, late, true)).toEqual({ action: 'reject' });
  });

  test('past its queue is rejected, and dropped only after more than maxRejectedOverQueue in a row', () => {
    const gate = new RequestGate(T0);
    gate.unchoked();
    const full = settings.maxIncomingRequests;
    for (let i = 0; i < settings.maxRejectedOverQueue; i++) expect(gate.judge(false, full, T0, true)).toEqual({ action: 'reject' });
    expect(gate.judge(false, full - 1, T0, true)).toEqual({ action: 'serve' });
    for (let i = 0; i < settings.maxRejectedOverQueue; i++) expect(gate.judge(false, full, T0, true)).toEqual({ action: 'reject' });
    expect(gate.judge(false, full, T0, true)).toMatchObject({ action: 'drop', reason: expect.stringMatching(/maxRejectedOverQueue/) });
  });
});
