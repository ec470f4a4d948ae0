/**
 * What the small command-line programs (torrent-command.ts, ctl.ts) share: where their lines go,
 * and running their main when node was started with their file rather than importing it (tests
 * import them and call main with an output of their own).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CommandOutput {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** Runs `main` with the process's arguments, its exit code the process's, when `moduleUrl` is the program started. */
export function runIfStarted(moduleUrl: string, main: (argv: string[], output: CommandOutput) => Promise<number>): void {
  const entry = process.argv[1];
  if (entry === undefined || !sameFile(entry, fileURLToPath(moduleUrl))) return;
  const lineTo = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${line}\n`);
  void main(process.argv.slice(2), { stdout: lineTo(process.stdout), stderr: lineTo(process.stderr) }).then((code) => {
    process.exitCode = code;
  });
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
