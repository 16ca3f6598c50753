import * as d3 from 'd3';
import { colorFor } from './palette.js';
import { CHART, chartFrame } from './frame.js';
import { slug } from './svg.js';

export interface LinePoint {
  readonly x: number;
  readonly y: number;
  readonly lo: number;
  readonly hi: number;
}

export interface LineSeries {
  readonly label: string;
  readonly split: 'train' | 'test';
  readonly points: readonly LinePoint[];
  /** Draw a min-max band (several seeds). */
  readonly band: boolean;
}

export interface LineChart {
  /** Unique per page: prefixes the ids inside the SVG. */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly integerX: boolean;
  readonly series: readonly LineSeries[];
  /** Legend entries, in order (every label that has a series). */
  readonly labels: readonly string[];
}

const extent = (xs: readonly number[], pad: number): [number, number] => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  return lo === hi ? [lo - pad, hi + pad] : [lo, hi];
};

/** Lines per label and split (train dashed, test solid), bands where several seeds, legend outside the plot. */
export const lineChart = (c: LineChart): string => {
  const { width, margin } = CHART;
  // Taller when the legend (one row per label, plus the line-style key) would not fit beside the plot.
  const height = Math.max(CHART.height, margin.top + (c.labels.length + 4) * 20 + margin.bottom);
  const { svg, plot, pw, ph, axes, legend: makeLegend, serialize } = chartFrame({ title: c.title, xLabel: c.xLabel, yLabel: c.yLabel, height });
  const pts = c.series.flatMap((s) => s.points);
  const [x0, x1] = extent(pts.map((p) => p.x), c.integerX ? 0.5 : 1);
  // Time axes start where training starts, at 0 s.
  const x = d3
    .scaleLinear()
    .domain(c.integerX ? [x0, x1] : [Math.min(0, x0), x1])
    .range([0, pw]);
  if (!c.integerX) x.nice();
  const y = d3
    .scaleLinear()
    .domain(extent(pts.flatMap((p) => [p.lo, p.hi, p.y]), 1))
    .range([ph, 0])
    .nice();
  const clip = `${slug(c.id)}-clip`;
  // The clip leaves a few pixels around the plot so that end points and thick lines are not cut in half.
  svg
    .append('defs')
    .append('clipPath')
    .attr('id', clip)
    .append('rect')
    .attr('x', -4)
    .attr('y', -4)
    .attr('width', pw + 8)
    .attr('height', ph + 8);
  const xTicks = c.integerX
    ? x.ticks(Math.min(10, Math.max(1, Math.round(x.domain()[1]! - x.domain()[0]!)))).filter(Number.isInteger)
    : x.ticks(8);
  axes(d3.axisBottom(x).tickValues(xTicks).tickFormat(d3.format(c.integerX ? 'd' : '~g')), d3.axisLeft(y).ticks(8));
  plot
    .append('g')
    .attr('class', 'grid')
    .selectAll('line')
    .data(y.ticks(8))
    .join('line')
    .attr('x1', 0)
    .attr('x2', pw)
    .attr('y1', (t) => y(t))
    .attr('y2', (t) => y(t))
    .attr('stroke', '#e5e5e5');
  const data = plot.append('g').attr('class', 'data').attr('clip-path', `url(#${clip})`);
  const area = d3
    .area<LinePoint>()
    .x((p) => x(p.x))
    .y0((p) => y(p.lo))
    .y1((p) => y(p.hi));
  const line = d3
    .line<LinePoint>()
    .x((p) => x(p.x))
    .y((p) => y(p.y));
  for (const s of c.series.filter((s) => s.band && s.points.length > 0))
    data
      .append('path')
      .attr('class', 'band')
      .attr('data-label', s.label)
      .attr('data-split', s.split)
      .attr('fill', colorFor(s.label))
      .attr('fill-opacity', s.split === 'test' ? 0.18 : 0.1)
      .attr('stroke', 'none')
      .attr('d', area([...s.points]));
  // Test lines last so that they sit on top of the (dashed) training lines.
  const ordered = [...c.series.filter((s) => s.split === 'train'), ...c.series.filter((s) => s.split === 'test')];
  for (const s of ordered.filter((s) => s.points.length > 0)) {
    data
      .append('path')
      .attr('class', 'line')
      .attr('data-label', s.label)
      .attr('data-split', s.split)
      .attr('data-points', s.points.length)
      .attr('fill', 'none')
      .attr('stroke', colorFor(s.label))
      .attr('stroke-width', s.split === 'test' ? 2 : 1.6)
      .attr('stroke-dasharray', s.split === 'train' ? '6 4' : null)
      .attr('d', line([...s.points]));
    if (s.points.length === 1)
      data
        .append('circle')
        .attr('class', 'point')
        .attr('cx', x(s.points[0]!.x))
        .attr('cy', y(s.points[0]!.y))
        .attr('r', 3)
        .attr('fill', colorFor(s.label));
  }
  const legend = makeLegend();
  c.labels.forEach((label, i) => {
    const e = legend
      .append('g')
      .attr('class', 'legend-entry')
      .attr('data-label', label)
      .attr('transform', `translate(0,${i * 20})`);
    e.append('line').attr('x1', 0).attr('x2', 26).attr('y1', 0).attr('y2', 0).attr('stroke', colorFor(label)).attr('stroke-width', 3);
    e.append('text').attr('x', 32).attr('y', 4).text(label.length > 22 ? `${label.slice(0, 21)}…` : label);
  });
  const splits = [...new Set(c.series.map((s) => s.split))].sort().reverse();
  const keyTop = c.labels.length * 20 + 14;
  splits.forEach((split, i) => {
    const e = legend.append('g').attr('class', 'legend-split').attr('transform', `translate(0,${keyTop + i * 20})`);
    e.append('line')
      .attr('x1', 0)
      .attr('x2', 26)
      .attr('stroke', '#444')
      .attr('stroke-width', 2)
      .attr('stroke-dasharray', split === 'train' ? '6 4' : null);
    e.append('text').attr('x', 32).attr('y', 4).text(split === 'train' ? 'training' : 'test');
  });
  if (c.series.some((s) => s.band)) {
    const e = legend
      .append('g')
      .attr('class', 'legend-band')
      .attr('transform', `translate(0,${keyTop + splits.length * 20})`);
    e.append('rect').attr('y', -6).attr('width', 26).attr('height', 12).attr('fill', '#444').attr('fill-opacity', 0.2);
    e.append('text').attr('x', 32).attr('y', 4).text('min–max over seeds');
  }
  return serialize();
};
