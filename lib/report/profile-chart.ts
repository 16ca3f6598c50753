import { axisBottom, axisLeft, curveStepAfter, format, line, scaleLinear } from 'd3';
import { colorFor } from './palette.js';
import { CHART, chartFrame } from './frame.js';
import type { PerformanceProfile } from './profile.js';
import { slug } from './svg.js';

export interface ProfileChart {
  /** Unique per page: prefixes the ids inside the SVG. */
  readonly id: string;
  readonly title: string;
  /** What the ratio is of, e.g. "training seconds to the target". */
  readonly measure: string;
  readonly profile: PerformanceProfile;
}

/**
 * A performance profile as a figure (data in, SVG out): for each solver the step function rho(tau), the
 * fraction of workloads on which its time is within a factor tau of the fastest, for tau from 1 to
 * tauMax, one colour per solver as in every figure; the legend gives each solver's score (the normalised
 * area under its line), best first. Lines are drawn 1.5 px apart so that lines that coincide stay visible.
 */
export const profileChart = (c: ProfileChart): string => {
  const { margin } = CHART;
  const rows = [...c.profile.rows].sort((a, b) => b.score - a.score || (a.solver < b.solver ? -1 : 1));
  const height = Math.max(CHART.height, margin.top + (rows.length + 2) * 20 + margin.bottom);
  const { svg, plot, pw, ph, axes, legend, serialize } = chartFrame({
    title: c.title,
    xLabel: `τ: ratio of ${c.measure} to the fastest optimizer's`,
    yLabel: `ρ(τ): fraction of the ${c.profile.workloads.length} workload${c.profile.workloads.length === 1 ? '' : 's'}`,
    height,
  });
  const x = scaleLinear().domain([1, c.profile.tauMax]).range([0, pw]);
  // A little room below 0 and above 1, so that a line at either end is not drawn on the axis or the frame.
  const y = scaleLinear().domain([-0.04, 1.04]).range([ph, 0]);
  axes(axisBottom(x).ticks(c.profile.tauMax * 2).tickFormat(format('~g')), axisLeft(y).tickValues([0, 0.2, 0.4, 0.6, 0.8, 1]).tickFormat(format('.0%')));
  plot
    .append('g')
    .attr('class', 'grid')
    .selectAll('line')
    .data([0, 0.2, 0.4, 0.6, 0.8, 1])
    .join('line')
    .attr('x1', 0)
    .attr('x2', pw)
    .attr('y1', (t) => y(t))
    .attr('y2', (t) => y(t))
    .attr('stroke', '#e5e5e5');
  const clip = `${slug(c.id)}-clip`;
  svg.append('defs').append('clipPath').attr('id', clip).append('rect').attr('x', -4).attr('y', -4).attr('width', pw + 8).attr('height', ph + 8);
  const data = plot.append('g').attr('class', 'data').attr('clip-path', `url(#${clip})`);
  // Each line 1.5 px from the next (the best highest and drawn last), so that lines that coincide on a
  // stretch all stay visible; the spread is a few pixels, about 1 % of the axis per 4 lines.
  const shift = (i: number) => ((rows.length - 1) / 2 - i) * 1.5;
  [...rows.entries()].reverse().forEach(([i, row]) => {
    const points = [...row.steps, { tau: c.profile.tauMax, rho: row.steps[row.steps.length - 1]?.rho ?? 0 }];
    const path = line<{ tau: number; rho: number }>()
      .x((p) => x(p.tau))
      .y((p) => y(p.rho) - shift(i))
      .curve(curveStepAfter);
    data
      .append('path')
      .attr('class', 'profile')
      .attr('data-label', row.solver)
      .attr('data-score', row.score)
      .attr('data-steps', JSON.stringify(row.steps.map((p) => [p.tau, p.rho])))
      .attr('fill', 'none')
      .attr('stroke', colorFor(row.solver))
      .attr('stroke-width', 2)
      .attr('d', path(points));
  });
  const key = legend();
  rows.forEach((row, i) => {
    const e = key.append('g').attr('class', 'legend-entry').attr('data-label', row.solver).attr('transform', `translate(0,${i * 20})`);
    e.append('line').attr('x1', 0).attr('x2', 26).attr('stroke', colorFor(row.solver)).attr('stroke-width', 3);
    const name = row.solver.length > 16 ? `${row.solver.slice(0, 15)}…` : row.solver;
    e.append('text').attr('x', 32).attr('y', 4).text(`${name} ${row.score.toFixed(3)}`);
  });
  const note = key.append('text').attr('class', 'legend-note').attr('y', rows.length * 20 + 10).attr('font-size', 11);
  note.append('tspan').attr('x', 0).text('score: the area under ρ');
  note.append('tspan').attr('x', 0).attr('dy', 14).text(`from τ = 1 to ${c.profile.tauMax}, over ${c.profile.tauMax - 1}`);
  return serialize();
};
