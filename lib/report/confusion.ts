import * as d3 from 'd3';
import { newSvg, slug } from './svg.js';

export interface ConfusionChart {
  readonly id: string;
  readonly title: string;
  /** Rows: predicted class, columns: true class. */
  readonly matrix: readonly (readonly number[])[];
  readonly classNames: readonly string[];
}

const CELL = 46;
const MARGIN = { top: 44, right: 110, bottom: 118, left: 118 } as const;

/** Relative luminance of a `rgb(...)` colour, to pick black or white text on it. */
const luminance = (colour: string): number => {
  const c = d3.rgb(colour);
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
};

/**
 * The heat map colours each cell by its share of its column (the true class), so the diagonal reads as
 * per-class recall whatever the class sizes; the cell text is the count, as in the study's figures.
 */
export const confusionChart = (c: ConfusionChart): string => {
  const n = c.matrix.length;
  const width = MARGIN.left + n * CELL + MARGIN.right;
  const height = MARGIN.top + n * CELL + MARGIN.bottom;
  const { svg, serialize } = newSvg(width, height, c.title);
  const colSums = Array.from({ length: n }, (_, j) => c.matrix.reduce((a, row) => a + (row[j] ?? 0), 0));
  const colour = (share: number) => d3.interpolateBlues(0.05 + 0.95 * share);
  svg
    .append('text')
    .attr('class', 'chart-title')
    .attr('x', MARGIN.left)
    .attr('y', 24)
    .attr('font-size', 15)
    .attr('font-weight', 'bold')
    .text(c.title);
  const g = svg.append('g').attr('class', 'matrix').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
  c.matrix.forEach((row, i) =>
    row.forEach((count, j) => {
      const share = colSums[j]! > 0 ? count / colSums[j]! : 0;
      const fill = colour(share);
      const cell = g
        .append('g')
        .attr('class', i === j ? 'cell diagonal' : 'cell')
        .attr('data-row', i)
        .attr('data-col', j)
        .attr('data-count', count)
        .attr('transform', `translate(${j * CELL},${i * CELL})`);
      cell
        .append('rect')
        .attr('width', CELL)
        .attr('height', CELL)
        .attr('fill', fill)
        .attr('stroke', '#ffffff')
        .attr('stroke-width', 1);
      cell
        .append('text')
        .attr('x', CELL / 2)
        .attr('y', CELL / 2 + 4)
        .attr('text-anchor', 'middle')
        .attr('font-size', 11)
        .attr('font-weight', i === j ? 'bold' : null)
        .attr('fill', luminance(fill) < 0.35 ? '#ffffff' : '#000000')
        .text(String(count));
    }),
  );
  // Outlines of the diagonal drawn last, so that no neighbouring cell covers them.
  g.append('g')
    .attr('class', 'diagonal-outline')
    .selectAll('rect')
    .data(c.matrix.map((_, i) => i))
    .join('rect')
    .attr('x', (i) => i * CELL + 1)
    .attr('y', (i) => i * CELL + 1)
    .attr('width', CELL - 2)
    .attr('height', CELL - 2)
    .attr('fill', 'none')
    .attr('stroke', '#08306b')
    .attr('stroke-width', 2);
  const names = c.classNames;
  g.append('g')
    .attr('class', 'row-labels')
    .selectAll('text')
    .data(names)
    .join('text')
    .attr('class', 'class-name')
    .attr('x', -6)
    .attr('y', (_, i) => i * CELL + CELL / 2 + 4)
    .attr('text-anchor', 'end')
    .attr('font-size', 11)
    .text((d) => d);
  g.append('g')
    .attr('class', 'col-labels')
    .selectAll('text')
    .data(names)
    .join('text')
    .attr('class', 'class-name')
    .attr('transform', (_, j) => `translate(${j * CELL + CELL / 2 + 4},${n * CELL + 8}) rotate(-50)`)
    .attr('text-anchor', 'end')
    .attr('font-size', 11)
    .text((d) => d);
  svg
    .append('text')
    .attr('class', 'axis-title x-title')
    .attr('x', MARGIN.left + (n * CELL) / 2)
    .attr('y', height - 10)
    .attr('text-anchor', 'middle')
    .text('True class (column)');
  svg
    .append('text')
    .attr('class', 'axis-title y-title')
    .attr('transform', `translate(16,${MARGIN.top + (n * CELL) / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text('Predicted class (row)');
  // A stepped colour key, drawn as rects so that every renderer shows the same thing.
  const key = svg.append('g').attr('class', 'colour-key').attr('transform', `translate(${MARGIN.left + n * CELL + 24},${MARGIN.top})`);
  const steps = 10;
  const kh = (n * CELL) / steps;
  for (let k = 0; k < steps; k++)
    key
      .append('rect')
      .attr('y', k * kh)
      .attr('width', 16)
      .attr('height', kh + 0.5)
      .attr('fill', colour(1 - (k + 0.5) / steps));
  [0, 0.5, 1].forEach((v) =>
    key
      .append('text')
      .attr('x', 22)
      .attr('y', (1 - v) * n * CELL + 4)
      .attr('font-size', 10)
      .text(`${Math.round(v * 100)} %`),
  );
  key
    .append('text')
    .attr('transform', `translate(70,${(n * CELL) / 2}) rotate(90)`)
    .attr('text-anchor', 'middle')
    .attr('font-size', 11)
    .text('share of true class');
  svg.attr('id', `${slug(c.id)}`);
  return serialize();
};
