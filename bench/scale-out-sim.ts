/**
 * The full study (and --seeds 5) spread over K machines, simulated with the queue's own order (longest
 * runs first) from measured per-step times: makespan against the bound, as a table and a figure.
 *
 *   node --import tsx bench/scale-out-sim.ts [--steps bench.json] [--svg FILE] [--json]
 *
 * `--steps` takes the output of `npm run bench -- --backends native --json` (median ms per step at batch
 * 200); without it, the per-step times the queue orders by (lib/queue/cost.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as d3 from 'd3';
import * as E from 'fp-ts/lib/Either.js';
import type { RunSpec } from '../lib/config/spec.js';
import { planGrid } from '../lib/train/plan.js';
import { STEP_SECONDS, estimateRunSeconds } from '../lib/queue/cost.js';
import { simulate, type Simulation } from '../lib/queue/simulate.js';
import { STUDY_OPTIMIZERS } from '../lib/report/study.js';
import { newSvg } from '../lib/report/svg.js';
import { STUDY_TASKS } from '../pipelines/tasks.js';

export const MACHINES = [1, 2, 4, 8, 16, 42] as const;
const STUDY_MODELS = STUDY_TASKS.flatMap((t) => t.models);

export const studySpecs = (seeds: number): RunSpec[] => {
  const specs = planGrid({
    dataset: 'fashion-mnist',
    models: STUDY_MODELS,
    optimizers: STUDY_OPTIMIZERS.map((name) => ({ name })),
    preset: 'tfkeras2',
    seeds,
    epochs: 50,
    batchSize: 200,
    backend: 'native',
  });
  if (E.isLeft(specs)) throw new Error(specs.left.message);
  return specs.right;
};

/** Seconds per step from `npm run bench -- --json` ({"fcnn":{"native":ms,...},...}). */
const readSteps = (file: string): Record<string, number> => {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { native?: number | null }>;
  const out: Record<string, number> = { ...STEP_SECONDS };
  for (const [model, v] of Object.entries(json)) if (typeof v?.native === 'number') out[model] = v.native / 1000;
  return out;
};

export interface Row {
  readonly seeds: number;
  readonly machines: number;
  readonly makespanHours: number;
  readonly boundHours: number;
  readonly ratio: number;
  /** The same runs first in, first out (the grid's own order, VAE2 last), for comparison. */
  readonly fifoHours: number;
}

export const simulateStudy = (steps: Readonly<Record<string, number>>): { rows: Row[]; sims: Simulation[] } => {
  const rows: Row[] = [];
  const sims: Simulation[] = [];
  for (const seeds of [1, 5])
    for (const k of MACHINES) {
      const sim = simulate(studySpecs(seeds), k, (s) => estimateRunSeconds(s, steps));
      const fifo = simulate(studySpecs(seeds), k, (s) => estimateRunSeconds(s, steps), (specs) => specs);
      sims.push(sim);
      rows.push({
        seeds,
        machines: k,
        makespanHours: sim.makespan / 3600,
        boundHours: sim.bound / 3600,
        ratio: sim.makespan / sim.bound,
        fifoHours: fifo.makespan / 3600,
      });
    }
  return { rows, sims };
};

/** The table docs/scale-out.md quotes. */
export const simulationTable = (rows: readonly Row[]): string =>
  [
    '| seeds | K | makespan (h) | bound (h) | makespan / bound | first in, first out (h) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.seeds} | ${r.machines} | ${r.makespanHours.toFixed(2)} | ${r.boundHours.toFixed(2)} | ${r.ratio.toFixed(3)} | ${r.fifoHours.toFixed(2)} |`,
    ),
  ].join('\n') + '\n';

/** Makespan against K (log scale), one line per seed count, the bound dashed beside each. */
export const makespanFigure = (rows: readonly Row[]): string => {
  const width = 720;
  const height = 420;
  const m = { top: 40, right: 170, bottom: 50, left: 70 };
  const { svg, serialize } = newSvg(width, height, 'Study makespan on K machines, longest runs first');
  const g = svg.append('g').attr('transform', `translate(${m.left},${m.top})`);
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const x = d3.scaleLog().base(2).domain([1, 42]).range([0, pw]);
  const y = d3.scaleLog().domain([1, d3.max(rows, (r) => r.makespanHours)! * 1.2]).range([ph, 0]);
  g.append('g').attr('transform', `translate(0,${ph})`).call(d3.axisBottom(x).tickValues([...MACHINES]).tickFormat(d3.format('d')));
  g.append('g').call(d3.axisLeft(y).ticks(6, '~g'));
  g.append('text').attr('x', pw / 2).attr('y', ph + 40).attr('text-anchor', 'middle').text('machines (K)');
  g.append('text').attr('transform', 'rotate(-90)').attr('x', -ph / 2).attr('y', -50).attr('text-anchor', 'middle').text('hours');
  svg.append('text').attr('x', m.left).attr('y', 24).attr('font-weight', 'bold').text('The study on K machines: longest first (solid), bound (dashed), first in first out (dotted)');
  const colors: Record<number, string> = { 1: '#1f77b4', 5: '#d62728' };
  for (const seeds of [1, 5]) {
    const rs = rows.filter((r) => r.seeds === seeds);
    const line = (f: (r: Row) => number) => d3.line<Row>().x((r) => x(r.machines)).y((r) => y(f(r)))(rs)!;
    g.append('path').attr('d', line((r) => r.makespanHours)).attr('fill', 'none').attr('stroke', colors[seeds]!).attr('stroke-width', 2);
    g.append('path').attr('d', line((r) => r.boundHours)).attr('fill', 'none').attr('stroke', colors[seeds]!).attr('stroke-dasharray', '5,4');
    g.append('path').attr('d', line((r) => r.fifoHours)).attr('fill', 'none').attr('stroke', colors[seeds]!).attr('stroke-opacity', 0.5).attr('stroke-dasharray', '1,3');
    for (const r of rs) g.append('circle').attr('cx', x(r.machines)).attr('cy', y(r.makespanHours)).attr('r', 3).attr('fill', colors[seeds]!);
    const last = rs[rs.length - 1]!;
    g.append('text')
      .attr('x', pw + 8)
      .attr('y', y(last.makespanHours) + (seeds === 1 ? 12 : -4))
      .attr('fill', colors[seeds]!)
      .text(`${seeds === 1 ? '1 seed' : '5 seeds'}: ${last.makespanHours.toFixed(1)} h`);
  }
  return serialize();
};

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''));
if (isMain) {
  const { values } = parseArgs({ options: { steps: { type: 'string' }, svg: { type: 'string' }, json: { type: 'boolean' } } });
  const steps = typeof values.steps === 'string' ? readSteps(values.steps) : { ...STEP_SECONDS };
  const { rows } = simulateStudy(steps);
  if (values.json) process.stdout.write(`${JSON.stringify({ steps, rows })}\n`);
  else {
    process.stdout.write(`per-step seconds: ${Object.entries(steps).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    process.stdout.write(simulationTable(rows));
  }
  if (typeof values.svg === 'string') writeFileSync(values.svg, makespanFigure(rows));
}
