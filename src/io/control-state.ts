/**
 * What the user decided about one torrent through the control API, kept across restarts next to
 * its resume data (docs/architecture.md, Disk): whether it is paused, each file's priority and
 * whether pieces are fetched in order. `cache/<info hash>/control.json`, written atomically; a
 * torrent nobody changed has none.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** A file's priority: `skip` is never downloaded, `high` comes before `normal`. */
export type FilePriority = 'skip' | 'normal' | 'high';
export const FILE_PRIORITIES: readonly FilePriority[] = ['skip', 'normal', 'high'];

export interface ControlState {
  version: 1;
  paused: boolean;
  /** One per file of the torrent, pad files included, in the torrent's order; absent: all normal. */
  priorities?: FilePriority[];
  sequential: boolean;
}

export const DEFAULT_CONTROL_STATE: ControlState = Object.freeze({ version: 1, paused: false, sequential: false }) as ControlState;

export function controlStateFile(cacheFolder: string, infoHashHex: string): string {
  return path.join(cacheFolder, infoHashHex, 'control.json');
}

/** The state saved for a torrent; the defaults when there is none or it is damaged (nothing was decided then). */
export async function readControlState(cacheFolder: string, infoHashHex: string): Promise<ControlState> {
  let parsed: Partial<ControlState>;
  try {
    parsed = JSON.parse(await readFile(controlStateFile(cacheFolder, infoHashHex), 'utf8')) as Partial<ControlState>;
  } catch {
    return DEFAULT_CONTROL_STATE;
  }
  if (parsed?.version !== 1 || typeof parsed.paused !== 'boolean' || typeof parsed.sequential !== 'boolean') return DEFAULT_CONTROL_STATE;
  const priorities = Array.isArray(parsed.priorities) && parsed.priorities.every((p) => FILE_PRIORITIES.includes(p)) ? parsed.priorities : undefined;
  return { version: 1, paused: parsed.paused, sequential: parsed.sequential, ...(priorities && { priorities }) };
}

export function writeControlState(cacheFolder: string, infoHashHex: string, state: ControlState): Promise<void> {
  return writeFileAtomic(controlStateFile(cacheFolder, infoHashHex), `${JSON.stringify(state)}\n`);
}

export function removeControlState(cacheFolder: string, infoHashHex: string): Promise<void> {
  return rm(controlStateFile(cacheFolder, infoHashHex), { force: true });
}
