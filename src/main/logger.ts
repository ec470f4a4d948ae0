/** Log lines that say when, in which swarm and with which peer something happened. */
import { printable } from './printable-text.js';

export type LogLevel = 'quiet' | 'normal' | 'verbose';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  /** A logger whose lines carry `[scope]`, e.g. the swarm's name. */
  child(scope: string): Logger;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line), scope = ''): Logger {
  const emit = (tag: string, message: string): void => {
    // Swarm names and peers' words come from strangers: no control character reaches the terminal.
    write(`${new Date().toISOString()} ${tag}${scope ? ` [${printable(scope)}]` : ''} ${printable(message)}\n`);
  };
  return {
    info: (message) => level !== 'quiet' && emit('info', message),
    warn: (message) => emit('warn', message),
    debug: (message) => level === 'verbose' && emit('debug', message),
    child: (child) => createLogger(level, write, scope ? `${scope}/${child}` : child),
  };
}
