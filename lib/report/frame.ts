import type * as d3 from 'd3';
import { newSvg, type Svg } from './svg.js';

/** Every chart's size: the plot on the left, the legend in the right margin. */
export const CHART = { width: 780, height: 420, margin: { top: 40, right: 190, bottom: 54, left: 72 } } as const;

export interface Frame {
  readonly svg: Svg;
  /** The plot area, its origin at the top left of the axes. */
  readonly plot: Svg;
  /** Plot width and height. */
  readonly pw: number;
  readonly ph: number;
  /** Draws the axes (x at the bottom, y on the left) in the chart's type. */
  readonly axes: (x: d3.Axis<d3.NumberValue>, y: d3.Axis<d3.NumberValue>, xScale?: 'linear' | 'log') => void;
  /** The legend column in the right margin (make it after the data, so that it is drawn on top). */
  readonly legend: () => Svg;
  readonly serialize: () => string;
}

/**
 * The frame every chart of a report shares: an SVG of CHART's width (and `height`), its title, the plot area,
 * the axis titles and the legend's place. Line charts and scatter charts draw their data into it.
 */
export const chartFrame = (c: {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly height?: number;
  /** A wider left margin, for charts whose y axis carries labels rather than numbers. */
  readonly marginLeft?: number;
}): Frame => {
  const { width } = CHART;
  const margin = { ...CHART.margin, left: c.marginLeft ?? CHART.margin.left };
  const height = c.height ?? CHART.height;
  const { svg, serialize } = newSvg(width, height, c.title);
  const pw = width - margin.left - margin.right;
  const ph = height - margin.top - margin.bottom;
  svg.append('text').attr('class', 'chart-title').attr('x', margin.left).attr('y', 22).attr('font-size', 15).attr('font-weight', 'bold').text(c.title);
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${margin.left},${margin.top})`) as Svg;
  svg.append('text').attr('class', 'axis-title x-title').attr('x', margin.left + pw / 2).attr('y', height - 12).attr('text-anchor', 'middle').text(c.xLabel);
  svg
    .append('text')
    .attr('class', 'axis-title y-title')
    .attr('transform', `translate(18,${margin.top + ph / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(c.yLabel);
  const axes = (x: d3.Axis<d3.NumberValue>, y: d3.Axis<d3.NumberValue>, xScale: 'linear' | 'log' = 'linear'): void => {
    plot.append('g').attr('class', 'axis x-axis').attr('data-scale', xScale).attr('transform', `translate(0,${ph})`).call(x);
    plot.append('g').attr('class', 'axis y-axis').call(y);
    plot.selectAll('.axis text').attr('font-family', null).attr('font-size', 11);
    plot.selectAll('.axis').attr('font-family', null);
  };
  const legend = (): Svg => svg.append('g').attr('class', 'legend').attr('transform', `translate(${width - margin.right + 18},${margin.top})`) as Svg;
  return { svg, plot, pw, ph, axes, legend, serialize };
};
