/**
 * A block of live lines at the bottom of a terminal, redrawn in place, with log lines printed
 * above it so that they scroll up and never cut through the block. The escape sequences are
 * built by a pure function; LiveDisplay is the thin shell that owns the timer and the stream.
 */

const ESC = '\u001b[';
/** Lines longer than the terminal are cut by it rather than wrapped: a wrapped line would take
 * two rows, and the next redraw, which moves up one row per line, would leave half of it behind. */
const NO_WRAP = `${ESC}?7l`;
const WRAP = `${ESC}?7h`;

/**
 * The text that replaces a block of `previousLines` lines, drawn last with the cursor just below
 * it, by `above` (log text, each line ending in a newline) followed by the new `lines`.
 */
export function blockUpdate(previousLines: number, above: string, lines: readonly string[]): string {
  const up = previousLines > 0 ? `\r${ESC}${previousLines}A` : '\r';
  const block = lines.length > 0 ? `${NO_WRAP}${lines.join('\n')}\n${WRAP}` : '';
  return `${up}${ESC}J${above}${block}`;
}

/** What the display writes to: a TTY stream, or a fake one in tests. */
export interface TerminalStream {
  write(text: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

/** Terminals that do not say their size are taken as the classic 80 x 24. */
const DEFAULT_COLUMNS = 80;
const DEFAULT_ROWS = 24;

export class LiveDisplay {
  private drawnLines = 0;
  private lines: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly onResize = (): void => this.refresh();

  constructor(
    private readonly out: TerminalStream,
    /** The lines to show for a terminal of this size. */
    private readonly render: (columns: number, rows: number) => string[],
  ) {}

  /** Draws now and then every `intervalMs`, and at once when the terminal is resized. */
  start(intervalMs: number): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
    this.out.on?.('resize', this.onResize);
  }

  refresh(): void {
    const columns = this.out.columns || DEFAULT_COLUMNS;
    const rows = this.out.rows || DEFAULT_ROWS;
    this.lines = this.render(columns, rows);
    this.replace('');
  }

  /** Writes log text above the block (the block is drawn again below it). */
  printAbove(text: string): void {
    this.replace(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Draws a last time and leaves the lines on the screen. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.out.off?.('resize', this.onResize);
    this.refresh();
  }

  private replace(above: string): void {
    this.out.write(blockUpdate(this.drawnLines, above, this.lines));
    this.drawnLines = this.lines.length;
  }
}
