/**
 * GET /files/<info hash>/<path>: one file of a torrent over HTTP, with Range (206,
 * `Content-Range`, `Accept-Ranges`), while it downloads. Only verified bytes are ever sent: each
 * piece is read through the read cache, which hashes it on the pool. A piece not yet verified is
 * made urgent, with the few after it, so that it is fetched before any other (the picker's
 * URGENT), and the response waits for it; a client that goes away withdraws the urgency.
 *
 * A torrent's files come from strangers: served on the peer's own origin, an HTML page or an SVG
 * could run scripts that drive the control API. Every answer carries `Content-Security-Policy:
 * sandbox` (the browser gives the document an origin of its own, with no scripts) and `nosniff`,
 * and only media and plain text get their own type.
 */
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import type { LayoutFile } from '../../io/file-layout.js';
import type { ReadCache } from '../../io/read-cache.js';
import type { TorrentData } from '../../io/torrent-data.js';
import type { FileSelection } from '../swarm/file-selection.js';
import type { PiecePicker } from '../swarm/piece-picker.js';
import { drained } from '../net/response-drain.js';

/** A byte range of a file, both ends included. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The range a `Range` header asks of a file of `size` bytes: null for the whole file (no header,
 * another unit, or several ranges, which a server may ignore), 'unsatisfiable' for one that
 * starts past the end or is malformed (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!match) return /^bytes=.*,/i.test(header) || !/^bytes=/i.test(header.trim()) ? null : 'unsatisfiable';
  const [, first, last] = match;
  if (first === '' && last === '') return 'unsatisfiable';
  if (first === '') {
    // The last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Types a browser may play or show; anything else is a download. Never HTML, SVG or script. */
const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.mov': 'video/quicktime',
  '.ogv': 'video/ogg',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.srt': 'text/plain; charset=utf-8',
  '.vtt': 'text/vtt; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * A file's path from the rest of the URL: each component URL-decoded on its own, so that a `/`
 * inside a name stays part of it; undefined when a component is malformed.
 */
export function decodeFilePath(encoded: string): string | undefined {
  try {
    return encoded
      .split('/')
      .map((component) => decodeURIComponent(component))
      .join('/');
  } catch {
    return undefined;
  }
}

/** The URL path of a file: each component encoded, as the dashboard's links have it. */
export function encodeFilePath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

/** A torrent's parts a stream reads. */
export interface StreamSource {
  infoHashHex: string;
  data: Pick<TorrentData, 'geometry' | 'readPiece'>;
  picker: Pick<PiecePicker, 'hasPiece'>;
  selection: Pick<FileSelection, 'urge' | 'waitFor'>;
  readCache: Pick<ReadCache, 'lease'>;
}

/** Headers of every answer of /files/. */
export const FILE_SECURITY_HEADERS = {
  'content-security-policy': 'sandbox',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/**
 * Writes bytes [range.start, range.end] of `file` to `res` (its headers sent by the caller) as
 * their pieces are verified; `signal` aborts when the client goes away. `ahead`: pieces past the
 * current one made urgent with it.
 */
export async function streamFileRange(res: ServerResponse, source: StreamSource, file: LayoutFile, range: ByteRange, ahead: number, signal: AbortSignal): Promise<void> {
  const { geometry } = source.data;
  const { pieceLength } = geometry;
  const first = Math.floor((file.offset + range.start) / pieceLength);
  const last = Math.floor((file.offset + range.end) / pieceLength);
  let release: () => void = () => undefined;
  try {
    for (let index = first; index <= last && !signal.aborted; index++) {
      if (!source.picker.hasPiece(index)) {
        // This piece and the next few jump the queue; the previous window is withdrawn.
        const window: number[] = [];
        for (let i = index; i <= Math.min(last, index + ahead); i++) if (!source.picker.hasPiece(i)) window.push(i);
        release();
        release = source.selection.urge(window);
        await source.selection.waitFor(index, signal);
      }
      const pieceStart = index * pieceLength;
      const from = Math.max(file.offset + range.start, pieceStart);
      const to = Math.min(file.offset + range.end + 1, pieceStart + geometry.pieceSize(index));
      const lease = await source.readCache.lease(`${source.infoHashHex}:${index}`, geometry.pieceSize(index), from - pieceStart, to - from, (piece) => source.data.readPiece(index, piece));
      // Copied out at once: the slab's memory goes back to the cache while the socket drains.
      const bytes = Buffer.concat(lease.views);
      lease.release();
      if (signal.aborted) return;
      if (!res.write(bytes)) await drained(res);
    }
  } finally {
    release();
  }
}
