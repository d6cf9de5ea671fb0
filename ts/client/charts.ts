// Bar charts, drawn by Chartist (SVG). Each series has a fill pattern as well as a colour,
// so a chart reads in grey or black and white too, and a legend names the patterns. A
// chart is a picture of the table next to it: it is one image to assistive technology,
// described by a sentence with its top figures; the numbers are in the table.
import { BarChart } from 'chartist';
import { h, num, svg } from './dom.js';

/** The fills, in the order series take them. */
export const PATTERNS = ['solid', 'hatch', 'dots', 'cross', 'hlines', 'vlines', 'checks', 'bdiag'] as const;
export type Pattern = typeof PATTERNS[number];

/** One hidden <svg> with a <pattern> per fill, referenced by the charts' CSS as url(#p-NAME). */
export function patternDefs(): SVGElement {
  const P = 8;
  const pat = (id: Pattern, bg: string, ...marks: Element[]) =>
    svg('pattern', { id: `p-${id}`, patternUnits: 'userSpaceOnUse', width: P, height: P }, svg('rect', { width: P, height: P, fill: bg }), ...marks);
  const ink = '#1a1a1a';
  const line = (d: string, w = 1.5) => svg('path', { d, stroke: ink, 'stroke-width': w, fill: 'none' });
  const defs = svg('defs', {},
    pat('solid', '#2f6db5'),
    pat('hatch', '#e8a33d', line('M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4')),
    pat('dots', '#b2d3a8', svg('circle', { cx: 4, cy: 4, r: 1.6, fill: ink })),
    pat('cross', '#d9534f', line('M0,0 L8,8 M8,0 L0,8', 1.2)),
    pat('hlines', '#f2f2f2', line('M0,4 H8', 2)),
    pat('vlines', '#c9b3e6', line('M4,0 V8', 2)),
    pat('checks', '#ffffff', svg('rect', { width: 4, height: 4, fill: ink }), svg('rect', { x: 4, y: 4, width: 4, height: 4, fill: ink })),
    pat('bdiag', '#8fd0d8', line('M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4')),
  );
  return svg('svg', { width: 0, height: 0, 'aria-hidden': 'true', focusable: 'false', class: 'pattern-defs' }, defs);
}

export interface Series {
  name: string;
  pattern: Pattern;
  values: number[];
}

export interface BarChartSpec {
  id: string;
  caption: string;
  /** The sentence assistive technology reads for the picture. */
  description: string;
  labels: string[];
  series: Series[];
}

/** A figure with a horizontal stacked bar chart, its legend, and its caption. */
export function stackedBars(spec: BarChartSpec): HTMLElement {
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' }, spec.series.map((s) =>
    h('li', null, swatch(s.pattern), ` ${s.name}`)));
  const plot = h('div', { class: 'chart', id: spec.id, role: 'img', 'aria-label': spec.description });
  plot.style.height = `${Math.max(90, 26 * spec.labels.length + 44)}px`;
  const figure = h('figure', { class: 'chart-figure' }, h('figcaption', null, spec.caption), legend, plot);
  const longest = spec.labels.reduce((m, l) => Math.max(m, l.length), 0);
  const chart = new BarChart(plot, {
    labels: spec.labels,
    series: spec.series.map((s) => ({ name: s.name, className: `pat-${s.pattern}`, data: s.values })),
  }, {
    horizontalBars: true,
    stackBars: true,
    reverseData: true,
    seriesBarDistance: 0,
    chartPadding: { top: 8, right: 24, bottom: 4, left: 8 },
    axisX: { onlyInteger: true, labelInterpolationFnc: (v: unknown) => num(Number(v)) },
    axisY: { offset: Math.min(260, 16 + 7 * longest), showGrid: false },
  });
  // the SVG is decoration of the described div; keep it out of the accessibility tree
  chart.on('created', () => plot.querySelector('svg')?.setAttribute('aria-hidden', 'true'));
  return figure;
}

export function swatch(p: Pattern): SVGElement {
  return svg('svg', { class: 'swatch', width: 18, height: 12, viewBox: '0 0 18 12', 'aria-hidden': 'true', focusable: 'false' },
    svg('rect', { width: 18, height: 12, fill: `url(#p-${p})`, stroke: '#1a1a1a', 'stroke-width': 1 }));
}

/** "read 120, close 80 and 3 more" */
export function describeTop(labels: string[], totals: number[], what: string, n = 5): string {
  const parts = labels.slice(0, n).map((l, i) => `${l} ${num(totals[i]!)}`);
  const more = labels.length > n ? `, and ${labels.length - n} more` : '';
  return `${what}: ${parts.join(', ')}${more}.`;
}
