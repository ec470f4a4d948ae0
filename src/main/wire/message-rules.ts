/**
 * Checks of requests and blocks against the torrent's geometry. Each returns the reason a
 * message is refused, as a sentence, or null when it is fine.
 */
import type { PieceGeometry } from '../../io/piece-geometry.js';
import { defaultSettings } from '../../io/settings.js';

function checkIndex(index: number, geometry: PieceGeometry): string | null {
  if (!Number.isInteger(index) || index < 0 || index >= geometry.pieceCount) {
    return `piece ${index} does not exist: the torrent has ${geometry.pieceCount} pieces`;
  }
  return null;
}

/** The span [begin, begin + length) must lie inside piece `index`, which exists. */
function checkSpan(index: number, begin: number, length: number, geometry: PieceGeometry): string | null {
  const size = geometry.pieceSize(index);
  if (begin + length > size) {
    return `bytes ${begin} to ${begin + length} lie beyond the end of piece ${index}, which has ${size} bytes`;
  }
  return null;
}

export function checkRequest(
  msg: { index: number; begin: number; length: number },
  geometry: PieceGeometry,
  maxRequestLength: number = defaultSettings.maxRequestLength,
): string | null {
  const badIndex = checkIndex(msg.index, geometry);
  if (badIndex !== null) return badIndex;
  if (msg.length === 0) return `a request for 0 bytes of piece ${msg.index} asks for nothing`;
  if (msg.length > maxRequestLength) {
    return `a request for ${msg.length} bytes is over the limit of ${maxRequestLength} bytes (maxRequestLength)`;
  }
  return checkSpan(msg.index, msg.begin, msg.length, geometry);
}

export function checkBlock(
  msg: { index: number; begin: number; block: Buffer },
  geometry: PieceGeometry,
  maxRequestLength: number = defaultSettings.maxRequestLength,
): string | null {
  const badIndex = checkIndex(msg.index, geometry);
  if (badIndex !== null) return badIndex;
  const length = msg.block.length;
  if (length === 0) return `an empty block of piece ${msg.index} carries no data`;
  if (length > maxRequestLength) {
    return `a block of ${length} bytes is over the limit of ${maxRequestLength} bytes (maxRequestLength)`;
  }
  return checkSpan(msg.index, msg.begin, length, geometry);
}
