/**
 * The DHT's bootstrap nodes as --dht-bootstrap (and the setting dhtBootstrapNodes) write them:
 * `HOST:PORT,...`, each host a name or an IPv4 address (the DHT speaks IPv4 only, BEP 32 is not
 * implemented). A bad list is an Error saying which entry and why.
 */

/** A bootstrap node: a host name or IPv4 address, and its UDP port. */
export interface HostAndPort {
  host: string;
  port: number;
}

/** More are surely a mistake: a handful of routers is what every client ships with. */
const MAX_BOOTSTRAP_NODES = 64;

export function parseBootstrapNodes(text: string): HostAndPort[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new Error(`expects HOST:PORT entries separated by commas, got "${text}"`);
  if (entries.length > MAX_BOOTSTRAP_NODES) throw new Error(`takes at most ${MAX_BOOTSTRAP_NODES} nodes, got ${entries.length}`);
  return entries.map((entry) => {
    if (entry.startsWith('[')) throw new Error(`"${entry}": the DHT speaks IPv4 only; give a host name or an IPv4 address`);
    const match = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not HOST:PORT`);
    const port = Number(match[2]);
    if (port < 1 || port > 65535) throw new Error(`"${entry}": the port must be between 1 and 65535`);
    return { host: match[1], port };
  });
}
