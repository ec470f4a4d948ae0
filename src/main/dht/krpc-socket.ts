/**
 * The peer's one UDP port (net/udp-port.ts) as the socket of k-rpc-socket, the bottom of the DHT
 * engine. k-rpc-socket takes any object with the part of dgram.Socket it uses (its `socket`
 * option): 'message' events in, send() out, address(), bind() and close(). So the DHT shares the
 * port with the UDP tracker without a socket of its own: the port hands us the datagrams whose
 * first byte is 'd', and we send through it. Every datagram passes the guard (krpc-guard.ts) on
 * its way in and out.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import type { KrpcGuard } from './krpc-guard.js';

/** What the DHT needs of the UDP port: UdpPort has it; tests give a plain dgram socket's. */
export interface DhtDatagrams {
  send(packet: Buffer, port: number, host: string): Promise<void>;
  /** The bound port: the DHT's, the tracker's and the peer wire's number. */
  readonly port: number;
}

export interface DatagramSource {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

type SendCallback = (error: Error | null) => void;

export class KrpcSocket extends EventEmitter {
  private closed = false;

  constructor(
    private readonly datagrams: DhtDatagrams,
    private readonly guard: KrpcGuard,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** A DHT datagram that came to the port: to the engine if the guard lets it through. */
  deliver(packet: Buffer, from: DatagramSource): void {
    if (this.closed || !this.guard.incoming(packet, from, this.clock.now())) return;
    this.emit('message', packet, { address: from.address, port: from.port, family: from.family, size: packet.length });
  }

  /** dgram's send(buffer, offset, length, port, address, callback), the form k-rpc-socket uses. */
  send(buffer: Buffer, offset: number, length: number, port: number, host: string, callback?: SendCallback): void {
    if (this.closed) {
      callback?.(new Error('the DHT is closed'));
      return;
    }
    const packet = this.guard.outgoing(buffer.subarray(offset, offset + length), { address: host, port }, this.clock.now());
    this.datagrams.send(packet, port, host).then(
      () => callback?.(null),
      (error: Error) => callback?.(error),
    );
  }

  address(): { address: string; family: string; port: number } {
    return { address: '0.0.0.0', family: 'IPv4', port: this.datagrams.port };
  }

  /** The port is bound already: binding only says so, as dgram would once bound. */
  bind(...args: unknown[]): void {
    const callback = args.find((arg): arg is () => void => typeof arg === 'function');
    process.nextTick(() => {
      this.emit('listening');
      callback?.();
    });
  }

  /** Stops handing datagrams to the engine; the port itself stays, it is the session's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.nextTick(() => this.emit('close'));
  }
}
