/**
 * Requests of the control API as a test scripts them: any method, headers (a forged Host or
 * Origin included), body, with or without the token of a peer's cache/api-token.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

export interface ControlAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The JSON body, or { text } when it was not JSON. */
  body: Record<string, unknown>;
}

export interface ControlRequest {
  method: string;
  path: string;
  token?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  contentType?: string;
}

/** The token the peer made in its cache folder. */
export async function tokenOf(cacheFolder: string): Promise<string> {
  return (await readFile(path.join(cacheFolder, 'api-token'), 'utf8')).trim();
}

/** One request on a fresh connection, bounded in time. */
export function controlRequest(port: number, request: ControlRequest, timeoutMs = 10_000): Promise<ControlAnswer> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token !== undefined) headers['x-shoal-token'] = request.token;
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${request.method} ${request.path} timed out`)));
    req.once('error', reject);
    req.end(request.body);
  });
}

/** A control client bound to one peer and its token. */
export class ControlClient {
  constructor(
    readonly port: number,
    readonly token: string,
  ) {}

  static async of(peer: { port: number; dirs: { cache: string } }): Promise<ControlClient> {
    return new ControlClient(peer.port, await tokenOf(peer.dirs.cache));
  }

  send(request: Omit<ControlRequest, 'token'>): Promise<ControlAnswer> {
    return controlRequest(this.port, { ...request, token: this.token });
  }

  pause(infoHash: string): Promise<ControlAnswer> {
    return this.send({ method: 'POST', path: `/torrents/${infoHash}/pause` });
  }

  resume(infoHash: string): Promise<ControlAnswer> {
    return this.send({ method: 'POST', path: `/torrents/${infoHash}/resume` });
  }

  remove(infoHash: string): Promise<ControlAnswer> {
    return this.send({ method: 'DELETE', path: `/torrents/${infoHash}` });
  }

  addMagnet(uri: string): Promise<ControlAnswer> {
    return this.send({ method: 'POST', path: '/torrents', contentType: 'text/plain', body: uri });
  }

  addTorrent(data: Buffer): Promise<ControlAnswer> {
    return this.send({ method: 'POST', path: '/torrents', contentType: 'application/x-bittorrent', body: data });
  }

  setFiles(infoHash: string, change: unknown): Promise<ControlAnswer> {
    return this.send({ method: 'PUT', path: `/torrents/${infoHash}/files`, contentType: 'application/json', body: JSON.stringify(change) });
  }
}
