/**
 * A DHT node a test scripts (BEP 5 KRPC over a plain UDP socket on loopback): it records every
 * query it gets, answers them as the test says (by default as an empty, honest node would), and
 * sends queries or raw datagrams of the test's choosing. It plays the bootstrap node that spies
 * on what a peer announces, the node that answers with thousands of peers, the flooder.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { asBytes, decodeBencode, encodeBencode, isDict, type BencodeDict, type BencodeInput } from '../../src/io/bencode.js';

export interface ReceivedQuery {
  method: string;
  args: BencodeDict;
  from: { address: string; port: number };
}

/** What to answer a query with: the `r` dictionary (our id is added), or null for no answer. */
export type QueryAnswer = (query: ReceivedQuery, node: ScriptedDhtNode) => Record<string, BencodeInput | undefined> | null;

/** A node's contact in BEP 5's compact form: id, IPv4 address, port. */
export function compactNode(id: Buffer, address: string, port: number): Buffer {
  const contact = Buffer.alloc(26);
  id.copy(contact, 0);
  address.split('.').forEach((part, i) => contact.writeUInt8(Number(part), 20 + i));
  contact.writeUInt16BE(port, 24);
  return contact;
}

/** A peer in BEP 5's compact form. */
export function compactPeer(address: string, port: number): Buffer {
  return compactNode(Buffer.alloc(20), address, port).subarray(20);
}

export const honestAnswer: QueryAnswer = (query, node) => {
  if (query.method === 'get_peers') return { token: node.token, nodes: Buffer.alloc(0) };
  if (query.method === 'find_node') return { nodes: Buffer.alloc(0) };
  return {};
};

export class ScriptedDhtNode {
  readonly id = randomBytes(20);
  readonly token = randomBytes(4);
  readonly queries: ReceivedQuery[] = [];
  /** Replies to our queries, by transaction id. */
  private readonly waiting = new Map<string, (reply: BencodeDict) => void>();
  /** Every reply or error datagram that came, decoded (for counting a flood's answers). */
  readonly replies: BencodeDict[] = [];
  private nextTransaction = 1;

  private constructor(
    private readonly socket: dgram.Socket,
    public answer: QueryAnswer,
  ) {
    socket.on('message', (packet, from) => this.received(packet, from));
  }

  static async start(answer: QueryAnswer = honestAnswer, address = '127.0.0.1'): Promise<ScriptedDhtNode> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new ScriptedDhtNode(socket, answer);
  }

  get address(): string {
    return this.socket.address().address;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get compact(): Buffer {
    return compactNode(this.id, this.address, this.port);
  }

  private received(packet: Buffer, from: dgram.RemoteInfo): void {
    let message;
    try {
      message = decodeBencode(packet);
    } catch {
      return;
    }
    if (!isDict(message)) return;
    const kind = asBytes(message.y)?.toString();
    const transaction = asBytes(message.t) ?? Buffer.alloc(0);
    if (kind === 'q' && isDict(message.a)) {
      const query: ReceivedQuery = { method: asBytes(message.q)?.toString() ?? '', args: message.a, from: { address: from.address, port: from.port } };
      this.queries.push(query);
      const body = this.answer(query, this);
      if (body) this.sendRaw(encodeBencode({ t: transaction, y: 'r', r: { id: this.id, ...body } }), from.port, from.address);
    } else if (kind === 'r' || kind === 'e') {
      this.replies.push(message);
      this.waiting.get(transaction.toString('hex'))?.(message);
    }
  }

  /** Sends a query to address:port and resolves with the reply, or null after `timeoutMs`. */
  query(port: number, method: string, args: Record<string, BencodeInput>, timeoutMs = 2_000, address = '127.0.0.1'): Promise<BencodeDict | null> {
    const transaction = Buffer.alloc(2);
    transaction.writeUInt16BE(this.nextTransaction++ & 0xffff);
    const key = transaction.toString('hex');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(key, (reply) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(reply);
      });
      this.sendRaw(encodeBencode({ t: transaction, y: 'q', q: method, a: { id: this.id, ...args } }), port, address);
    });
  }

  sendRaw(packet: Buffer, port: number, address = '127.0.0.1'): void {
    this.socket.send(packet, port, address);
  }

  /** Queries it got of `method` naming `infoHash`. */
  queriesFor(method: string, infoHash: Buffer): ReceivedQuery[] {
    return this.queries.filter((query) => query.method === method && asBytes(query.args.info_hash)?.equals(infoHash));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
