/**
 * Charts as inline SVG, drawn here in TypeScript so the report needs no script and no external file.
 * Every text that reaches the SVG goes through escapeHtml; labels are cut to a readable length with
 * the full text in a <title> tooltip.
 */
import { escapeHtml, truncate } from './escape.js';

export interface BarItem {
  readonly label: string;
  readonly value: number;
  /** CSS colour; a palette colour when absent. */
  readonly color?: string;
}

export interface StackedSeries {
  readonly label: string;
  /** One value per category, aligned with StackedChartData.categories. */
  readonly values: readonly number[];
}

export interface StackedChartData {
  readonly categories: readonly string[];
  readonly series: readonly StackedSeries[];
}

export interface ChartText {
  /** The chart's accessible name. */
  readonly title: string;
  readonly formatNumber: (value: number) => string;
  /** Axis or category labels, e.g. a day in the locale's short format. */
  readonly formatCategory?: (category: string) => string;
  readonly yAxisLabel?: string;
}

/** Colour-blind-safe palette (Okabe–Ito). */
export const PALETTE: readonly string[] = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#777777',
];

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';
const LABEL_CHARS = 32;

function paletteColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** A round axis maximum ≥ value: 1, 2 or 5 times a power of ten. */
export function niceMaximum(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value)!;
}

function svgOpen(width: number, height: number, className: string, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart ${className}" role="img" width="${width}" ` +
    `height="${height}" viewBox="0 0 ${width} ${height}" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title>`
  );
}

function text(x: number, y: number, content: string, anchor: 'start' | 'middle' | 'end', extra = ''): string {
  return `<text x="${x}" y="${y}" text-anchor="${anchor}" ${FONT}${extra}>${escapeHtml(content)}</text>`;
}

/** A horizontal bar chart: one `rect.bar` per item, label on the left, value on the right. */
export function barChart(items: readonly BarItem[], chartText: ChartText): string {
  const rowHeight = 26;
  const labelWidth = 230;
  const barWidth = 380;
  const width = labelWidth + barWidth + 90;
  const height = Math.max(1, items.length) * rowHeight + 10;
  const max = Math.max(1, ...items.map((item) => item.value));
  const rows = items.map((item, index) => {
    const y = 5 + index * rowHeight;
    const length = item.value === 0 ? 0 : Math.max(2, (item.value / max) * barWidth);
    const color = item.color ?? paletteColor(index);
    return (
      `<g class="row"><title>${escapeHtml(`${item.label}: ${chartText.formatNumber(item.value)}`)}</title>` +
      text(labelWidth - 8, y + 17, truncate(item.label, LABEL_CHARS), 'end') +
      `<rect class="bar" x="${labelWidth}" y="${y + 4}" width="${length.toFixed(1)}" height="${rowHeight - 8}" fill="${escapeHtml(color)}"/>` +
      text(labelWidth + length + 6, y + 17, chartText.formatNumber(item.value), 'start') +
      '</g>'
    );
  });
  return `${svgOpen(width, height, 'bar-chart', chartText.title)}${rows.join('')}</svg>`;
}

function yAxis(max: number, plot: Plot, chartText: ChartText): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => {
    const y = plot.top + plot.height * (1 - share);
    return (
      `<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}" stroke="#ddd"/>` +
      text(plot.left - 6, y + 4, chartText.formatNumber(max * share), 'end')
    );
  });
  const label =
    chartText.yAxisLabel === undefined
      ? ''
      : text(plot.left, plot.top - 8, chartText.yAxisLabel, 'start', ' fill="#555"');
  return ticks.join('') + label;
}

interface Plot {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

function xLabels(categories: readonly string[], plot: Plot, chartText: ChartText): string {
  const step = Math.max(1, Math.ceil(categories.length / 10));
  const slot = plot.width / Math.max(1, categories.length);
  return categories
    .map((category, index) => {
      if (index % step !== 0) return '';
      const label = chartText.formatCategory?.(category) ?? category;
      return text(plot.left + slot * (index + 0.5), plot.top + plot.height + 16, label, 'middle');
    })
    .join('');
}

function legend(series: readonly StackedSeries[], top: number, left: number): string {
  return series
    .map((item, index) => {
      const x = left + (index % 3) * 230;
      const y = top + Math.floor(index / 3) * 20;
      return (
        `<g class="legend-item"><title>${escapeHtml(item.label)}</title>` +
        `<rect x="${x}" y="${y}" width="12" height="12" fill="${paletteColor(index)}"/>` +
        text(x + 18, y + 11, truncate(item.label, LABEL_CHARS - 4), 'start') +
        '</g>'
      );
    })
    .join('');
}

function seriesBars(data: StackedChartData, plot: Plot, max: number): string {
  const slot = plot.width / Math.max(1, data.categories.length);
  const barWidth = Math.max(1, slot * 0.7);
  const stacked = data.categories.map(() => 0);
  return data.series
    .map((series, seriesIndex) => {
      const rects = series.values.map((value, index) => {
        if (value <= 0) return '';
        const below = stacked[index]!;
        stacked[index] = below + value;
        const y = plot.top + plot.height * (1 - (below + value) / max);
        const h = (plot.height * value) / max;
        const x = plot.left + slot * index + (slot - barWidth) / 2;
        return `<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${Math.max(0.5, h).toFixed(1)}"/>`;
      });
      return `<g class="series" fill="${paletteColor(seriesIndex)}"><title>${escapeHtml(series.label)}</title>${rects.join('')}</g>`;
    })
    .join('');
}

/** A stacked bar chart: one `g.series` per series (with a `rect.bar` per non-zero value) and a legend. */
export function stackedBarChart(data: StackedChartData, chartText: ChartText): string {
  const width = 760;
  const legendRows = Math.ceil(data.series.length / 3);
  const plot: Plot = { left: 60, top: 24, width: width - 80, height: 220 };
  const height = plot.top + plot.height + 34 + legendRows * 20;
  const totals = data.categories.map((_, index) =>
    data.series.reduce((sum, s) => sum + (s.values[index] ?? 0), 0),
  );
  const max = niceMaximum(Math.max(0, ...totals));
  return (
    svgOpen(width, height, 'stacked-chart', chartText.title) +
    yAxis(max, plot, chartText) +
    seriesBars(data, plot, max) +
    xLabels(data.categories, plot, chartText) +
    legend(data.series, plot.top + plot.height + 28, plot.left) +
    '</svg>'
  );
}
