/**
 * Text fitted to a terminal's columns, one code point a column. Text from strangers goes through
 * printable() (printable-text.ts) first, so no control character reaches the terminal.
 */

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
