import { FileLayout } from '../../src/io/file-layout.js';

describe('FileLayout', () => {
  const layout = FileLayout.fromComponents([
    { components: ['d', 'a'], length: 5 },
    { components: ['d', 'empty'], length: 0 },
    { components: ['d', 'b'], length: 3 },
    { components: ['d', 'c'], length: 10 },
  ]);

  test('a span inside one file', () => {
    expect(layout.spans(1, 3)).toEqual([{ file: layout.files[0], fileOffset: 1, bufferOffset: 0, length: 3 }]);
  });

  test('a span across files skips empty ones', () => {
    const spans = layout.spans(4, 6);
    expect(spans.map((s) => [s.file.relativePath, s.fileOffset, s.bufferOffset, s.length])).toEqual([
      ['d/a', 4, 0, 1],
      ['d/b', 0, 1, 3],
      ['d/c', 0, 4, 2],
    ]);
  });

  test('the end of the torrent', () => {
    expect(layout.spans(16, 2)).toEqual([{ file: layout.files[3], fileOffset: 8, bufferOffset: 0, length: 2 }]);
  });
});
