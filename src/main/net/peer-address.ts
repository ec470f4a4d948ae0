/** Peer addresses as text ("ip:port", saved in cache/config.json) and as the sockets give them. */

/** "ip:port" texts as addresses; the port is after the last colon, so IPv6 addresses pass too. */
export function parseAddresses(addresses: string[]): { ip: string; port: number }[] {
  return addresses.map((address) => {
    const at = address.lastIndexOf(':');
    return { ip: address.slice(0, at), port: Number(address.slice(at + 1)) };
  });
}

/** '::ffff:127.0.0.1' as '127.0.0.1': the listener takes IPv4 peers on a dual-stack socket. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
