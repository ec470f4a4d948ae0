/**
 * A horizontal bar chart as a standalone SVG document, written by hand (no dependency): panels
 * of bars, each panel scaled to its own largest value, since MB/s of a hash and of a swarm
 * differ by an order of magnitude. Our own bars are drawn in one colour, the others' in another.
 */

export interface ChartBar {
  label: string;
  value: number;
  /** Printed after the bar; the value with the panel's unit when absent. */
  text?: string;
  /** One of ours (drawn in our colour) rather than a reference. */
  ours: boolean;
}

export interface ChartPanel {
  title: string;
  unit: string;
  bars: ChartBar[];
}

const WIDTH = 900;
const MARGIN = 16;
const LABEL_WIDTH = 300;
const BAR_AREA = 400;
const BAR_HEIGHT = 18;
const BAR_GAP = 6;
const TITLE_HEIGHT = 34;
const PANEL_TITLE_HEIGHT = 26;
const PANEL_GAP = 14;
const COLOURS = { ours: '#2b6cb0', theirs: '#a0aec0', text: '#1a202c', muted: '#4a5568' };

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text made safe for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** A number for an attribute: finite, two decimals at most. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** The chart as an SVG document: a title, a subtitle line, then the panels one under another. */
export function renderChart(title: string, subtitle: string, panels: readonly ChartPanel[]): string {
  const out: string[] = [];
  let y = MARGIN + TITLE_HEIGHT;
  const body: string[] = [];
  for (const panel of panels) {
    body.push(`<text x="${MARGIN}" y="${n(y + 16)}" font-weight="bold" fill="${COLOURS.text}">${escapeXml(panel.title)}</text>`);
    y += PANEL_TITLE_HEIGHT;
    const finite = panel.bars.map((bar) => (Number.isFinite(bar.value) && bar.value > 0 ? bar.value : 0));
    const largest = Math.max(0, ...finite);
    panel.bars.forEach((bar, i) => {
      const width = largest > 0 ? (finite[i] / largest) * BAR_AREA : 0;
      const x = MARGIN + LABEL_WIDTH;
      const textY = n(y + BAR_HEIGHT - 5);
      body.push(`<text x="${n(x - 8)}" y="${textY}" text-anchor="end" fill="${COLOURS.text}">${escapeXml(bar.label)}</text>`);
      body.push(
        `<rect class="bar ${bar.ours ? 'ours' : 'theirs'}" x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${BAR_HEIGHT}" fill="${bar.ours ? COLOURS.ours : COLOURS.theirs}"/>`,
      );
      body.push(`<text x="${n(x + width + 6)}" y="${textY}" fill="${COLOURS.muted}">${escapeXml(bar.text ?? formatValue(bar.value, panel.unit))}</text>`);
      y += BAR_HEIGHT + BAR_GAP;
    });
    y += PANEL_GAP;
  }
  const height = y + MARGIN;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${n(height)}" viewBox="0 0 ${WIDTH} ${n(height)}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${n(height)}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 14}" font-size="16" font-weight="bold" fill="${COLOURS.text}">${escapeXml(title)}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 30}" fill="${COLOURS.muted}">${escapeXml(subtitle)}</text>`,
    ...body,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
