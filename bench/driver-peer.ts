/**
 * One side of a reference pair run by a driver script of ours (libtorrent-peer.py,
 * webtorrent-peer.mjs), which reports on its standard output: `ready` once it seeds,
 * `progress BYTES` as payload arrives, `complete` once every piece is verified.
 */
import { SampledProcess, type Progress } from './sampled-process.js';

export class DriverPeer extends SampledProcess {
  ready = false;
  private received = 0;
  private complete = false;

  constructor(
    label: string,
    command: string,
    args: readonly string[],
    private readonly seeding: boolean,
  ) {
    super(label, command, [...args]);
  }

  protected override onLine(line: string): void {
    if (line === 'ready') this.ready = true;
    else if (line === 'complete') this.complete = true;
    else if (line.startsWith('progress ')) this.received = Number(line.slice('progress '.length));
  }

  protected override async readProgress(): Promise<Progress | undefined> {
    return this.seeding ? undefined : { receivedBytes: this.received, complete: this.complete };
  }
}
