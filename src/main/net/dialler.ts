/**
 * How a swarm opens an outgoing connection. The session's default dials TCP; a test may hand in
 * its own (to count dials, to refuse some addresses, or to route them elsewhere).
 */
import net from 'node:net';

export type Dialler = (host: string, port: number) => net.Socket;

export const tcpDialler: Dialler = (host, port) => net.connect({ host, port });
