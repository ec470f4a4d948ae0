/** The live block of a terminal: redrawn in place, with log lines printed above it. */
import { EventEmitter } from 'node:events';
import { blockUpdate, LiveDisplay } from '../../src/main/ui/live-display.js';

const ESC = '\u001b[';

/** Plays the sequences blockUpdate uses on a screen of lines, as a terminal would. */
function play(writes: string[]): string[] {
  const screen: string[] = [];
  let row = 0;
  const token = /\r|\n|\u001b\[(\d*)A|\u001b\[J|\u001b\[\?7[lh]|[^\r\n\u001b]+/g;
  for (const text of writes) {
    for (const [match, up] of text.matchAll(token)) {
      if (match === '\r' || match.startsWith(`${ESC}?7`)) continue;
      if (match === '\n') row++;
      else if (match.endsWith('A')) row = Math.max(0, row - Number(up || 1));
      else if (match === `${ESC}J`) screen.length = row;
      else screen[row] = (screen[row] ?? '') + match;
    }
  }
  return screen.slice(0, row);
}

describe('blockUpdate', () => {
  test('the first draw just writes the lines, unwrapped', () => {
    expect(blockUpdate(0, '', ['a', 'b'])).toBe(`\r${ESC}J${ESC}?7la\nb\n${ESC}?7h`);
  });

  test('a redraw goes up over the old block and erases it first', () => {
    expect(blockUpdate(2, '', ['x'])).toBe(`\r${ESC}2A${ESC}J${ESC}?7lx\n${ESC}?7h`);
  });

  test('log text goes where the block was, and the block below it', () => {
    expect(play([blockUpdate(0, '', ['p1', 'p2']), blockUpdate(2, 'log 1\n', ['p1', 'p2'])])).toEqual(['log 1', 'p1', 'p2']);
  });
});

describe('LiveDisplay', () => {
  class FakeTerminal extends EventEmitter {
    readonly writes: string[] = [];
    columns = 50;
    rows = 10;
    write(text: string): boolean {
      this.writes.push(text);
      return true;
    }
  }

  test('log lines scroll above the live lines and never split them', () => {
    const terminal = new FakeTerminal();
    let progress = 0;
    const display = new LiveDisplay(terminal, (columns, rows) => [`a ${progress}% of ${columns}x${rows}`, `b ${progress}%`]);
    display.refresh();
    progress = 10;
    display.printAbove('first event');
    display.refresh();
    progress = 20;
    display.printAbove('second event\n');
    display.refresh();
    expect(play(terminal.writes)).toEqual(['first event', 'second event', 'a 20% of 50x10', 'b 20%']);
  });

  test('a block that shrinks leaves nothing of the old one behind', () => {
    const terminal = new FakeTerminal();
    let lines = ['one', 'two', 'three'];
    const display = new LiveDisplay(terminal, () => lines);
    display.refresh();
    lines = ['only'];
    display.refresh();
    expect(play(terminal.writes)).toEqual(['only']);
  });

  test('a resize redraws at the new width; stop draws a last time and stops listening', () => {
    const terminal = new FakeTerminal();
    const display = new LiveDisplay(terminal, (columns) => [`width ${columns}`]);
    display.start(60_000);
    terminal.columns = 70;
    terminal.emit('resize');
    expect(play(terminal.writes)).toEqual(['width 70']);
    terminal.columns = 90;
    display.stop();
    expect(play(terminal.writes)).toEqual(['width 90']);
    const count = terminal.writes.length;
    terminal.emit('resize');
    expect(terminal.writes).toHaveLength(count);
  });

  test('a terminal that does not say its size is taken as 80 x 24', () => {
    const writes: string[] = [];
    const display = new LiveDisplay({ write: (text: string) => writes.push(text) }, (columns, rows) => [`${columns}x${rows}`]);
    display.refresh();
    expect(play(writes)).toEqual(['80x24']);
  });
});
