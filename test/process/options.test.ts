/** `npm start -- --help` lists every option the parser takes, each with its default. */
import { PEER_OPTIONS, parsePeerOptions, usage } from '../../src/main/cli/options.js';
import { runCommand, SHOAL } from '../helpers/peer-process.js';

/** A value each option accepts, to prove the parser takes it. */
const SAMPLE_VALUES: Record<string, string> = {
  workers: '2',
  port: '7000',
  host: '127.0.0.1',
  torrents: 't',
  shareable: 's',
  cache: 'c',
  'upload-limit': '1M',
  'download-limit': '1M',
  'buffer-memory': '8M',
  'announce-interval': '30',
  'dht-bootstrap': '127.0.0.1:6881',
  encryption: 'require',
};

function helpLine(help: string, name: string): string {
  const line = help.split('\n').find((text) => new RegExp(`^\\s+--${name}\\b`).test(text));
  if (!line) throw new Error(`--${name} is not in the help:\n${help}`);
  return line;
}

describe('--help', () => {
  test('every option the parser takes is in the help, with its default (but --help and --version)', () => {
    const help = usage();
    for (const option of PEER_OPTIONS) {
      const args = option.value ? [`--${option.name}`, SAMPLE_VALUES[option.name]] : [`--${option.name}`];
      expect(() => parsePeerOptions(args)).not.toThrow();
      const line = helpLine(help, option.name);
      if (option.name !== 'help' && option.name !== 'version') expect(line).toMatch(/\(default: [^)]+\)$/);
    }
    expect(() => parsePeerOptions(['--not-an-option'])).toThrow(/Unknown option '--not-an-option'/);
  });

  test('the defaults it shows are the ones the parser applies', () => {
    const help = usage();
    const shown = (name: string): string => /\(default: ([^)]+)\)$/.exec(helpLine(help, name))![1];
    const none = parsePeerOptions([], '/project');
    for (const name of ['upload-limit', 'download-limit', 'buffer-memory', 'torrents', 'shareable', 'cache', 'dht-bootstrap'] as const) {
      expect(parsePeerOptions([`--${name}`, shown(name)], '/project')).toEqual(none);
    }
    expect(shown('announce-interval')).toBe('60');
    expect(shown('workers')).toContain(String(none.workers));
  });

  test('the DHT and local discovery are on unless --no-dht and --no-lsd say otherwise; the settings give the defaults', () => {
    const none = parsePeerOptions([]);
    expect(none).toMatchObject({ dht: true, lsd: true });
    expect(none.dhtBootstrap.map(({ host }) => host)).toEqual(['router.bittorrent.com', 'dht.transmissionbt.com', 'router.utorrent.com']);
    expect(parsePeerOptions(['--no-dht', '--no-lsd'])).toMatchObject({ dht: false, lsd: false });
    expect(parsePeerOptions(['--dht-bootstrap', '127.0.0.1:7000,10.0.0.1:7001']).dhtBootstrap).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '10.0.0.1', port: 7001 },
    ]);
    const testing = { dhtEnabled: false, dhtBootstrapNodes: '127.0.0.1:9', lsdEnabled: false };
    expect(parsePeerOptions([], '/project', testing)).toMatchObject({ dht: false, lsd: false, dhtBootstrap: [{ host: '127.0.0.1', port: 9 }] });
    // Naming bootstrap nodes asks for the DHT.
    expect(parsePeerOptions(['--dht-bootstrap', '127.0.0.1:7000'], '/project', testing).dht).toBe(true);
    // --no-dht wins, and the nodes named are still checked.
    expect(parsePeerOptions(['--no-dht', '--dht-bootstrap', '127.0.0.1:7000']).dht).toBe(false);
    expect(() => parsePeerOptions(['--no-dht', '--dht-bootstrap', 'nowhere'])).toThrow(/--dht-bootstrap/);
    expect(() => parsePeerOptions(['--dht-bootstrap', '[::1]:7000'])).toThrow(/--dht-bootstrap "\[::1\]:7000": the DHT speaks IPv4 only/);
  });

  test('npm start -- --help prints it and exits 0', async () => {
    const { code, stdout, stderr } = await runCommand(SHOAL, ['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe(usage());
    for (const option of PEER_OPTIONS) helpLine(stdout, option.name);
  });
});
