/**
 * The fenced code blocks of a Markdown text, and the command lines of its shell blocks: what
 * test/process/readme.test.ts holds the README's commands to.
 */

export interface Fence {
  /** The word after the opening fence: sh, json, text; '' when there is none. */
  language: string;
  /** The lines between the fences, with the opening fence's indentation taken off. */
  lines: string[];
  /** The opening fence's line number, from 1. */
  line: number;
}

export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

/** Every fenced block, in order; an unclosed fence is an error (the README would render wrong). */
export function fencesOf(markdown: string): Fence[] {
  const fences: Fence[] = [];
  let open: { fence: Fence; indent: string } | null = null;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    const marker = /^(\s*)```(\S*)\s*$/.exec(text);
    if (open === null) {
      if (marker) open = { fence: { language: marker[2], lines: [], line: i + 1 }, indent: marker[1] };
    } else if (marker && marker[2] === '') {
      fences.push(open.fence);
      open = null;
    } else {
      open.fence.lines.push(text.startsWith(open.indent) ? text.slice(open.indent.length) : text.trimStart());
    }
  }
  if (open !== null) throw new Error(`the fence opened on line ${open.fence.line} is never closed`);
  return fences;
}

/**
 * The command lines of the shell blocks, each once, in order: comments (`# ...` at the start or
 * after a space) taken off, lines ending in `\` joined with the next, runs of spaces made one.
 */
export function shellCommandsOf(markdown: string): string[] {
  const commands: string[] = [];
  for (const fence of fencesOf(markdown)) {
    if (!SHELL_LANGUAGES.has(fence.language)) continue;
    let pending = '';
    for (const text of fence.lines) {
      const code = text.replace(/(^|\s)#.*$/, '').trim();
      if (code.endsWith('\\')) {
        pending += `${code.slice(0, -1)} `;
        continue;
      }
      const command = `${pending}${code}`.replace(/\s+/g, ' ').trim();
      pending = '';
      if (command !== '' && !commands.includes(command)) commands.push(command);
    }
  }
  return commands;
}
