#!/usr/bin/env node
/**
 * `npm start` and the installed `shoal` command: runs one peer until SIGINT or SIGTERM (or, with
 * --exit-when-done, until every torrent is complete). A problem at start-up is one line on stderr
 * and exit code 1.
 *
 * On a terminal (and without --quiet) the bottom of the screen shows one live line per swarm and
 * log lines scroll above them; anywhere else (a pipe, a service, CI) each event is one log line.
 */
import './young-generation.js';
import { createLogger } from '../logger.js';
import { Session } from '../session.js';
import { settingsFromEnvironment, TEST_SETTINGS_VARIABLE, type Settings } from '../../io/settings.js';
import { LiveDisplay } from '../ui/live-display.js';
import { renderSwarmLines } from '../ui/swarm-lines.js';
import { shoalVersion } from '../version.js';
import { parsePeerOptions, usage, UsageError } from './options.js';

async function main(): Promise<number> {
  let settings: Settings;
  try {
    settings = settingsFromEnvironment(process.env[TEST_SETTINGS_VARIABLE]);
  } catch (error) {
    process.stderr.write(`shoal: ${(error as Error).message}\n`);
    return 2;
  }
  let options;
  try {
    options = parsePeerOptions(process.argv.slice(2), process.cwd(), settings);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`shoal: ${error.message} (see --help)\n`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${shoalVersion()}\n`);
    return 0;
  }
  const display =
    process.stdout.isTTY && options.logLevel !== 'quiet'
      ? new LiveDisplay(process.stdout, (columns, rows) => renderSwarmLines(session.status(), columns, Math.max(1, rows - 1)))
      : null;
  const log = createLogger(options.logLevel, display ? (line) => display.printAbove(line) : undefined);
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve)).finally(() => display?.stop());
  const session = new Session(options, log, { settings, onAllComplete: () => void session.stop().then(() => finish(0)) });
  // The listeners stay for the whole run: a signal that comes again while the peer stops is
  // ignored, never the default (an abrupt exit). Under `npm start`, Ctrl-C reaches the peer twice,
  // once from the terminal (to the whole process group) and once forwarded by npm.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    void session.stop().then(() => finish(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  display?.start(settings.liveViewRefreshMs);
  try {
    await session.start();
  } catch (error) {
    display?.stop();
    process.stderr.write(`shoal: ${(error as Error).message}\n`);
    await session.stop().catch(() => undefined);
    return 1;
  }
  return finished;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`shoal: unexpected error: ${error.message}\n`);
    process.exit(1);
  },
);
