import * as d3 from 'd3';
import type { VaeGrids } from '../train/events.js';
import { encodeGrayPng, pngDataUri } from './png.js';
import { newSvg } from './svg.js';

const SCALE = 2;

/** The style of every image tile (pixels drawn as squares, not blurred): the only style attribute a figure has. */
export const TILE_STYLE = 'image-rendering: pixelated';
const GAP = 2;

/** The `count` images of `rows x cols` bytes packed in a base64 string. */
const splitImages = (b64: string, rows: number, cols: number): Uint8Array[] => {
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  const size = rows * cols;
  return Array.from({ length: Math.floor(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
};

const imageUri = (pixels: Uint8Array, rows: number, cols: number): string => pngDataUri(encodeGrayPng(cols, rows, pixels));

interface ImageGrid {
  readonly title: string;
  readonly rows: readonly (readonly Uint8Array[])[];
  readonly rowLabels: readonly string[];
  readonly colLabels: readonly string[];
  readonly imgRows: number;
  readonly imgCols: number;
  readonly xLabel: string;
  readonly yLabel: string;
}

const imageGrid = (g: ImageGrid): string => {
  const w = g.imgCols * SCALE;
  const h = g.imgRows * SCALE;
  const ncol = Math.max(0, ...g.rows.map((r) => r.length));
  const margin = { top: 58, left: 62, right: 12, bottom: 16 };
  const width = Math.max(margin.left + ncol * (w + GAP) + margin.right, 360);
  const height = margin.top + g.rows.length * (h + GAP) + margin.bottom;
  const { svg, serialize } = newSvg(width, height, g.title);
  svg
    .append('text')
    .attr('class', 'chart-title')
    .attr('x', margin.left)
    .attr('y', 20)
    .attr('font-size', 15)
    .attr('font-weight', 'bold')
    .text(g.title);
  svg
    .append('text')
    .attr('class', 'axis-title x-title')
    .attr('x', margin.left + (ncol * (w + GAP)) / 2)
    .attr('y', 38)
    .attr('text-anchor', 'middle')
    .text(g.xLabel);
  svg
    .append('text')
    .attr('class', 'axis-title y-title')
    .attr('transform', `translate(16,${margin.top + (g.rows.length * (h + GAP)) / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(g.yLabel);
  const grid = svg.append('g').attr('class', 'images').attr('transform', `translate(${margin.left},${margin.top})`);
  g.colLabels.forEach((l, j) =>
    grid
      .append('text')
      .attr('class', 'col-label')
      .attr('x', j * (w + GAP) + w / 2)
      .attr('y', -5)
      .attr('text-anchor', 'middle')
      .attr('font-size', 10)
      .text(l),
  );
  g.rows.forEach((row, i) => {
    grid
      .append('text')
      .attr('class', 'row-label')
      .attr('x', -6)
      .attr('y', i * (h + GAP) + h / 2 + 4)
      .attr('text-anchor', 'end')
      .attr('font-size', 11)
      .text(g.rowLabels[i] ?? '');
    row.forEach((pixels, j) =>
      grid
        .append('image')
        .attr('class', 'tile')
        .attr('data-row', i)
        .attr('data-col', j)
        .attr('x', j * (w + GAP))
        .attr('y', i * (h + GAP))
        .attr('width', w)
        .attr('height', h)
        .attr('image-rendering', 'optimizeSpeed')
        .attr('style', TILE_STYLE)
        .attr('href', imageUri(pixels, g.imgRows, g.imgCols)),
    );
  });
  return serialize();
};

const fmtStep = d3.format('.2~f');

/** One row per latent dimension, one column per traversal value, the other dimensions held at 0. */
export const traversalChart = (title: string, v: VaeGrids): string =>
  imageGrid({
    title,
    rows: v.traversal.map((t) => splitImages(t, v.rows, v.cols)),
    rowLabels: v.traversal.map((_, i) => `z${i + 1}`),
    colLabels: v.steps.map((s) => fmtStep(s).replace('-', '−')),
    imgRows: v.rows,
    imgCols: v.cols,
    xLabel: 'Value of the latent dimension (others 0)',
    yLabel: 'Latent dimension',
  });

/** Images decoded from random latent vectors z ~ N(0, I), in one row. */
export const samplesChart = (title: string, v: VaeGrids): string => {
  const images = splitImages(v.samples, v.rows, v.cols);
  return imageGrid({
    title,
    rows: [images],
    rowLabels: [''],
    colLabels: images.map((_, i) => String(i + 1)),
    imgRows: v.rows,
    imgCols: v.cols,
    xLabel: 'Sample (z ~ N(0, I))',
    yLabel: '',
  });
};
