/**
 * Issue 18: files chosen as pieces. A piece takes the highest priority of the files it touches,
 * so the pieces on a wanted file's borders are fetched and those wholly inside skipped files are
 * not; a file's verified bytes are its share of the pieces had; a change of priorities is checked
 * whole before anything changes; a magnet's `so` (BEP 53) counts every file, pad files included.
 */
import { FileLayout } from '../../src/io/file-layout.js';
import { PieceGeometry } from '../../src/io/piece-geometry.js';
import { parseFilesChange, piecePriorities, piecesOfFile, selectedPriorities, verifiedBytes } from '../../src/main/swarm/file-priorities.js';
import { HIGH, NORMAL, SKIP } from '../../src/main/swarm/piece-picker.js';

// Pieces of 100 bytes: a.bin 0-249 (pieces 0-2), b.bin 250-349 (2-3), c.bin 350-699 (3-6), an empty file at 700.
const layout = FileLayout.fromComponents([
  { components: ['t', 'a.bin'], length: 250 },
  { components: ['t', 'b.bin'], length: 100 },
  { components: ['t', 'c.bin'], length: 350 },
  { components: ['t', 'empty'], length: 0 },
]);
const geometry = new PieceGeometry(100, 700, 50);

test('the pieces a file touches, none for an empty file', () => {
  expect(layout.dataFiles.map((file) => piecesOfFile(file, geometry))).toEqual([[0, 2], [2, 3], [3, 6], null]);
});

test('a piece has the highest priority of its files: skipped files keep only their own pieces skipped', () => {
  expect([...piecePriorities(layout.dataFiles, ['skip', 'normal', 'skip', 'skip'], geometry)]).toEqual([SKIP, SKIP, NORMAL, NORMAL, SKIP, SKIP, SKIP]);
  expect([...piecePriorities(layout.dataFiles, ['high', 'skip', 'normal', 'normal'], geometry)]).toEqual([HIGH, HIGH, HIGH, NORMAL, NORMAL, NORMAL, NORMAL]);
  expect([...piecePriorities(layout.dataFiles, ['skip', 'skip', 'skip', 'normal'], geometry)]).toEqual(new Array(7).fill(SKIP));
});

test('a file\'s verified bytes are its part of each piece had', () => {
  const had = new Set([2, 3]);
  const has = (i: number): boolean => had.has(i);
  expect(layout.dataFiles.map((file) => verifiedBytes(file, geometry, has))).toEqual([50, 100, 50, 0]);
  expect(verifiedBytes(layout.dataFiles[2], geometry, () => true)).toBe(350);
});

test('a change is one priority per file and/or sequential; anything else is refused with the reason', () => {
  expect(parseFilesChange({ priorities: ['skip', 'normal', 'high', 'normal'] }, 4)).toEqual({ priorities: ['skip', 'normal', 'high', 'normal'] });
  expect(parseFilesChange({ sequential: true }, 4)).toEqual({ sequential: true });
  expect(parseFilesChange({ priorities: ['skip', 'normal', 'high', 'normal'], sequential: false }, 4)).toEqual({ priorities: ['skip', 'normal', 'high', 'normal'], sequential: false });
  const refused: [unknown, RegExp][] = [
    [null, /JSON object/],
    [[1], /JSON object/],
    [{}, /nothing to change/],
    [{ priorities: ['skip'] }, /has 1 entries; the torrent has 4 files/],
    [{ priorities: ['skip', 'normal', 'urgent', 'normal'] }, /priority 3 is "urgent"/],
    [{ priorities: 'skip' }, /must be an array/],
    [{ sequential: 'yes' }, /true or false/],
    [{ sequential: true, order: 'x' }, /unknown field "order"/],
  ];
  for (const [body, reason] of refused) expect(parseFilesChange(body, 4)).toEqual({ error: expect.stringMatching(reason) });
});

test('so selects files by their index among all files, pad files included; selecting none selects nothing', () => {
  const files = [{}, { pad: true }, {}, {}];
  expect(selectedPriorities([0, 3], files)).toEqual(['normal', 'skip', 'normal']);
  expect(selectedPriorities([2], files)).toEqual(['skip', 'normal', 'skip']);
  expect(selectedPriorities([1, 9], files)).toBeNull();
});
