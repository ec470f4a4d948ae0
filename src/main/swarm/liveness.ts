/**
 * Keep-alives and idle peers (BEP 3): we send a keep-alive after `keepAliveIntervalMs` of silence
 * on our side, and drop a peer that sent nothing for `idleTimeoutMs`. Pure: times are arguments.
 */
import { defaultSettings, type Settings } from '../../io/settings.js';

export type LivenessAction = 'drop' | 'keep-alive' | 'none';

export function livenessAction(
  lastReceivedAt: number,
  lastSentAt: number,
  now: number,
  limits: Pick<Settings, 'idleTimeoutMs' | 'keepAliveIntervalMs'> = defaultSettings,
): LivenessAction {
  if (now - lastReceivedAt >= limits.idleTimeoutMs) return 'drop';
  if (now - lastSentAt >= limits.keepAliveIntervalMs) return 'keep-alive';
  return 'none';
}
