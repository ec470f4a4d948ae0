/**
 * A request's body, read whole but never past a limit: a `Content-Length` over it is refused before
 * a byte is read, and a body that turns out longer (chunked, or lying) is cut off when it crosses
 * it. The time a slow body may take is the port's (HttpDeadlines, httpRequestTimeoutMs).
 */
import type { IncomingMessage } from 'node:http';

/** A body that cannot be taken: 413 when too large, 400 when it broke off. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export function readBody(req: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new BodyError(413, `${what} is ${declared} bytes, more than the ${limit} bytes allowed`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        req.off('data', onData);
        // The rest is not read; the connection closes after the answer.
        req.pause();
        reject(new BodyError(413, `${what} is more than the ${limit} bytes allowed`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, length)));
    req.once('aborted', () => reject(new BodyError(400, `${what} broke off before its end`)));
    req.once('error', (error) => reject(new BodyError(400, `${what} could not be read: ${error.message}`)));
  });
}
