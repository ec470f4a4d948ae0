/**
 * The extension protocol (BEP 10) messages of a swarm, a torrent's or a magnet's: the peer's
 * extension handshake (its listening port makes it a peer of our list: tracker service), its
 * ut_pex (BEP 11: peers to dial, unless the torrent is private, BEP 27) and its ut_metadata
 * messages (BEP 9), which the swarm answers or takes in. A message that cannot be decoded closes
 * that connection.
 */
import type { Logger } from '../logger.js';
import type { PeerAddress } from '../tracker/announce-client.js';
import { decodeExtensionHandshake, LOCAL_EXTENSION_IDS, type ExtensionHandshake } from '../wire/extension-handshake.js';
import { decodeMetadataMessage, type ReceivedMetadataMessage } from '../wire/ut-metadata.js';
import { decodePex, type PexPeer } from '../wire/ut-pex.js';
import type { PeerConnection } from './peer-connection.js';

export interface ExtensionMessagesSetup {
  /** BEP 27: the peers of a private torrent come from its trackers only. */
  isPrivate: boolean;
  /** Most peers taken from one ut_pex message (settings.pexMaxReceivedPeers). */
  pexMaxReceivedPeers: number;
  log: Logger;
  isBannedAddress(ip: string, port: number): boolean;
  /** A peer that reached us said which port it listens on: it joins the peer list. */
  learnIncoming(ip: string, port: number): void;
  /** Peers a ut_pex message adds. */
  learnFromPex(peers: readonly PeerAddress[]): void;
  /** The peer's extension handshake was taken (the connection may have been closed meanwhile, for a ban). */
  handshakeReceived(peer: PeerConnection, extensions: ExtensionHandshake): void;
  /** A ut_metadata message from the peer, decoded. */
  metadataReceived(peer: PeerConnection, message: ReceivedMetadataMessage): void;
}

export class ExtensionMessages {
  constructor(private readonly setup: ExtensionMessagesSetup) {}

  /** An extended message (BEP 10) from `peer`: `extId` is the id we gave the extension in our handshake. */
  received(peer: PeerConnection, extId: number, payload: Buffer): void {
    if (extId === 0) this.onHandshake(peer, payload);
    else if (extId === LOCAL_EXTENSION_IDS.ut_pex) this.onPex(peer, payload);
    else if (extId === LOCAL_EXTENSION_IDS.ut_metadata) this.onMetadata(peer, payload);
  }

  private onHandshake(peer: PeerConnection, payload: Buffer): void {
    let extensions: ExtensionHandshake;
    try {
      extensions = decodeExtensionHandshake(payload);
    } catch (error) {
      return peer.close((error as Error).message);
    }
    peer.extensionsReceived(extensions);
    const port = extensions.p;
    if (!peer.outgoing && port !== undefined) {
      if (this.setup.isBannedAddress(peer.remoteIp, port)) return peer.close(`${peer.remoteIp}:${port} is banned for sending bad data`);
      peer.listensOn(port);
      this.setup.learnIncoming(peer.remoteIp, port);
    }
    this.setup.handshakeReceived(peer, extensions);
  }

  /** A private torrent's ut_pex, which we never offered, is ignored: neither learned from nor a reason to close. */
  private onPex(peer: PeerConnection, payload: Buffer): void {
    if (this.setup.isPrivate) return this.setup.log.debug(`ignored ut_pex from ${peer.address}: the torrent is private`);
    let added: PexPeer[];
    try {
      added = decodePex(payload, this.setup.pexMaxReceivedPeers).added;
    } catch (error) {
      return peer.close((error as Error).message);
    }
    this.setup.log.debug(`ut_pex from ${peer.address}: ${added.length} peer(s)`);
    this.setup.learnFromPex(added);
  }

  private onMetadata(peer: PeerConnection, payload: Buffer): void {
    let message: ReceivedMetadataMessage;
    try {
      message = decodeMetadataMessage(payload);
    } catch (error) {
      return peer.close((error as Error).message);
    }
    this.setup.metadataReceived(peer, message);
  }
}
