/**
 * The session-wide connection limit shared among swarms. Every swarm may connect up to its fair
 * share (the limit divided by the swarms); beyond it, only while a tenth of the limit is still
 * free, so that swarms joined later, or still under their share, always find room to dial.
 */
export function mayConnect(total: number, swarmConnections: number, swarmCount: number, limit: number): boolean {
  if (total >= limit) return false;
  const fairShare = Math.max(1, Math.floor(limit / Math.max(1, swarmCount)));
  if (swarmConnections < fairShare) return true;
  return total < limit - Math.ceil(limit / 10);
}
