/**
 * The peers of one swarm banned for sending data that failed its hash check. A ban names the
 * peer's address (ip and listening port, as shown in /status) and its peer id: the address
 * alone, not the whole IP, because several honest peers may share an IP (a NAT, or peers on
 * one machine), and the peer id so that a reconnection from another port is refused too.
 * Bounded: past `limit` addresses (and peer ids), the oldest is forgotten.
 */

export interface BannedPeer {
  ip: string;
  port: number;
  /** Hex. */
  peerId: string;
}

export class BanList {
  /** Insertion-ordered sets, the first entry the oldest; made at the first ban (most swarms never ban anyone). */
  private bannedAddresses: Set<string> | undefined;
  private bannedPeerIds: Set<string> | undefined;

  constructor(private readonly limit: number) {}

  /** Bans the peer; returns false when its address was banned already. */
  ban(peer: BannedPeer): boolean {
    const address = `${peer.ip}:${peer.port}`;
    const isNew = !this.bannedAddresses?.has(address);
    addBounded((this.bannedAddresses ??= new Set()), address, this.limit);
    addBounded((this.bannedPeerIds ??= new Set()), peer.peerId, this.limit);
    return isNew;
  }

  isBannedAddress(ip: string, port: number): boolean {
    return this.bannedAddresses?.has(`${ip}:${port}`) ?? false;
  }

  isBannedPeerId(peerIdHex: string): boolean {
    return this.bannedPeerIds?.has(peerIdHex) ?? false;
  }

  /** The banned addresses, oldest first. */
  addresses(): string[] {
    return [...(this.bannedAddresses ?? [])];
  }
}

function addBounded(set: Set<string>, value: string, limit: number): void {
  set.delete(value);
  set.add(value);
  if (set.size > limit) set.delete(set.values().next().value!);
}
