import { isOneOf } from '../one-of.js';
import { lineChart, type LinePoint, type LineSeries } from './charts.js';
import { confusionChart } from './confusion.js';
import { profileChart } from './profile-chart.js';
import { samplesChart, traversalChart } from './images.js';
import { STUDY_MODELS } from './study.js';
import { slug } from './svg.js';
import type { CurvePoint, ModelReport, Report, Stat } from './types.js';

export interface Figure {
  /** File name without extension, e.g. `fcnn-loss-epoch`. */
  readonly name: string;
  readonly model: string;
  readonly title: string;
  readonly caption: string;
  readonly svg: string;
}

export const displayName = (model: string): string =>
  isOneOf(STUDY_MODELS)(model.toLowerCase()) ? model.toUpperCase() : model;

type Pick = (p: CurvePoint) => Stat | null;
type Axis = 'epoch' | 'time';

const series = (m: ModelReport, pick: { train: Pick; test: Pick }, axis: Axis): LineSeries[] =>
  m.series.flatMap((s) =>
    (['train', 'test'] as const).map((split) => {
      const points: LinePoint[] = s.curve.flatMap((p) => {
        const v = pick[split](p);
        return v ? [{ x: axis === 'epoch' ? p.epoch : p.seconds.mean, y: v.mean, lo: v.min, hi: v.max }] : [];
      });
      return { label: s.label, split, points, band: s.seeds.length > 1 };
    }),
  );

const lossLabel = (m: ModelReport) =>
  m.kind === 'vae' ? 'Loss (sum of squared errors + KL, per image)' : 'Loss (categorical cross-entropy)';

const seedsNote = (m: ModelReport): string => {
  const n = Math.max(0, ...m.series.map((s) => s.seeds.length));
  return n > 1 ? ` Lines are means over ${n} seeds; bands span min to max.` : '';
};

/** What reportFigures draws beyond the report's own set, and how its ids are kept apart on a shared page. */
export interface FigureOptions {
  /** Also accuracy over training time (classifiers); the live page of `optbench serve` shows it. */
  readonly accuracyOverTime?: boolean;
  /** Prefixes every figure's name and the ids inside its SVG, for a page that shows several reports. */
  readonly idPrefix?: string;
}

const curveFigures = (m: ModelReport, id: string, opts: FigureOptions): Figure[] => {
  const name = displayName(m.model);
  const labels = m.series.map((s) => s.label);
  const loss: { train: Pick; test: Pick } = { train: (p) => p.trainLoss, test: (p) => p.testLoss };
  const note = `Training dashed (running mean over each epoch), test solid.${seedsNote(m)}`;
  const chart = (suffix: string, title: string, xLabel: string, yLabel: string, axis: Axis, pick: typeof loss, caption: string): Figure => ({
    name: `${id}-${suffix}`,
    model: m.model,
    title,
    caption: `${caption} ${note}`,
    svg: lineChart({
      id: `${id}-${suffix}`,
      title,
      xLabel,
      yLabel,
      integerX: axis === 'epoch',
      series: series(m, pick, axis),
      labels,
    }),
  });
  const figs = [
    chart('loss-epoch', `${name}: loss per epoch`, 'Epoch', lossLabel(m), 'epoch', loss, `Loss of ${name} per epoch, one colour per optimizer.`),
  ];
  if (m.kind === 'classifier')
    figs.push(
      chart(
        'accuracy-epoch',
        `${name}: accuracy per epoch`,
        'Epoch',
        'Accuracy (%)',
        'epoch',
        { train: (p) => p.trainAccuracy, test: (p) => p.testAccuracy },
        `Accuracy of ${name} per epoch.`,
      ),
    );
  figs.push(
    chart(
      'loss-time',
      `${name}: loss over training time`,
      'Wall-clock training time (s, cumulative, evaluation excluded)',
      lossLabel(m),
      'time',
      loss,
      `Loss of ${name} against the seconds spent training.`,
    ),
  );
  if (m.kind === 'classifier' && opts.accuracyOverTime === true)
    figs.push(
      chart(
        'accuracy-time',
        `${name}: accuracy over training time`,
        'Wall-clock training time (s, cumulative, evaluation excluded)',
        'Accuracy (%)',
        'time',
        { train: (p) => p.trainAccuracy, test: (p) => p.testAccuracy },
        `Accuracy of ${name} against the seconds spent training.`,
      ),
    );
  return figs;
};

/** The figures of no single model: the performance profiles across the models with a target (`model` ''). */
export const profileFigures = (report: Report, opts: FigureOptions = {}): Figure[] => {
  const t = report.timeToTarget;
  if (t == null) return [];
  const models = t.workloads.map((w) => displayName(w.model)).join(', ');
  const profile = (suffix: string, measure: string, p: typeof t.bySeconds, what: string): Figure => {
    const title = `Performance profile: ${what} to the target`;
    const id = `${opts.idPrefix ?? ''}performance-profile-${suffix}`;
    return {
      name: id,
      model: '',
      title,
      caption:
        `For each optimizer, the fraction of the models (${models}) on which its median ${what} to the held-out target is within a factor τ of the fastest optimizer's, for τ from 1 to ${p.tauMax}; ` +
        `a model it never reached counts against it at every τ. The legend gives each optimizer's score, the area under its line divided by ${p.tauMax - 1}, as AlgoPerf scores submissions. ` +
        'Lines are drawn 1.5 px apart, so that lines that coincide stay visible.',
      svg: profileChart({ id, title, measure, profile: p }),
    };
  };
  return [profile('seconds', 'training seconds', t.bySeconds, 'training time'), profile('epochs', 'epochs', t.byEpochs, 'epochs')];
};

/**
 * Every figure of the report, per model in order: curves, then the confusion matrix or the VAE grids; then
 * the performance profiles when the models have targets.
 */
export const reportFigures = (report: Report, opts: FigureOptions = {}): Figure[] => [...modelFigures(report, opts), ...profileFigures(report, opts)];

const modelFigures = (report: Report, opts: FigureOptions): Figure[] =>
  report.models.flatMap((m) => {
    const id = `${opts.idPrefix ?? ''}${slug(m.model)}`;
    const name = displayName(m.model);
    const figs = curveFigures(m, id, opts);
    if (m.confusion) {
      const c = m.confusion;
      const title = `${name}: confusion matrix of ${c.label} (seed ${c.seed})`;
      figs.push({
        name: `${id}-confusion`,
        model: m.model,
        title,
        caption: `Confusion matrix of the best optimizer on ${name} over the test set: rows are predictions, columns the true class; colour is the share of the true class, so a dark diagonal means good recall.`,
        svg: confusionChart({ id: `${id}-confusion`, title, matrix: c.matrix, classNames: c.classNames }),
      });
    }
    if (m.vae) {
      const v = m.vae;
      const tTitle = `${name} (${v.label}): latent traversal`;
      figs.push({
        name: `${id}-traversal`,
        model: m.model,
        title: tTitle,
        caption: `Images decoded by ${name}'s decoder (best optimizer, ${v.label}) while one latent dimension sweeps ${v.grids.steps[0] ?? ''} to ${v.grids.steps[v.grids.steps.length - 1] ?? ''} and the others stay 0.`,
        svg: traversalChart(tTitle, v.grids),
      });
      const sTitle = `${name} (${v.label}): random samples`;
      figs.push({
        name: `${id}-samples`,
        model: m.model,
        title: sTitle,
        caption: `Images decoded from random latent vectors z ~ N(0, I).`,
        svg: samplesChart(sTitle, v.grids),
      });
    }
    return figs;
  });
