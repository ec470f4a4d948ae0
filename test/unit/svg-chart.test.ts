import { escapeXml, renderChart, type ChartPanel } from '../../bench/svg-chart.js';

/** Tags in document order; throws unless every element is closed in the order it was opened. */
function checkWellFormed(svg: string): string[] {
  const open: string[] = [];
  const names: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)([^<>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const expected = open.pop();
      if (expected !== name) throw new Error(`</${name}> closes <${expected}>`);
    } else {
      names.push(name);
      if (!selfClosing) open.push(name);
    }
  }
  if (open.length > 0) throw new Error(`unclosed: ${open.join(', ')}`);
  // Anything between tags must be text without markup characters left raw.
  const text = svg.replace(/<[^<>]*>/g, '');
  if (/[<>]/.test(text) || /&(?!amp;|lt;|gt;|quot;|apos;)/.test(text)) throw new Error('raw markup characters in the text');
  return names;
}

function barWidths(svg: string): number[] {
  return [...svg.matchAll(/<rect class="bar [a-z]+"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
}

const panels: ChartPanel[] = [
  {
    title: '(a) one seeder to one leecher',
    unit: 'MB/s',
    bars: [
      { label: 'shoal', value: 200, ours: true },
      { label: 'libtorrent', value: 400, ours: false },
      { label: 'aria2c', value: 100, ours: false, text: '100 MB/s (ours / this 2.00)' },
    ],
  },
  { title: 'hashing', unit: 'MB/s', bars: [{ label: 'sha1', value: 1000, ours: true }] },
];

describe('renderChart', () => {
  test('gives one well-formed SVG document with a bar per entry, each panel scaled to its largest', () => {
    const svg = renderChart('npm run bench', 'AMD EPYC, 2 cores', panels);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const names = checkWellFormed(svg);
    expect(names[0]).toBe('svg');
    expect(names.filter((name) => name === 'svg')).toHaveLength(1);
    const widths = barWidths(svg);
    expect(widths).toHaveLength(4);
    // 200 and 100 against 400 in the first panel; the second panel's only bar is its own largest.
    expect(widths[1]).toBeGreaterThan(0);
    expect(widths[0] / widths[1]).toBeCloseTo(0.5);
    expect(widths[2] / widths[1]).toBeCloseTo(0.25);
    expect(widths[3]).toBe(widths[1]);
    expect(svg.match(/class="bar ours"/g)).toHaveLength(2);
    expect(svg).toContain('100 MB/s (ours / this 2.00)');
    expect(svg).toContain('200 MB/s');
  });

  test('escapes labels, titles and texts', () => {
    const svg = renderChart('a <b> & "c"', "it's", [{ title: '<panel>', unit: 'MB/s', bars: [{ label: 'x < y & "z"', value: 1, ours: false, text: '<script>' }] }]);
    checkWellFormed(svg);
    expect(svg).not.toContain('<b>');
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<panel>');
    expect(svg).toContain('x &lt; y &amp; &quot;z&quot;');
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toContain('it&apos;s');
  });

  test('a value that is missing, zero or negative draws an empty bar and says n/a when not finite', () => {
    const svg = renderChart('t', 's', [
      {
        title: 'p',
        unit: 'MB/s',
        bars: [
          { label: 'none', value: Number.NaN, ours: true },
          { label: 'zero', value: 0, ours: true },
          { label: 'negative', value: -5, ours: false },
        ],
      },
    ]);
    checkWellFormed(svg);
    expect(barWidths(svg)).toEqual([0, 0, 0]);
    expect(svg).not.toMatch(/NaN|Infinity|="-/);
    expect(svg).toContain('n/a');
  });
});

describe('escapeXml', () => {
  test('replaces the five markup characters and nothing else', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a> é`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt; é');
  });
});
