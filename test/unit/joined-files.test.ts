/** The files of torrents/ joined to swarms, found by name and by info hash (issue 20: no scan of every file per lookup). */
import { JoinedFiles } from '../../src/main/joined-files.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('a torrent is found by the first file that joined it, other than the one asking', () => {
  const joined = new JoinedFiles();
  joined.set('one.torrent', A);
  joined.set('two.torrent', A);
  joined.set('other.torrent', B);
  expect(joined.fileOf(A)).toBe('one.torrent');
  expect(joined.fileOf(A, 'one.torrent')).toBe('two.torrent');
  expect(joined.fileOf(B, 'other.torrent')).toBeUndefined();
  expect(joined.fileOf('c'.repeat(40))).toBeUndefined();
});

test('a file removed or joined to another torrent no longer names the first', () => {
  const joined = new JoinedFiles();
  joined.set('one.torrent', A);
  joined.set('two.torrent', A);
  expect(joined.delete('one.torrent')).toBe(true);
  expect(joined.delete('one.torrent')).toBe(false);
  expect(joined.fileOf(A)).toBe('two.torrent');
  joined.set('two.torrent', B);
  expect(joined.fileOf(A)).toBeUndefined();
  expect([joined.get('two.torrent'), joined.has('one.torrent')]).toEqual([B, false]);
  expect([...joined.entries()]).toEqual([['two.torrent', B]]);
});
