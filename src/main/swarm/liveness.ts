/**
 * Keep-alives and idle peers (BEP 3): we send a keep-alive after `keepAliveIntervalMs` of silence
 * on our side, and drop a peer that sent nothing for `idleTimeoutMs`. Pure: times are arguments.
 */
import { settings } from '../settings.js';

export type LivenessAction = 'drop' | 'keep-alive' | 'none';

export function livenessAction(lastReceivedAt: number, lastSentAt: number, now: number): LivenessAction {
  if (now - lastReceivedAt >= settings.idleTimeoutMs) return 'drop';
  if (now - lastSentAt >= settings.keepAliveIntervalMs) return 'keep-alive';
  return 'none';
}
