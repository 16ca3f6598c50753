import { slug } from './svg.js';
import { displayName, type Figure } from './figures.js';
import { colorFor } from './palette.js';
import { scatterChart } from './scatter.js';
import type { TrialStatus } from '../sweep/search.js';
import type { SweepReport } from './sweep-build.js';

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

