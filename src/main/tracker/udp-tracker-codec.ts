/**
 * The encoders and decoders of the UDP tracker protocol's packets (BEP 15), both sides: pure, no
 * socket. The layout and the length table are in udp-tracker-packets.ts. Decoders never throw on
 * what a stranger sends: they give `{ ok: true, packet }` or `{ ok: false, reason }`, and check a
 * packet's length against the one table before they read its body.
 */
import { decodeCompactPeers, encodeCompactPeers } from './tracker-responses.js';
import {
  actionName,
  lengthProblem,
  MAX_SCRAPE_INFO_HASHES,
  PACKET_LENGTHS,
  peerEntryLength,
  PROTOCOL_ID,
  refuse,
  RequestOffset,
  ResponseOffset,
  UDP_EVENTS,
  UdpAction,
  type AddressFamily,
  type Decoded,
  type UdpScrapeCounts,
  type UdpTrackerRequest,
  type UdpTrackerResponse,
} from './udp-tracker-packets.js';
import { decodeOptions, encodeOptions } from './udp-tracker-url.js';

const MAX_INT32 = 0x7fffffff;
const MAX_UINT32 = 0xffffffff;

/** A count as an int64 on the wire: a non-negative safe integer, whatever was given. */
function int64Of(n: number): bigint {
  if (!Number.isFinite(n) || n <= 0) return 0n;
  return BigInt(Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER));
}

/** An int64 count read from the wire, clamped to 0..2^53-1. */
function countOf(n: bigint): number {
  if (n <= 0n) return 0;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** A count written as an int32: clamped to 0..2^31-1. */
function int32Count(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(Math.floor(n), MAX_INT32);
}

function uint32(n: number): number {
  return Number.isInteger(n) && n >= 0 && n <= MAX_UINT32 ? n : n >>> 0;
}

// ---- requests ------------------------------------------------------------------------------

function requestHeader(length: number, connectionId: bigint, action: number, transactionId: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeBigUInt64BE(BigInt.asUintN(64, connectionId), RequestOffset.connectionId);
  out.writeUInt32BE(action, RequestOffset.action);
  out.writeUInt32BE(uint32(transactionId), RequestOffset.transactionId);
  return out;
}

function copyId(id: Buffer, name: string): Buffer {
  if (id.length !== 20) throw new RangeError(`${name} must be 20 bytes, got ${id.length}`);
  return id;
}

/**
 * The bytes of a request. Throws a RangeError only on a caller's mistake: an info hash or peer id
 * that is not 20 bytes, a scrape of no info hash or of more than MAX_SCRAPE_INFO_HASHES.
 */
export function encodeRequest(packet: UdpTrackerRequest): Buffer {
  switch (packet.action) {
    case 'connect':
      return requestHeader(PACKET_LENGTHS.request.connect.header, PROTOCOL_ID, UdpAction.connect, packet.transactionId);
    case 'announce': {
      const options = encodeOptions(packet.urlData);
      const out = requestHeader(RequestOffset.options + options.length, packet.connectionId, UdpAction.announce, packet.transactionId);
      copyId(packet.infoHash, 'info hash').copy(out, RequestOffset.infoHash);
      copyId(packet.peerId, 'peer id').copy(out, RequestOffset.peerId);
      out.writeBigInt64BE(int64Of(packet.downloaded), RequestOffset.downloaded);
      out.writeBigInt64BE(int64Of(packet.left), RequestOffset.left);
      out.writeBigInt64BE(int64Of(packet.uploaded), RequestOffset.uploaded);
      out.writeInt32BE(Math.max(0, UDP_EVENTS.indexOf(packet.event)), RequestOffset.event);
      out.writeUInt32BE(uint32(packet.ip), RequestOffset.ip);
      out.writeUInt32BE(uint32(packet.key), RequestOffset.key);
      out.writeInt32BE(Number.isInteger(packet.numWant) && packet.numWant >= 0 ? Math.min(packet.numWant, MAX_INT32) : -1, RequestOffset.numWant);
      out.writeUInt16BE(packet.port & 0xffff, RequestOffset.port);
      options.copy(out, RequestOffset.options);
      return out;
    }
    case 'scrape': {
      const count = packet.infoHashes.length;
      if (count < 1 || count > MAX_SCRAPE_INFO_HASHES) throw new RangeError(`a scrape names 1 to ${MAX_SCRAPE_INFO_HASHES} info hashes, got ${count}`);
      const out = requestHeader(RequestOffset.infoHashes + 20 * count, packet.connectionId, UdpAction.scrape, packet.transactionId);
      packet.infoHashes.forEach((hash, i) => copyId(hash, 'info hash').copy(out, RequestOffset.infoHashes + 20 * i));
      return out;
    }
  }
}

/** Reads a request as a tracker receives it. Buffers in the result are copies, safe to keep. */
export function decodeRequest(data: Buffer): Decoded<UdpTrackerRequest> {
  if (data.length < 16) return refuse(`a request of ${data.length} bytes is truncated: every request has at least 16`);
  const connectionId = data.readBigUInt64BE(RequestOffset.connectionId);
  const actionValue = data.readUInt32BE(RequestOffset.action);
  const transactionId = data.readUInt32BE(RequestOffset.transactionId);
  const action = actionName(actionValue);
  if (action === undefined || action === 'error') return refuse(`action ${actionValue} is not a request (0 connect, 1 announce, 2 scrape)`);
  const problem = lengthProblem(PACKET_LENGTHS.request[action], data.length);
  if (problem) return refuse(problem);

  switch (action) {
    case 'connect':
      if (connectionId !== PROTOCOL_ID) return refuse(`a connect request must carry the protocol id 0x41727101980, not 0x${connectionId.toString(16)}`);
      return { ok: true, packet: { action, transactionId } };
    case 'announce': {
      const eventValue = data.readInt32BE(RequestOffset.event);
      const event = UDP_EVENTS[eventValue];
      if (event === undefined) return refuse(`unknown event ${eventValue}: expected 0 none, 1 completed, 2 started or 3 stopped`);
      const options = decodeOptions(data.subarray(RequestOffset.options));
      if (!options.ok) return options;
      return {
        ok: true,
        packet: {
          action,
          connectionId,
          transactionId,
          infoHash: Buffer.from(data.subarray(RequestOffset.infoHash, RequestOffset.infoHash + 20)),
          peerId: Buffer.from(data.subarray(RequestOffset.peerId, RequestOffset.peerId + 20)),
          downloaded: countOf(data.readBigInt64BE(RequestOffset.downloaded)),
          left: countOf(data.readBigInt64BE(RequestOffset.left)),
          uploaded: countOf(data.readBigInt64BE(RequestOffset.uploaded)),
          event,
          ip: data.readUInt32BE(RequestOffset.ip),
          key: data.readUInt32BE(RequestOffset.key),
          // Any negative number asks for the tracker's default, as -1 does.
          numWant: Math.max(-1, data.readInt32BE(RequestOffset.numWant)),
          port: data.readUInt16BE(RequestOffset.port),
          urlData: Buffer.from(options.packet),
        },
      };
    }
    case 'scrape': {
      const infoHashes: Buffer[] = [];
      for (let at = RequestOffset.infoHashes; at < data.length; at += 20) infoHashes.push(Buffer.from(data.subarray(at, at + 20)));
      return { ok: true, packet: { action, connectionId, transactionId, infoHashes } };
    }
  }
}

// ---- responses -----------------------------------------------------------------------------

function responseHeader(length: number, action: number, transactionId: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUInt32BE(action, ResponseOffset.action);
  out.writeUInt32BE(uint32(transactionId), ResponseOffset.transactionId);
  return out;
}

/**
 * The bytes of a response. `family` is that of the request's packet: an announce response lists
 * peers of that family only (6 bytes each for IPv4, 18 for IPv6); others are left out. Never throws.
 */
export function encodeResponse(packet: UdpTrackerResponse, family: AddressFamily = 'IPv4'): Buffer {
  switch (packet.action) {
    case 'connect': {
      const out = responseHeader(PACKET_LENGTHS.response.connect.header, UdpAction.connect, packet.transactionId);
      out.writeBigUInt64BE(BigInt.asUintN(64, packet.connectionId), ResponseOffset.connectionId);
      return out;
    }
    case 'announce': {
      const compact = encodeCompactPeers(packet.peers);
      const peers = family === 'IPv6' ? compact.peers6 : compact.peers;
      const out = responseHeader(ResponseOffset.peers + peers.length, UdpAction.announce, packet.transactionId);
      out.writeInt32BE(int32Count(packet.intervalS), ResponseOffset.interval);
      out.writeInt32BE(int32Count(packet.leechers), ResponseOffset.leechers);
      out.writeInt32BE(int32Count(packet.seeders), ResponseOffset.seeders);
      peers.copy(out, ResponseOffset.peers);
      return out;
    }
    case 'scrape': {
      const out = responseHeader(ResponseOffset.files + 12 * packet.files.length, UdpAction.scrape, packet.transactionId);
      packet.files.forEach((file, i) => {
        const at = ResponseOffset.files + 12 * i;
        out.writeInt32BE(int32Count(file.seeders), at);
        out.writeInt32BE(int32Count(file.completed), at + 4);
        out.writeInt32BE(int32Count(file.leechers), at + 8);
      });
      return out;
    }
    case 'error': {
      const message = Buffer.from(packet.message, 'utf8');
      const out = responseHeader(ResponseOffset.message + message.length, UdpAction.error, packet.transactionId);
      message.copy(out, ResponseOffset.message);
      return out;
    }
  }
}

/** The transaction id of a response (bytes 4 to 8), for routing it to its request; undefined when too short. */
export function responseTransactionId(data: Buffer): number | undefined {
  return data.length >= 8 ? data.readUInt32BE(ResponseOffset.transactionId) : undefined;
}

/**
 * Reads a response as a client receives it; `family` is that of the packet it came in (it sets
 * the size of an announce response's peers). A peer with port 0 is left out (nobody listens there).
 */
export function decodeResponse(data: Buffer, family: AddressFamily = 'IPv4'): Decoded<UdpTrackerResponse> {
  if (data.length < 8) return refuse(`a response of ${data.length} bytes is truncated: every response has at least 8`);
  const actionValue = data.readUInt32BE(ResponseOffset.action);
  const transactionId = data.readUInt32BE(ResponseOffset.transactionId);
  const action = actionName(actionValue);
  if (action === undefined) return refuse(`action ${actionValue} is not a response (0 connect, 1 announce, 2 scrape, 3 error)`);
  const rule = action === 'announce' ? { ...PACKET_LENGTHS.response.announce, entry: peerEntryLength(family) } : PACKET_LENGTHS.response[action];
  const problem = lengthProblem(rule, data.length);
  if (problem) return refuse(problem);

  switch (action) {
    case 'connect':
      return { ok: true, packet: { action, transactionId, connectionId: data.readBigUInt64BE(ResponseOffset.connectionId) } };
    case 'announce': {
      const peers = decodeCompactPeers(data.subarray(ResponseOffset.peers), family === 'IPv6' ? 6 : 4) ?? [];
      return {
        ok: true,
        packet: {
          action,
          transactionId,
          intervalS: Math.max(0, data.readInt32BE(ResponseOffset.interval)),
          leechers: Math.max(0, data.readInt32BE(ResponseOffset.leechers)),
          seeders: Math.max(0, data.readInt32BE(ResponseOffset.seeders)),
          peers: peers.map(({ ip, port }) => ({ ip, port })),
        },
      };
    }
    case 'scrape': {
      const files: UdpScrapeCounts[] = [];
      for (let at = ResponseOffset.files; at < data.length; at += 12) {
        files.push({
          seeders: Math.max(0, data.readInt32BE(at)),
          completed: Math.max(0, data.readInt32BE(at + 4)),
          leechers: Math.max(0, data.readInt32BE(at + 8)),
        });
      }
      return { ok: true, packet: { action, transactionId, files } };
    }
    case 'error': {
      // Some trackers end the message with a NUL, C style.
      const message = data.subarray(ResponseOffset.message).toString('utf8').replace(/\0+$/, '');
      return { ok: true, packet: { action, transactionId, message } };
    }
  }
}
