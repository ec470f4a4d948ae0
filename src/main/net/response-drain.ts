/** Waiting out an HTTP response's back-pressure: for bodies written piece by piece (/status, /files). */
import type { ServerResponse } from 'node:http';

/** Resolves once the response can take more, or once it is closed (the client went away). */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
