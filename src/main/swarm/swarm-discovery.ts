/**
 * A swarm's part in discovery beyond the tracker (DESIGN.md): while the DHT runs, the swarm is
 * announced and looked up through it, our handshake says we run a DHT node, a peer that says so
 * too is sent our DHT port (BEP 5's PORT message) and its own PORT adds its node to our table;
 * while local service discovery runs, the swarm is announced on the LAN (BEP 14). A private
 * torrent (BEP 27) takes no part in any of it: it is never announced, looked up or advertised.
 */
import type { PeerAddress } from '../tracker/announce-client.js';
import { supportsDht, type Handshake, type WireMessage } from '../wire/wire-messages.js';
import type { PeerSource } from './peer-list.js';
import type { SwarmContext } from './swarm-context.js';

export class SwarmDiscovery {
  private readonly leave: (() => void)[] = [];
  /** Connections whose PORT was taken: one per connection, so that a peer cannot make us ping its ports one after another. */
  private readonly portFrom = new WeakSet<object>();

  constructor(
    private readonly context: Pick<SwarmContext, 'dht' | 'lsd' | 'port' | 'isSelf'>,
    private readonly isPrivate: boolean,
  ) {}

  /** Whether our handshake sets the DHT bit. */
  get offersDht(): boolean {
    return this.context.dht !== null && !this.isPrivate;
  }

  /** Starts announcing the swarm; peers found go to `learnPeers` with where they came from. */
  join(infoHash: Buffer, wantsPeers: () => boolean, learnPeers: (peers: readonly PeerAddress[], source: PeerSource) => void): void {
    if (this.isPrivate) return;
    const { dht, lsd } = this.context;
    if (dht) this.leave.push(dht.add({ infoHash, wantsPeers, isSelf: (ip, port) => this.context.isSelf(ip, port), learnPeers: (peers) => learnPeers(peers, 'dht') }));
    if (lsd) this.leave.push(lsd.add(infoHash.toString('hex'), (peers) => learnPeers(peers, 'lsd')));
  }

  /** The PORT message for a new connection whose handshake set the DHT bit, when we offer the DHT too. */
  portMessageFor(handshake: Handshake): WireMessage | null {
    return this.offersDht && supportsDht(handshake) ? { kind: 'port', port: this.context.port } : null;
  }

  /** A peer's PORT message (the first on its connection): its DHT node is asked to join our routing table. */
  portReceived(connection: object, ip: string, port: number): void {
    if (!this.offersDht || this.portFrom.has(connection)) return;
    this.portFrom.add(connection);
    this.context.dht!.addNode(ip, port);
  }

  /** Stops announcing the swarm. */
  stop(): void {
    for (const leave of this.leave.splice(0)) leave();
  }
}
