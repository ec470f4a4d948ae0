/**
 * The main thread's CPU profile of a peer run under `node --cpu-prof`, summed into self time per
 * function: what limits a transfer, named by file and line.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The project's root (above dist-bench/), as a URL prefix: profile frames are named by their path inside it. */
const PROJECT_URL = new URL('../../', import.meta.url).href;
/** Functions listed from a profile. */
const PROFILE_TOP = 10;

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  idleMs: number;
  top: { function: string; ms: number; share: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A profile's call frame as "function file:line", the file relative to the project (dist-bench/..., node_modules/...) or node's own module name. */
function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const where = frame.url.startsWith(PROJECT_URL) ? frame.url.slice(PROJECT_URL.length) : frame.url;
  return `${name} ${where}:${frame.lineNumber + 1}`;
}

/** Self time per function of a V8 CPU profile (the main thread's), the largest first. */
export async function summarizeProfile(file: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, frameName(node.callFrame)]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] leads up to sample i, so the function caught by sample i ran until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const name = frames.get(profile.samples[i]) ?? '(unknown)';
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    totalUs += us;
  }
  const top = [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, PROFILE_TOP)
    .map(([name, us]) => ({ function: name, ms: us / 1000, share: us / totalUs }));
  return { file, sampledMs: totalUs / 1000, idleMs: (selfUs.get('(idle)') ?? 0) / 1000, top };
}

/** The main thread's profile of process `pid` in `folder`: node names it CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile, thread 0 being the main one. */
export async function mainThreadProfile(folder: string, pid: number): Promise<string> {
  const pattern = new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`);
  const name = (await readdir(folder)).find((entry) => pattern.test(entry));
  if (name === undefined) throw new Error(`no main-thread CPU profile of process ${pid} in ${folder}`);
  return path.join(folder, name);
}

/** The summary as lines under a table. */
export function profileNotes(who: string, profile: ProfileSummary): string[] {
  const busyMs = profile.sampledMs - profile.idleMs;
  return [
    `${who} ran under node --cpu-prof (its figures include the profiler's cost); main thread: ${(profile.sampledMs / 1000).toFixed(2)} s sampled, ${(busyMs / 1000).toFixed(2)} s not idle; profile ${profile.file}`,
    ...profile.top.map((entry) => `self time ${(entry.share * 100).toFixed(1).padStart(4)}% ${entry.ms.toFixed(0).padStart(5)} ms  ${entry.function}`),
  ];
}
