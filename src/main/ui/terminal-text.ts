/**
 * Text bound for a terminal. Names come from .torrent files written by strangers: a control
 * character in one (an escape sequence, a carriage return) could move the cursor, rewrite what
 * the screen shows or change the terminal's settings, so they never reach the terminal as such.
 */

/** C0 controls, DEL and C1 controls (U+0080..U+009F, which some terminals obey too). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with every control character shown as U+FFFD, so what it hid stays visible. */
export function printable(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}

/** At most `width` characters (code points) of `text`; a cut is marked with an ellipsis. */
export function fitWidth(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** `text` cut or padded with spaces to exactly `width` characters. */
export function padWidth(text: string, width: number): string {
  const fitted = fitWidth(text, width);
  return fitted + ' '.repeat(Math.max(0, width - [...fitted].length));
}
