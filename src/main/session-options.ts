/**
 * What a session is told to run with: its folders, port and limits. The command line
 * (cli/options.ts) builds these from argv and adds what only it needs; tests build them
 * directly. The session depends on this, never on the command line.
 */
export interface SessionOptions {
  workers: number;
  /** Undefined when not given: the port saved in cache/ is used, else the default. */
  port: number | undefined;
  host: string | undefined;
  torrents: string;
  shareable: string;
  cache: string;
  uploadLimit: number;
  downloadLimit: number;
  exitWhenDone: boolean;
  /** Bytes of shared memory for blocks being downloaded. */
  bufferMemory: number;
  /** Interval our tracker gives to the peers announcing to it, in seconds. */
  announceInterval: number | undefined;
}
