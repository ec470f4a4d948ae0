/**
 * What the DHT engine (bittorrent-dht over k-rpc, behind dht-node.ts) may see and send. Every
 * KRPC message (BEP 5) from a stranger is checked here before the engine decodes it, because the
 * engine trusts its input: a token that is not a byte string makes it throw, a reply to no query
 * of ours still adds its sender to the routing table, and nothing bounds how many queries it
 * answers. So:
 * - a query must be one of the four BEP 5 methods with the fields its method needs, of the
 *   right types and lengths (anything else, BEP 44's get and put included, is dropped);
 * - queries are answered at most dhtMaxQueriesPerSecond in all and
 *   dhtMaxQueriesPerSourcePerSecond per IP address; the rest are dropped unanswered;
 * - a reply or error must answer a query we sent to that very address and port, with that
 *   transaction id, within dhtQueryLifetimeMs;
 * - the engine speaks IPv4 only (BEP 32 is not implemented), so IPv6 sources are dropped.
 * Outgoing, it records our queries and cuts a get_peers reply that would exceed
 * dhtMaxReplyBytes. Every table here is bounded. Pure: the time is an argument.
 */
import { asBytes, asInteger, asList, decodeBencode, encodeBencode, isDict, type BencodeDict, type BencodeValue } from '../../io/bencode.js';
import type { Settings } from '../../io/settings.js';

export type KrpcGuardSettings = Pick<
  Settings,
  | 'dhtMaxQueriesPerSecond'
  | 'dhtMaxQueriesPerSourcePerSecond'
  | 'dhtMaxRateSources'
  | 'dhtMaxOutstandingQueries'
  | 'dhtQueryLifetimeMs'
  | 'dhtMaxTokenBytes'
  | 'dhtMaxTransactionIdBytes'
  | 'dhtMaxReplyBytes'
>;

/** Why a message did not reach the engine. */
export type KrpcDropReason = 'malformed' | 'unsupported' | 'rateLimited' | 'unsolicited' | 'notIpv4';

export interface KrpcGuardCounters {
  queries: number;
  replies: number;
  dropped: Record<KrpcDropReason, number>;
  /** Our get_peers replies cut to dhtMaxReplyBytes. */
  repliesCut: number;
}

export interface KrpcEndpoint {
  address: string;
  port: number;
  family?: 'IPv4' | 'IPv6';
}

/** Node ids and info hashes are SHA-1 sized (BEP 5). */
const ID_BYTES = 20;
/** A compact IPv4 peer in a get_peers reply's `values` (BEP 5): 4 address bytes and a port. */
const COMPACT_PEER_BYTES = 6;
/** A KRPC message nests at most a list in a dictionary in the top dictionary. */
const KRPC_MAX_DEPTH = 4;

/** A bucket of `perSecond` tokens, holding at most one second's worth. */
interface Bucket {
  tokens: number;
  at: number;
}

function take(bucket: Bucket, perSecond: number, now: number): boolean {
  bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

function isId(value: BencodeValue | undefined): boolean {
  const bytes = asBytes(value);
  return bytes !== undefined && bytes.length === ID_BYTES;
}

function text(value: BencodeValue | undefined): string | undefined {
  return asBytes(value)?.toString('latin1');
}

/** What a query's arguments must hold for its method, or null for a method we do not serve. */
function queryIsValid(method: string, args: BencodeDict, settings: KrpcGuardSettings): boolean | null {
  switch (method) {
    case 'ping':
      return true;
    case 'find_node':
      return isId(args.target);
    case 'get_peers':
      return isId(args.info_hash);
    case 'announce_peer': {
      const token = asBytes(args.token);
      const port = asInteger(args.port);
      const implied = args.implied_port === undefined ? 0 : asInteger(args.implied_port);
      const portOk = implied === 1 || (port !== undefined && port >= 1 && port <= 65535);
      return isId(args.info_hash) && token !== undefined && token.length >= 1 && token.length <= settings.dhtMaxTokenBytes && implied !== undefined && portOk;
    }
    default:
      return null;
  }
}

/** Whether a reply's body has the shapes the engine reads. */
function replyIsValid(body: BencodeDict, settings: KrpcGuardSettings): boolean {
  if (!isId(body.id)) return false;
  if (body.token !== undefined) {
    const token = asBytes(body.token);
    if (token === undefined || token.length > settings.dhtMaxTokenBytes) return false;
  }
  if (body.nodes !== undefined && asBytes(body.nodes) === undefined) return false;
  if (body.values !== undefined) {
    const values = asList(body.values);
    if (values === undefined || !values.every((value) => asBytes(value)?.length === COMPACT_PEER_BYTES)) return false;
  }
  return true;
}

export class KrpcGuard {
  readonly counters: KrpcGuardCounters = {
    queries: 0,
    replies: 0,
    dropped: { malformed: 0, unsupported: 0, rateLimited: 0, unsolicited: 0, notIpv4: 0 },
    repliesCut: 0,
  };
  /** Our queries awaiting a reply, by "address:port/transaction id": when each expires. Inserted in time order. */
  private readonly outstanding = new Map<string, number>();
  /** Query rates by source address, the most recently active last. */
  private readonly sources = new Map<string, Bucket>();
  private readonly everyone: Bucket;
  /** When each node last answered a query of ours, by "address:port", the most recent last. */
  private readonly answered = new Map<string, number>();

  constructor(private readonly settings: KrpcGuardSettings, now: number) {
    this.everyone = { tokens: settings.dhtMaxQueriesPerSecond, at: now };
  }

  /** Whether a datagram from `from` may reach the engine; counts what it drops. */
  incoming(packet: Buffer, from: KrpcEndpoint, now: number): boolean {
    const verdict = this.judge(packet, from, now);
    if (verdict === 'query') this.counters.queries++;
    else if (verdict === 'reply') this.counters.replies++;
    else this.counters.dropped[verdict]++;
    return verdict === 'query' || verdict === 'reply';
  }

  private judge(packet: Buffer, from: KrpcEndpoint, now: number): 'query' | 'reply' | KrpcDropReason {
    if (from.family === 'IPv6' || from.address.includes(':')) return 'notIpv4';
    if (from.port === 0) return 'malformed';
    let message: BencodeValue;
    try {
      message = decodeBencode(packet, { maxDepth: KRPC_MAX_DEPTH });
    } catch {
      return 'malformed';
    }
    if (!isDict(message)) return 'malformed';
    const transaction = asBytes(message.t);
    if (transaction === undefined || transaction.length === 0 || transaction.length > this.settings.dhtMaxTransactionIdBytes) return 'malformed';
    switch (text(message.y)) {
      case 'q': {
        const method = text(message.q);
        const args = message.a;
        if (method === undefined || !isDict(args) || !isId(args.id)) return 'malformed';
        const valid = queryIsValid(method, args, this.settings);
        if (valid === null) return 'unsupported';
        if (!valid) return 'malformed';
        return this.admitQuery(from.address, now) ? 'query' : 'rateLimited';
      }
      case 'r':
        if (!isDict(message.r) || !replyIsValid(message.r, this.settings)) return 'malformed';
        return this.settle(from, transaction, now);
      case 'e':
        if (asList(message.e) === undefined) return 'malformed';
        return this.settle(from, transaction, now);
      default:
        return 'malformed';
    }
  }

  private admitQuery(address: string, now: number): boolean {
    let bucket = this.sources.get(address);
    if (bucket) this.sources.delete(address);
    else {
      bucket = { tokens: this.settings.dhtMaxQueriesPerSourcePerSecond, at: now };
      if (this.sources.size >= this.settings.dhtMaxRateSources) this.sources.delete(this.sources.keys().next().value!);
    }
    this.sources.set(address, bucket);
    // The source's own bucket first: one noisy address must not drain everyone's.
    return take(bucket, this.settings.dhtMaxQueriesPerSourcePerSecond, now) && take(this.everyone, this.settings.dhtMaxQueriesPerSecond, now);
  }

  /** A reply or error: it passes only when it answers an outstanding query of ours, which it settles. */
  private settle(from: KrpcEndpoint, transaction: Buffer, now: number): 'reply' | 'unsolicited' {
    this.expire(now);
    const key = `${from.address}:${from.port}/${transaction.toString('hex')}`;
    if (!this.outstanding.delete(key)) return 'unsolicited';
    const node = `${from.address}:${from.port}`;
    this.answered.delete(node);
    this.answered.set(node, now);
    if (this.answered.size > this.settings.dhtMaxOutstandingQueries) this.answered.delete(this.answered.keys().next().value!);
    return 'reply';
  }

  private expire(now: number): void {
    for (const [key, expiresAt] of this.outstanding) {
      if (expiresAt > now) return;
      this.outstanding.delete(key);
    }
  }

  /**
   * What to send for a datagram the engine sends to `to`: the same bytes (a query is recorded
   * first), or a get_peers reply cut to dhtMaxReplyBytes. The engine's own messages are well
   * formed; one that is not is sent as it is.
   */
  outgoing(packet: Buffer, to: KrpcEndpoint, now: number): Buffer {
    let message: BencodeValue;
    try {
      message = decodeBencode(packet, { maxDepth: KRPC_MAX_DEPTH });
    } catch {
      return packet;
    }
    if (!isDict(message)) return packet;
    const kind = text(message.y);
    const transaction = asBytes(message.t);
    if (kind === 'q' && transaction) {
      this.expire(now);
      if (this.outstanding.size >= this.settings.dhtMaxOutstandingQueries) this.outstanding.delete(this.outstanding.keys().next().value!);
      const key = `${to.address}:${to.port}/${transaction.toString('hex')}`;
      // Re-inserted, so that the map stays in expiry order.
      this.outstanding.delete(key);
      this.outstanding.set(key, now + this.settings.dhtQueryLifetimeMs);
      return packet;
    }
    if (kind === 'r' && packet.length > this.settings.dhtMaxReplyBytes && isDict(message.r)) {
      const values = asList(message.r.values);
      if (!values) return packet;
      // Each compact peer costs its 6 bytes and the "6:" before them.
      const excess = Math.ceil((packet.length - this.settings.dhtMaxReplyBytes) / (COMPACT_PEER_BYTES + 2));
      this.counters.repliesCut++;
      return encodeBencode({ ...message, r: { ...message.r, values: values.slice(0, Math.max(0, values.length - excess)) } } as BencodeDict);
    }
    return packet;
  }

  /** When the node at address:port last answered a query of ours (undefined: not lately, or never). */
  answeredAt(address: string, port: number): number | undefined {
    return this.answered.get(`${address}:${port}`);
  }

  /** Sizes of the guard's tables, for tests of their bounds. */
  get sizes(): { outstanding: number; sources: number; answered: number } {
    return { outstanding: this.outstanding.size, sources: this.sources.size, answered: this.answered.size };
  }
}
