import * as d3 from 'd3';
import { chartFrame } from './frame.js';

export interface XY {
  readonly x: number;
  readonly y: number;
}
export interface ScatterSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly XY[];
  readonly line: boolean;
  readonly dashed?: boolean;
}
export interface Scatter {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logX: boolean;
  /** Whole-number ticks only (epochs). */
  readonly integerX?: boolean;
  readonly series: readonly ScatterSeries[];
  /** Vertical guides (ASHA's rungs). */
  readonly guides?: readonly { x: number; label: string }[];
}

/** Points (and optionally lines) over a linear or log x axis, legend on the right. */
export const scatterChart = (c: Scatter): string => {
  const { plot, pw, ph, axes, legend: makeLegend, serialize } = chartFrame(c);
  const pts = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.logX || p.x > 0));
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const xlo = xs.length ? Math.min(...xs) : 1;
  const xhi = xs.length ? Math.max(...xs) : 10;
  const x = c.logX
    ? d3.scaleLog().domain(xlo === xhi ? [xlo / 2, xhi * 2] : [xlo, xhi]).range([0, pw]).nice()
    : d3.scaleLinear().domain(xlo === xhi ? [xlo - 1, xhi + 1] : [xlo, xhi]).range([0, pw]).nice();
  const ylo = ys.length ? Math.min(...ys) : 0;
  const yhi = ys.length ? Math.max(...ys) : 1;
  const y = d3.scaleLinear().domain(ylo === yhi ? [ylo - 1, yhi + 1] : [ylo, yhi]).range([ph, 0]).nice();
  const xAxis = c.logX
    ? d3.axisBottom(x).ticks(6, '~g')
    : c.integerX
      ? d3.axisBottom(x).tickValues(x.ticks(Math.min(10, Math.max(1, Math.round(xhi - xlo)))).filter(Number.isInteger)).tickFormat(d3.format('d'))
      : d3.axisBottom(x).ticks(8).tickFormat(d3.format('~g'));
  axes(xAxis as d3.Axis<d3.NumberValue>, d3.axisLeft(y).ticks(8), c.logX ? 'log' : 'linear');
  for (const g of c.guides ?? []) {
    plot.append('line').attr('class', 'guide').attr('x1', x(g.x)).attr('x2', x(g.x)).attr('y1', 0).attr('y2', ph).attr('stroke', '#bbb').attr('stroke-dasharray', '3 3');
    // The last guide's label goes left of its line, clear of the legend.
    const right = x(g.x) > pw - 60;
    plot
      .append('text')
      .attr('x', x(g.x) + (right ? -3 : 3))
      .attr('y', 10)
      .attr('text-anchor', right ? 'end' : 'start')
      .attr('font-size', 10)
      .attr('fill', '#555')
      .text(g.label);
  }
  const line = d3
    .line<XY>()
    .x((p) => x(p.x))
    .y((p) => y(p.y));
  for (const s of c.series) {
    const ok = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.logX || p.x > 0));
    if (s.line && ok.length > 1)
      plot
        .append('path')
        .attr('class', 'line')
        .attr('data-label', s.label)
        .attr('fill', 'none')
        .attr('stroke', s.color)
        .attr('stroke-width', 1.8)
        .attr('stroke-dasharray', s.dashed ? '5 4' : null)
        .attr('d', line([...ok]));
    for (const p of ok)
      plot.append('circle').attr('class', 'point').attr('data-label', s.label).attr('cx', x(p.x)).attr('cy', y(p.y)).attr('r', 3.5).attr('fill', s.color);
  }
  const labels = [...new Map(c.series.map((s) => [s.label, s])).values()];
  const legend = makeLegend();
  labels.forEach((s, i) => {
    const e = legend.append('g').attr('class', 'legend-entry').attr('data-label', s.label).attr('transform', `translate(0,${i * 20})`);
    e.append('circle').attr('cx', 13).attr('cy', 0).attr('r', 4).attr('fill', s.color);
    e.append('text').attr('x', 32).attr('y', 4).text(s.label.length > 22 ? `${s.label.slice(0, 21)}…` : s.label);
  });
  return serialize();
};

