/**
 * A swarm's role and its one change, from leecher to seeder, in the contract's order
 * (docs/architecture.md, Roles): nothing more is requested, NOT_INTERESTED goes to every peer,
 * the data moves into shareable/, and only then is this peer a seeder; the resume data says so,
 * connections between two seeders close, and the tracker hears event=completed.
 */
import path from 'node:path';
import type { TorrentData } from '../../io/torrent-data.js';
import type { Role } from './role.js';
import type { SwarmEvent } from './swarm-events.js';
import { folderWritable } from './storage-check.js';

/** What the role change needs of a connection: PeerConnection, or a plain object in tests. */
export interface RolePeer {
  readonly peerPieces: { isComplete(): boolean };
  wantInterest(interested: boolean): void;
  close(reason: string): void;
}

export interface RoleChangeSetup {
  peers: Iterable<RolePeer>;
  data: Pick<TorrentData, 'moveToShareable' | 'shareablePath' | 'location'>;
  pieceCount: number;
  /** Gives up every request under way (RequestPipeline.releaseAll). */
  releaseRequests(): void;
  saveResume(): Promise<void>;
  reportEvent(event: SwarmEvent): void;
  /**
   * Moving the data failed (the swarm's storage error, which logs it and tries again once
   * `causeGone`: shareable/ takes a test write).
   */
  storageFailed(what: string, error: unknown, causeGone: () => Promise<boolean>): void;
  /** Tells the tracker and the session that the download is complete. */
  completed(): void;
}

export class SwarmRole {
  private current: Role = 'leecher';
  /** The change to seeder under way. */
  private changing: Promise<void> | null = null;

  constructor(private readonly setup: RoleChangeSetup) {}

  get role(): Role {
    return this.current;
  }

  /**
   * Takes the role that the data found at start allows. Complete but still in cache/ means the
   * last piece verified as the previous run stopped, before the move: it moves now. Returns
   * whether it moved.
   */
  async start(complete: boolean): Promise<boolean> {
    const move = complete && this.setup.data.location === 'cache';
    if (move) await this.setup.data.moveToShareable();
    this.current = complete ? 'seeder' : 'leecher';
    return move;
  }

  /**
   * Called once the last piece verified; a failed move leaves this peer a leecher with every
   * piece, and is called again once the storage error is gone. Several callers may see the last
   * piece in (pieces verified together, each waiting on its own work first): one change is made,
   * and they all wait for it.
   */
  becomeSeeder(): Promise<void> {
    if (this.current === 'seeder') return Promise.resolve();
    this.changing ??= this.changeToSeeder().finally(() => {
      this.changing = null;
    });
    return this.changing;
  }

  private async changeToSeeder(): Promise<void> {
    const { setup } = this;
    setup.releaseRequests();
    for (const peer of setup.peers) peer.wantInterest(false);
    try {
      await setup.data.moveToShareable();
    } catch (error) {
      setup.storageFailed('download complete, but moving it into shareable/ failed', error, () => folderWritable(path.dirname(setup.data.shareablePath)));
      return;
    }
    this.current = 'seeder';
    setup.reportEvent({ kind: 'completed', pieces: setup.pieceCount, path: setup.data.shareablePath });
    setup.reportEvent({ kind: 'role-changed', from: 'leecher', to: 'seeder' });
    await setup.saveResume();
    for (const peer of [...setup.peers]) if (peer.peerPieces.isComplete()) peer.close('both sides are seeders');
    setup.completed();
  }
}
