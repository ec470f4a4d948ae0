/**
 * Text bound for a terminal or a log. Names come from .torrent files written by strangers: a
 * control character in one (an escape sequence, a carriage return) could move the cursor, rewrite
 * what the screen shows or change the terminal's settings, so they never reach the terminal as
 * such. Not part of the UI: the logger needs it too.
 */

/** C0 controls, DEL and C1 controls (U+0080..U+009F, which some terminals obey too). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with every control character shown as U+FFFD, so what it hid stays visible. */
export function printable(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}
