/** Feeding a wire parser the way a connection does, for the parser's example and property tests. */
import { WireParser, type ParseResult, type ParserEvent } from '../../src/main/wire/wire-parser.js';

/**
 * Pushes `chunks` in order; the piece count is given as soon as the handshake is seen, as a
 * connection gives it once it knows the swarm. Stops at the first error.
 */
export function feedChunks(chunks: Buffer[], pieceCount: number, parser = new WireParser({ expectHandshake: true })): ParseResult {
  const events: ParserEvent[] = [];
  let countGiven = false;
  for (const chunk of chunks) {
    let result = parser.push(chunk);
    events.push(...result.events);
    if (!result.error && !countGiven && events.length > 0) {
      countGiven = true;
      parser.setPieceCount(pieceCount);
      result = parser.drain();
      events.push(...result.events);
    }
    if (result.error) return { events, error: result.error };
  }
  return { events };
}
