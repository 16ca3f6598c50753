import * as d3 from 'd3';
import { colorFor } from './palette.js';
import { CHART, chartFrame } from './frame.js';

/** One row of a strip chart: a label on the y axis and its values as dots. */
export interface StripRow {
  readonly label: string;
  /** The legend entry (and colour) the row's dots belong to, e.g. the stack or the optimizer. */
  readonly group: string;
  readonly values: readonly number[];
}

export interface StripChart {
  readonly title: string;
  readonly xLabel: string;
  readonly rows: readonly StripRow[];
  /** A vertical rule, e.g. a stall criterion, labelled at its top. */
  readonly threshold?: { readonly value: number; readonly label: string };
}

/** A deterministic jitter in [-0.5, 0.5) from the row and the value's index, so a figure is the same each time. */
const jitter = (row: number, i: number): number => (((Math.imul(row * 7919 + i, 0x9e3779b1) >>> 0) % 1000) / 1000 - 0.5);

/**
 * Every value as a dot, one row per label: the shape of a distribution over seeds (bimodal, say) that a
 * mean and a band would hide. Rows are drawn top to bottom in the order given.
 */
export const stripChart = (c: StripChart): string => {
  const { margin } = CHART;
  const rowHeight = 34;
  const height = margin.top + margin.bottom + Math.max(4, c.rows.length) * rowHeight;
  // Room for the row labels on the left.
  const { svg, plot, pw, ph, axes, legend, serialize } = chartFrame({ title: c.title, xLabel: c.xLabel, yLabel: '', height, marginLeft: 120 });
  const values = c.rows.flatMap((r) => r.values).concat(c.threshold ? [c.threshold.value] : []);
  const x = d3
    .scaleLinear()
    .domain(values.length > 0 ? (d3.extent(values) as [number, number]) : [0, 1])
    .range([0, pw])
    .nice();
  const y = d3
    .scaleBand<number>()
    .domain(c.rows.map((_, i) => i))
    .range([0, ph])
    .padding(0.2);
  axes(
    d3.axisBottom(x).ticks(8),
    d3.axisLeft(y as unknown as d3.AxisScale<d3.NumberValue>).tickFormat((i) => c.rows[Number(i)]?.label ?? ''),
  );
  svg.select('.y-title').remove();
  plot
    .append('g')
    .attr('class', 'grid')
    .selectAll('line')
    .data(x.ticks(8))
    .join('line')
    .attr('x1', (t) => x(t))
    .attr('x2', (t) => x(t))
    .attr('y1', 0)
    .attr('y2', ph)
    .attr('stroke', '#eeeeee');
  if (c.threshold) {
    const tx = x(c.threshold.value);
    const rule = plot.append('g').attr('class', 'threshold').attr('data-value', c.threshold.value);
    rule.append('line').attr('x1', tx).attr('x2', tx).attr('y1', 0).attr('y2', ph).attr('stroke', '#444').attr('stroke-dasharray', '5 4');
    rule.append('text').attr('x', tx + 4).attr('y', 10).attr('font-size', 11).text(c.threshold.label);
  }
  c.rows.forEach((row, r) => {
    const band = y(r)!;
    plot
      .append('g')
      .attr('class', 'strip')
      .attr('data-label', row.label)
      .attr('data-group', row.group)
      .selectAll('circle')
      .data(row.values)
      .join('circle')
      .attr('cx', (v) => x(v))
      .attr('cy', (_, i) => band + y.bandwidth() / 2 + jitter(r, i) * y.bandwidth() * 0.8)
      .attr('r', 3.2)
      .attr('fill', colorFor(row.group))
      .attr('fill-opacity', 0.75)
      .attr('data-value', (v) => v);
  });
  const groups = [...new Set(c.rows.map((r) => r.group))];
  const key = legend();
  groups.forEach((g, i) => {
    const e = key.append('g').attr('class', 'legend-entry').attr('data-label', g).attr('transform', `translate(0,${i * 20})`);
    e.append('circle').attr('cx', 8).attr('cy', 0).attr('r', 5).attr('fill', colorFor(g));
    e.append('text').attr('x', 20).attr('y', 4).text(g);
  });
  return serialize();
};
