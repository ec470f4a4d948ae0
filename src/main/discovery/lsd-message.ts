/**
 * The local service discovery announcement (BEP 14): an HTTP-like request sent to a multicast
 * group, naming our listening port and the info hashes of swarms we take part in:
 *
 *   BT-SEARCH * HTTP/1.1\r\n
 *   Host: 239.192.152.143:6771\r\n
 *   Port: 6881\r\n
 *   Infohash: <40 hex>\r\n        (one or more)
 *   cookie: <opaque>\r\n          (lets a sender recognize its own announcements)
 *   \r\n\r\n
 *
 * Parsing is for datagrams from anyone on the network: bounded, and anything that is not a
 * well-formed announcement is null, never an exception. Unknown headers are ignored, as BEP 14
 * asks for forwards compatibility.
 */

/** BEP 14's IPv4 group (organisation-local scope) and port. */
export const LSD_GROUP = '239.192.152.143';
export const LSD_PORT = 6771;

export interface LsdAnnouncement {
  port: number;
  /** Lower-case hex info hashes. */
  infoHashes: string[];
  cookie?: string;
}

/** Bytes of one `Infohash:` line. */
export const INFOHASH_LINE_BYTES = 'Infohash: \r\n'.length + 40;
/** Largest datagram read: BEP 14 senders stay under 1400 bytes; this bounds the list too (under 40 info hashes). */
const MAX_PARSED_BYTES = 2048;

export function encodeLsdAnnouncement(announcement: LsdAnnouncement): Buffer {
  const lines = [
    'BT-SEARCH * HTTP/1.1',
    `Host: ${LSD_GROUP}:${LSD_PORT}`,
    `Port: ${announcement.port}`,
    ...announcement.infoHashes.map((infoHash) => `Infohash: ${infoHash}`),
    ...(announcement.cookie === undefined ? [] : [`cookie: ${announcement.cookie}`]),
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n\r\n`, 'latin1');
}

/** Bytes of an announcement without its `Infohash:` lines, for packing hashes under a size. */
export function lsdOverheadBytes(port: number, cookie: string | undefined): number {
  return encodeLsdAnnouncement({ port, infoHashes: [], cookie }).length;
}

export function parseLsdAnnouncement(packet: Buffer): LsdAnnouncement | null {
  if (packet.length > MAX_PARSED_BYTES) return null;
  const lines = packet.toString('latin1').split('\r\n');
  if (lines[0] !== 'BT-SEARCH * HTTP/1.1') return null;
  let port: number | undefined;
  let cookie: string | undefined;
  const infoHashes: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'port') {
      if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) return null;
      port = Number(value);
    } else if (name === 'infohash') {
      if (!/^[0-9a-fA-F]{40}$/.test(value)) continue;
      const infoHash = value.toLowerCase();
      if (!infoHashes.includes(infoHash)) infoHashes.push(infoHash);
    } else if (name === 'cookie') {
      cookie = value;
    }
  }
  if (port === undefined || infoHashes.length === 0) return null;
  return { port, infoHashes, ...(cookie === undefined ? {} : { cookie }) };
}
