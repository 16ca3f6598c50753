import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as d3 from 'd3';
import * as E from 'fp-ts/lib/Either.js';
import { toOptbenchError, type OptbenchError } from '../errors.js';
import { describe as describeSample, type SampleSummary } from '../stats/index.js';
import type { AshaState } from '../sweep/asha.js';
import { readSweepRecord, type SweepRecord } from '../sweep/record.js';
import type { SearchConfig, TrialStatus } from '../sweep/run.js';
import type { RunRecord } from '../train/record.js';
import { displayName, type Figure } from './figures.js';
import { esc, figureHtml, htmlPage } from './html.js';
import { colorFor } from './palette.js';
import { svgToPng } from './raster.js';
import { readRunDir } from './read.js';
import { ciHalfWidth } from './seeds.js';
import { newSvg, slug } from './svg.js';
import { REPORT_SUBDIR } from './render.js';

/** `lr=0.00123, beta1=0.9`: three significant digits, enough to tell trials apart. */
export const formatValue = (v: number | boolean): string => (typeof v === 'boolean' ? String(v) : String(Number(v.toPrecision(3))));
export const formatPoint = (p: Readonly<Record<string, number | boolean>>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(', ') || 'stock defaults';

export interface SweepTrialRow {
  readonly trial: number;
  readonly point: Readonly<Record<string, number | boolean>>;
  /** Validation metric at the last trained epoch (accuracy in %, or loss), and that epoch. */
  readonly value: number | null;
  readonly epochs: number;
  readonly status: TrialStatus;
  /** Per-epoch validation metric, in report units. */
  readonly curve: readonly number[];
}

export interface SweepSearchReport {
  readonly config: SearchConfig;
  readonly trials: readonly SweepTrialRow[];
  readonly best: number | null;
  /** The chosen trial's validation metric at the full budget (held-out images). */
  readonly heldOut: number | null;
  readonly asha: AshaState | null;
}

export interface FinalReport {
  readonly optimizer: string;
  readonly role: 'tuned' | 'default';
  readonly overrides: Readonly<Record<string, number>>;
  /** Final test metric of each finished seed (accuracy in %, or loss). */
  readonly values: readonly number[];
  readonly summary: SampleSummary | null;
  /** Half-width of the 95 % t interval; null with fewer than two seeds. */
  readonly ci: number | null;
  readonly planned: number;
}

export interface SweepReport {
  readonly kind: 'sweep' | 'tune';
  readonly title: string;
  readonly model: string;
  readonly classifier: boolean;
  readonly searches: readonly SweepSearchReport[];
  readonly finals: readonly FinalReport[];
}

const toUnits = (classifier: boolean, x: number): number => (classifier ? 100 * x : x);

/** Sweep record + the final runs' records in, plain report data out. */
export const buildSweepReport = (record: SweepRecord, runs: readonly RunRecord[]): SweepReport => {
  const first = record.searches[0]?.config;
  const classifier = (first?.direction ?? 'max') === 'max';
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const searches = record.searches.map((s): SweepSearchReport => {
    const trials = s.trials.map((t): SweepTrialRow => {
      const curve = t.metrics.map((m) => toUnits(classifier, m));
      return { trial: t.trial, point: t.point, value: curve.length > 0 ? curve[curve.length - 1]! : null, epochs: curve.length, status: t.status, curve };
    });
    const best = s.best;
    return { config: s.config, trials, best, heldOut: best === null ? null : (trials[best]?.value ?? null), asha: s.asha };
  });
  const finals = record.final.map((g): FinalReport => {
    const values = g.runIds.flatMap((id) => {
      const r = byId.get(id);
      if (r?.status !== 'done' || !r.final) return [];
      const v = classifier ? r.final.testAccuracy : r.final.testLoss;
      return v === null || !Number.isFinite(v) ? [] : [toUnits(classifier, v)];
    });
    return {
      optimizer: g.optimizer,
      role: g.role,
      overrides: g.overrides,
      values,
      summary: values.length > 0 ? describeSample(values) : null,
      ci: ciHalfWidth(values),
      planned: g.runIds.length,
    };
  });
  return { kind: record.kind, title: record.title, model: first?.model ?? '', classifier, searches, finals };
};

// ---- figures ----------------------------------------------------------------------------------------

interface XY {
  readonly x: number;
  readonly y: number;
}
interface ScatterSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly XY[];
  readonly line: boolean;
  readonly dashed?: boolean;
}
interface Scatter {
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

const W = 780;
const H = 420;
const M = { top: 40, right: 190, bottom: 54, left: 72 };

/** Points (and optionally lines) over a linear or log x axis, legend on the right. */
export const scatterChart = (c: Scatter): string => {
  const { svg, serialize } = newSvg(W, H, c.title);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
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
  svg.append('text').attr('class', 'chart-title').attr('x', M.left).attr('y', 22).attr('font-size', 15).attr('font-weight', 'bold').text(c.title);
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${M.left},${M.top})`);
  const xAxis = c.logX
    ? d3.axisBottom(x).ticks(6, '~g')
    : c.integerX
      ? d3.axisBottom(x).tickValues(x.ticks(Math.min(10, Math.max(1, Math.round(xhi - xlo)))).filter(Number.isInteger)).tickFormat(d3.format('d'))
      : d3.axisBottom(x).ticks(8).tickFormat(d3.format('~g'));
  plot.append('g').attr('class', 'axis x-axis').attr('data-scale', c.logX ? 'log' : 'linear').attr('transform', `translate(0,${ph})`).call(xAxis);
  plot.append('g').attr('class', 'axis y-axis').call(d3.axisLeft(y).ticks(8));
  plot.selectAll('.axis text').attr('font-family', null).attr('font-size', 11);
  svg.append('text').attr('class', 'axis-title x-title').attr('x', M.left + pw / 2).attr('y', H - 12).attr('text-anchor', 'middle').text(c.xLabel);
  svg
    .append('text')
    .attr('class', 'axis-title y-title')
    .attr('transform', `translate(18,${M.top + ph / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(c.yLabel);
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
  const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${W - M.right + 18},${M.top})`);
  labels.forEach((s, i) => {
    const e = legend.append('g').attr('class', 'legend-entry').attr('data-label', s.label).attr('transform', `translate(0,${i * 20})`);
    e.append('circle').attr('cx', 13).attr('cy', 0).attr('r', 4).attr('fill', s.color);
    e.append('text').attr('x', 32).attr('y', 4).text(s.label.length > 22 ? `${s.label.slice(0, 21)}…` : s.label);
  });
  return serialize();
};

const STATUS_COLOR: Readonly<Record<TrialStatus, string>> = {
  completed: '#0072B2',
  stopped: '#999999',
  failed: '#D55E00',
  unfinished: '#E69F00',
  'not started': '#cccccc',
};

const metricLabel = (r: SweepReport): string => (r.classifier ? 'Validation accuracy (%)' : 'Validation loss');

/** Metric against each hyperparameter, ASHA's rung plot, and for tune the learning-rate sensitivity. */
export const sweepFigures = (r: SweepReport): Figure[] => {
  const figs: Figure[] = [];
  const model = displayName(r.model);
  if (r.kind === 'tune') {
    const title = `${model}: learning-rate sensitivity`;
    figs.push({
      name: 'tune-lr-sensitivity',
      model: r.model,
      title,
      caption: `Validation metric after the full budget (held-out training images) against the learning rate, one curve per optimizer; every optimizer tried the same learning rates.`,
      svg: scatterChart({
        id: 'tune-lr',
        title,
        xLabel: 'Learning rate (log scale)',
        yLabel: metricLabel(r),
        logX: true,
        series: r.searches.map((s) => ({
          label: s.config.optimizer,
          color: colorFor(s.config.optimizer),
          line: true,
          points: s.trials
            .filter((t) => t.status === 'completed' && typeof t.point.lr === 'number')
            .map((t) => ({ x: t.point.lr as number, y: t.value! }))
            .sort((a, b) => a.x - b.x),
        })),
      }),
    });
    return figs;
  }
  for (const s of r.searches) {
    const id = slug(`${s.config.model}-${s.config.optimizer}`);
    for (const d of s.config.space) {
      if (d.kind === 'choice' && d.values.some((v) => typeof v === 'boolean')) continue;
      const title = `${model}/${s.config.optimizer}: ${metricLabel(r).toLowerCase()} vs ${d.name}`;
      const statuses = [...new Set(s.trials.map((t) => t.status))];
      figs.push({
        name: `sweep-${id}-${slug(d.name)}`,
        model: r.model,
        title,
        caption: `Each trial's validation metric at its last trained epoch against ${d.name}${d.kind === 'log' ? ' (log axis: sampled log-uniformly)' : ''}; colour by the trial's outcome${s.config.strategy === 'asha' ? ' (stopped: not promoted by ASHA, so trained fewer epochs)' : ''}.`,
        svg: scatterChart({
          id: `sweep-${id}-${slug(d.name)}`,
          title,
          xLabel: `${d.name}${d.kind === 'log' ? ' (log scale)' : ''}`,
          yLabel: metricLabel(r),
          logX: d.kind === 'log',
          series: statuses.map((st) => ({
            label: st,
            color: STATUS_COLOR[st],
            line: false,
            points: s.trials.filter((t) => t.status === st && t.value !== null).map((t) => ({ x: Number(t.point[d.name]), y: t.value! })),
          })),
        }),
      });
    }
    if (s.asha) {
      const title = `${model}/${s.config.optimizer}: ASHA rungs`;
      figs.push({
        name: `sweep-${id}-asha-rungs`,
        model: r.model,
        title,
        caption: `Validation metric per epoch of every trial; dashed verticals are ASHA's rungs (${s.asha.rungs.join(', ')} epochs, eta = ${s.config.eta}). A trial goes past a rung only when it is in the top 1/eta of the trials that reported there.`,
        svg: scatterChart({
          id: `sweep-${id}-asha`,
          title,
          xLabel: 'Epoch',
          yLabel: metricLabel(r),
          logX: false,
          integerX: true,
          guides: s.asha.rungs.map((k, i) => ({ x: k, label: `rung ${i}` })),
          series: s.trials.map((t) => ({
            label: t.status,
            color: STATUS_COLOR[t.status],
            line: true,
            dashed: t.status !== 'completed',
            points: t.curve.map((y, i) => ({ x: i + 1, y })),
          })),
        }),
      });
    }
  }
  return figs;
};

// ---- tables -----------------------------------------------------------------------------------------

const f2 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));
const meanCi = (f: FinalReport | undefined): string =>
  !f || !f.summary ? (f ? `pending (0/${f.planned})` : '–') : f.ci !== null ? `${f2(f.summary.mean)} ± ${f2(f.ci)} (n=${f.summary.n})` : `${f2(f.summary.mean)} (n=1)`;

const better = (r: SweepReport) => (a: SweepTrialRow, b: SweepTrialRow) =>
  (b.status === 'completed' ? 1 : 0) - (a.status === 'completed' ? 1 : 0) ||
  (r.classifier ? (b.value ?? -Infinity) - (a.value ?? -Infinity) : (a.value ?? Infinity) - (b.value ?? Infinity)) ||
  a.trial - b.trial;

/** The top `k` trials of a search, best first (completed trials before stopped ones). */
export const bestConfigurations = (r: SweepReport, s: SweepSearchReport, k = 5): SweepTrialRow[] => [...s.trials].filter((t) => t.value !== null).sort(better(r)).slice(0, k);

const mdRow = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

const unit = (r: SweepReport): string => (r.classifier ? 'accuracy (%)' : 'loss');

/** The sweep's tables in Markdown: best configurations, chosen one with held-out and test figures; tune's side by side. */
export const sweepMarkdown = (r: SweepReport): string => {
  const out: string[] = [`# ${r.title}`, ''];
  if (r.kind === 'tune') {
    const budget = r.searches[0]?.config.trials ?? 0;
    out.push(
      `Every optimizer got the same ${budget}-trial search over its learning rate (log-uniform ${r.searches[0]?.config.space.map((d) => (d.kind === 'log' || d.kind === 'uniform' ? `${d.lo}..${d.hi}` : '')).join('')}), chosen on the held-out training images; both settings then retrained with the same seeds on all training images and evaluated on the test set.`,
      '',
      mdRow(['optimizer', `stock defaults: test ${unit(r)}`, 'tuned lr', `tuned: held-out ${unit(r)}`, `tuned with budget ${budget}: test ${unit(r)}`]),
      mdRow(['---', '---:', '---:', '---:', '---:']),
    );
    for (const s of r.searches) {
      const def = r.finals.find((f) => f.optimizer === s.config.optimizer && f.role === 'default');
      const tuned = r.finals.find((f) => f.optimizer === s.config.optimizer && f.role === 'tuned');
      const lr = s.best === null ? null : s.trials[s.best]!.point.lr;
      out.push(mdRow([s.config.optimizer, meanCi(def), lr === undefined || lr === null ? '–' : formatValue(lr), f2(s.heldOut), meanCi(tuned)]));
    }
    out.push('', '- Test values: mean ± half-width of the 95 % Student t interval over seeds.', '');
    return `${out.join('\n')}\n`;
  }
  for (const s of r.searches) {
    const c = s.config;
    out.push(
      `## ${displayName(c.model)} / ${c.optimizer}: ${c.strategy} search, ${c.trials} trials`,
      '',
      `Space: ${c.space.map((d) => (d.kind === 'choice' ? `${d.name}=choice(${d.values.join(',')})` : `${d.name}=${d.kind}(${d.lo},${d.hi})`)).join(', ')}; ${c.epochs} epochs${c.strategy === 'asha' ? ` at most (ASHA rungs ${s.asha?.rungs.join(', ') ?? ''}, eta ${c.eta})` : ''}; validated on the last ${c.holdout} training images, never on the test set.`,
      '',
      '### Best configurations',
      '',
      mdRow(['rank', 'trial', ...c.space.map((d) => d.name), `validation ${unit(r)}`, 'epochs', 'status']),
      mdRow(['---:', '---:', ...c.space.map(() => '---:'), '---:', '---:', '---']),
    );
    bestConfigurations(r, s).forEach((t, i) =>
      out.push(mdRow([String(i + 1), String(t.trial + 1), ...c.space.map((d) => formatValue(t.point[d.name] ?? NaN)), f2(t.value), String(t.epochs), t.status])),
    );
    const tuned = r.finals.find((f) => f.optimizer === c.optimizer && f.role === 'tuned');
    out.push(
      '',
      '### Chosen configuration',
      '',
      s.best === null
        ? 'No trial completed its full budget: nothing was chosen.'
        : mdRow(['configuration', `held-out ${unit(r)} (search)`, `test ${unit(r)} (retrained on all training images)`]) +
            '\n' +
            mdRow(['---', '---:', '---:']) +
            '\n' +
            mdRow([formatPoint(s.trials[s.best]!.point), f2(s.heldOut), meanCi(tuned)]),
      '',
      '- Test: mean ± half-width of the 95 % Student t interval over seeds.',
      '',
    );
  }
  return `${out.join('\n')}\n`;
};

/** A self-contained page with the tables and figures. */
export const sweepHtml = (r: SweepReport, figures: readonly Figure[]): string => {
  const md = sweepMarkdown(r);
  // The tables are rendered from the Markdown rows: one source of truth for both formats.
  const body = md
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n').filter((l) => l !== '');
      if (lines.length === 0) return '';
      if (lines[0]!.startsWith('|')) {
        const cells = (l: string) => l.slice(2, -2).split(' | ').map((x) => x.replace(/\\\|/g, '|'));
        const [head, , ...rows] = lines;
        return `<div class="table-wrap"><table><thead><tr>${cells(head!).map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((row) => `<tr>${cells(row).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
      }
      if (lines[0]!.startsWith('# ')) return `<h1>${esc(lines[0]!.slice(2))}</h1>`;
      if (lines[0]!.startsWith('## ')) return `<h2>${esc(lines[0]!.slice(3))}</h2>`;
      if (lines[0]!.startsWith('### ')) return `<h3>${esc(lines[0]!.slice(4))}</h3>`;
      if (lines[0]!.startsWith('- ')) return `<ul class="notes">${lines.map((l) => `<li>${esc(l.slice(2))}</li>`).join('')}</ul>`;
      return `<p>${esc(lines.join(' '))}</p>`;
    })
    .join('\n');
  const figs = figures.map(figureHtml).join('\n');
  return htmlPage(
    r.title,
    `${body}
<p><a href="report.html">Full report of the retraining runs (curves, per-seed statistics)</a></p>
${figs}`,
  );
};

/**
 * Writes the sweep's report next to the run directory's own: sweep.md and sweep.html at the top,
 * figures (SVG, PNG) under report/. Reads sweep.json and the final runs' records; never trains.
 */
export const writeSweepReport = async (outDir: string): Promise<E.Either<OptbenchError, string[]>> => {
  const rec = readSweepRecord(outDir);
  if (E.isLeft(rec)) return rec;
  if (rec.right === null) return E.right([]);
  const runs = readRunDir(outDir);
  const report = buildSweepReport(rec.right, E.isRight(runs) ? runs.right.runs : []);
  try {
    const sub = join(outDir, REPORT_SUBDIR);
    await mkdir(sub, { recursive: true });
    const figures = sweepFigures(report);
    const written: string[] = [];
    for (const f of figures) {
      const svgPath = join(sub, `${f.name}.svg`);
      await writeFile(svgPath, `<?xml version="1.0" encoding="UTF-8"?>\n${f.svg}\n`);
      await writeFile(join(sub, `${f.name}.png`), await svgToPng(f.svg, 2));
      written.push(svgPath, join(sub, `${f.name}.png`));
    }
    await writeFile(join(outDir, 'sweep.md'), sweepMarkdown(report));
    await writeFile(join(outDir, 'sweep.html'), sweepHtml(report, figures));
    written.push(join(outDir, 'sweep.md'), join(outDir, 'sweep.html'));
    return E.right(written);
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
