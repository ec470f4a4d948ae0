/**
 * A swarm as /status shows it (docs/architecture.md, Status document): fields may be added,
 * never renamed.
 */
import type { PeerEncryption } from '../net/mse/encryption-policy.js';
import type { TrackerEntry, TrackerStatus } from '../tracker/announce-client.js';
import type { PeerSource } from './peer-list.js';
import type { FileStatus } from './file-selection.js';
import type { Role } from './role.js';
import type { StorageError } from './storage-fault.js';
import type { StartedFrom } from './swarm-events.js';

export interface PeerStatus {
  address: string;
  downloaded: number;
  uploaded: number;
  /** Bytes per second over the last few seconds. */
  downloadRate: number;
  uploadRate: number;
  /** `rc4`: handshake and payload encrypted; `handshake`: an encrypted handshake, then a plaintext payload; `none`: plain. */
  encryption: PeerEncryption;
}

export interface SwarmStatus {
  infoHash: string;
  name: string;
  role: Role;
  announcer: boolean;
  /** A private torrent (BEP 27): peers from its trackers only, no ut_pex. */
  private: boolean;
  /** False while a magnet link's info dictionary is being fetched: `pieces` and `size` are 0 then. */
  metadata: boolean;
  pieces: number;
  have: number;
  size: number;
  /** Bytes of pieces downloaded and verified since start. */
  downloaded: number;
  /**
   * Payload bytes of every PIECE message received since start, whatever became of it: duplicates
   * of the end game, late answers to cancelled requests and blocks of pieces that failed their
   * check included. Over `downloaded`, it tells how much bandwidth was wasted.
   */
  received: number;
  uploaded: number;
  /** Bytes still to download. */
  left: number;
  /** Payload bytes per second over the last few seconds, all peers together. */
  downloadRate: number;
  uploadRate: number;
  peers: PeerStatus[];
  known: string[];
  /** Where each peer of `known` came from (tracker, pex, dht, lsd, incoming, magnet, saved). */
  knownFrom: { address: string; source: PeerSource }[];
  /** Addresses banned for sending data that failed its hash check. */
  banned: string[];
  /** The announcing as a whole and the tracker in use; absent when this peer announces to no tracker. */
  tracker?: TrackerStatus;
  /** Every tracker of the torrent (BEP 12 tiers), each with its status and counts; this peer's own URL has status "self". */
  trackers: TrackerEntry[];
  /**
   * How the pieces had at start were known: fast resume, resume data after a crash plus a check,
   * or a full check; null while a magnet link's metadata is being fetched.
   */
  startedFrom: StartedFrom | null;
  /**
   * The storage error holding the swarm up (disk full, read-only, a missing file, other I/O):
   * it requests nothing until the cause is gone, then resumes by itself; null when there is none.
   */
  error: StorageError | null;
  /**
   * Paused through the control API: its swarm is stopped and moves no payload either way, and
   * stays so across restarts. Set by the session for every swarm (control/torrent-control.ts).
   */
  paused?: boolean;
  /** The torrent's files (pad files aside), each with its priority and verified bytes; empty until a magnet's metadata is known. */
  files?: FileStatus[];
  /** Pieces fetched in order (with a small random window) rather than rarest first. */
  sequential?: boolean;
}
