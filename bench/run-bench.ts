/**
 * `npm run bench`: runs the named benchmarks in turn, prints a table for each and writes every
 * figure, with the machine it was measured on, to bench/results/latest.json. Nothing is
 * asserted: the figures are for people comparing runs on the same machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseSize, UsageError } from '../src/main/cli/options.js';
import { formatSize } from '../src/main/cli/torrent-command.js';
import { MiB } from '../src/io/settings.js';
import { renderTable, timed, type BenchOptions, type Benchmark, type TargetCheck } from './benchmark.js';
import { manyBenchmark } from './many.js';
import { rc4Benchmark } from './rc4.js';
import { metainfoReadBenchmark } from './metainfo-read.js';
import { piecePickerBenchmark } from './piece-picker.js';
import { recheckBenchmark } from './recheck.js';
import { sha1Benchmark } from './sha1-pool.js';
import { renderChart, type ChartPanel } from './svg-chart.js';
import { swarmBenchmark } from './swarm.js';
import { wireEncoderBenchmark } from './wire-encoder.js';
import { wireParserBenchmark } from './wire-parser.js';

/** In the order they run: the micro benchmarks first, then the runs of whole processes. */
const BENCHMARKS: readonly Benchmark[] = [
  sha1Benchmark,
  wireParserBenchmark,
  wireEncoderBenchmark,
  piecePickerBenchmark,
  metainfoReadBenchmark,
  rc4Benchmark,
  recheckBenchmark,
  swarmBenchmark,
  manyBenchmark,
];

const DEFAULT_SIZE = { full: 1024 * MiB, quick: 32 * MiB };
/**
 * Apart from --size: (b) moves four copies of its file through five processes on this machine's
 * cores, so a size that suits (a) would keep it busy for minutes.
 */
const DEFAULT_SWARM_SIZE = { full: 256 * MiB, quick: 16 * MiB };

/** Said at the start and above the targets of a --quick run, whose sizes are too small to judge. */
const QUICK_NOTE = 'quick run: small sizes only show that every benchmark still runs; its figures are not judged against the targets';

/** Beside the sources, not the compiled output: this runs from dist-bench/bench/. */
const RESULTS = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));
const CHART = fileURLToPath(new URL('../../bench/results/latest.svg', import.meta.url));

interface RunOptions extends BenchOptions {
  selected: Benchmark[];
  help: boolean;
}

function usage(): string {
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  return [
    'usage: npm run bench -- [--quick] [--only NAME[,NAME...]] [--size BYTES] [--swarm-size BYTES] [--swarm-profile DIR]',
    '',
    '  --quick               small sizes, for a smoke run; its figures are not judged',
    '  --only NAME           run only these benchmarks (repeatable, or a comma list)',
    `  --size BYTES          size of the rechecked file and of swarm (a), 1 seeder to 1 leecher, and its reference pairs; k/M/G suffixes (default ${formatSize(DEFAULT_SIZE.full)}, quick ${formatSize(DEFAULT_SIZE.quick)})`,
    `  --swarm-size BYTES    size of swarm (b), 1 seeder to 4 leechers (default ${formatSize(DEFAULT_SWARM_SIZE.full)}, quick ${formatSize(DEFAULT_SWARM_SIZE.quick)})`,
    '  --swarm-profile DIR   write a CPU profile (node --cpu-prof) of swarm (a)\'s leecher to DIR and list its top functions',
    '',
    'benchmarks:',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`),
  ].join('\n');
}

function parseOptions(argv: string[]): RunOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        size: { type: 'string' },
        'swarm-size': { type: 'string' },
        'swarm-profile': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // parseArgs' errors are TypeErrors of Node's realm, told apart by their code.
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      // Node's text goes on to explain `--` for positionals; the first sentence is the point.
      const first = (err as Error).message.split('. ')[0];
      throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1));
    }
    throw err;
  }
  const names = (values.only ?? []).flatMap((list) => list.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown benchmark ${unknown.map((n) => `"${n}"`).join(', ')}; there are ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  return {
    quick: values.quick,
    size: values.size === undefined ? (values.quick ? DEFAULT_SIZE.quick : DEFAULT_SIZE.full) : parseSize(values.size, '--size'),
    swarmSize:
      values['swarm-size'] === undefined
        ? values.quick
          ? DEFAULT_SWARM_SIZE.quick
          : DEFAULT_SWARM_SIZE.full
        : parseSize(values['swarm-size'], '--swarm-size'),
    swarmProfile: values['swarm-profile'] === undefined ? undefined : path.resolve(values['swarm-profile']),
    selected: names.length === 0 ? [...BENCHMARKS] : BENCHMARKS.filter((b) => names.includes(b.name)),
    help: values.help,
  };
}

function machine() {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

async function main(argv: string[]): Promise<number> {
  let options: RunOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message} (see npm run bench -- --help)\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }

  const host = machine();
  console.log(`${host.cpuModel}, ${host.cores} cores, Node ${host.node}${options.quick ? ', quick run' : ''}`);
  if (options.quick) console.log(QUICK_NOTE);
  const results: Record<string, unknown> = {};
  const panels: ChartPanel[] = [];
  const targets: TargetCheck[] = [];
  const loads: number[] = [];
  let failed = false;
  for (const benchmark of options.selected) {
    console.log(`\n${benchmark.name}: ${benchmark.description}`);
    // Other programs share the machine; the load says how much the figures may have suffered.
    const loadBefore = os.loadavg()[0];
    try {
      const { value: result, ms } = await timed(() => benchmark.run(options));
      const load = { before: loadBefore, after: os.loadavg()[0] };
      loads.push(load.before, load.after);
      console.log(result.title);
      for (const line of renderTable(result.columns, result.rows)) console.log(`  ${line}`);
      for (const note of result.notes) console.log(`  - ${note}`);
      console.log(`  (${(ms / 1000).toFixed(1)} s; load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after, on ${host.cores} cores)`);
      results[benchmark.name] = { ...result, seconds: ms / 1000, loadAverage: load };
      if ((result.failures ?? []).length > 0) failed = true;
      for (const panel of result.chart ?? []) {
        const same = panels.find((p) => p.title === panel.title);
        if (same) same.bars.push(...panel.bars);
        else panels.push({ ...panel, bars: [...panel.bars] });
      }
      targets.push(...(result.targets ?? []));
    } catch (err) {
      // The other benchmarks still run: one broken benchmark should not hide the rest.
      failed = true;
      console.error(`${benchmark.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      results[benchmark.name] = { error: err instanceof Error ? err.message : String(err) };
    }
  }

  if (targets.length > 0) {
    console.log('\ntargets of the issue (one run on this machine; nothing is asserted):');
    if (options.quick) console.log(`  ${QUICK_NOTE}`);
    const rows = targets.map((t) => [t.name, t.goal, t.measured, t.met === null ? '-' : t.met ? 'met' : 'NOT met']);
    for (const line of renderTable(['target', 'goal', 'measured', ''], rows)) console.log(`  ${line}`);
  }

  await mkdir(path.dirname(RESULTS), { recursive: true });
  const ran = {
    quick: options.quick,
    size: options.size,
    swarmSize: options.swarmSize,
    swarmProfile: options.swarmProfile ?? null,
    only: options.selected.map((b) => b.name),
  };
  const report = { machine: host, options: ran, targets, benchmarks: results };
  await writeFile(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  const load = loads.length === 0 ? '' : `, load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}`;
  const subtitle = `${host.cpuModel}, ${host.cores} cores${load}, Node ${host.node}, ${host.date.slice(0, 10)}${options.quick ? ', quick run (small sizes)' : ''}; longer bars are faster`;
  await writeFile(CHART, renderChart('shoal: npm run bench', subtitle, panels));
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS)} and ${path.relative(process.cwd(), CHART)}`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
