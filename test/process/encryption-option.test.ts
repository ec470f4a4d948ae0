/** `--encryption prefer|require|off` on the command line (issue 19): parsed, checked, shown in --help. */
import { parsePeerOptions, usage } from '../../src/main/cli/options.js';
import { runCommand, SHOAL } from '../helpers/peer-process.js';

test('prefer by default; each of the three policies is taken as given', () => {
  expect(parsePeerOptions([]).encryption).toBe('prefer');
  for (const policy of ['prefer', 'require', 'off']) expect(parsePeerOptions(['--encryption', policy]).encryption).toBe(policy);
});

test('--help shows the three policies and the default', () => {
  expect(usage()).toMatch(/^ {2}--encryption prefer\|require\|off +encrypted peer connections \(MSE\/PE\).*\(default: prefer\)$/m);
});

test('a bad value ends the start with one clear line and a non-zero exit', async () => {
  const { code, stderr } = await runCommand(SHOAL, ['--encryption', 'always']);
  expect(code).not.toBe(0);
  expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('--encryption expects one of prefer, require, off, got "always"')]);
});
