import * as E from 'fp-ts/lib/Either.js';
import { filter, lastValueFrom, toArray } from 'rxjs';
import {
  checkFeeds,
  checkProtocol,
  classesFor,
  fitPlanToData,
  invalidConfig,
  loadFashion$,
  planGrid,
  runId,
  toOptbenchError,
  type Dataset,
  type GridPlan,
  type LoadConfig,
  type OptbenchError,
  type Store,
} from '../lib/index.js';
import { formatPoint } from '../lib/report/sweep.js';
import { runSearch, type SearchConfig, type SearchResult } from '../lib/sweep/run.js';
import { readSweepRecord, savedAshaState, writeSweepRecord, type FinalGroup, type SweepRecord } from '../lib/sweep/record.js';
import { storeTrialTrainer } from '../lib/sweep/trainer.js';
import { toOverrides } from '../lib/sweep/space.js';
import { gridPipeline } from './grid.js';

export interface SweepJob {
  readonly kind: 'sweep' | 'tune';
  readonly title: string;
  /** Run directory: store, sweep.json, the final runs' records and the reports. */
  readonly out: string;
  readonly data: LoadConfig;
  /** One search (sweep) or one per optimizer (tune). */
  readonly searches: readonly SearchConfig[];
  /** Seeds of the final retraining on all training images. */
  readonly seeds: number;
  readonly testSubset?: number;
  /** Also train each optimizer's stock defaults with the same seeds (tune's side-by-side table). */
  readonly withDefaults: boolean;
  readonly concurrency: number;
}

export interface SweepOptions {
  readonly store: Store;
  readonly shouldStop?: () => boolean;
  readonly log?: (line: string) => void;
  /** Show the final retraining's progress on stderr. */
  readonly progress?: boolean;
}

export interface SweepOutcome {
  readonly record: SweepRecord;
  readonly interrupted: boolean;
}

/** The final retraining's protocol, as a plan of `optimizers` fitted to the data (see fitPlanToData). */
const retrainPlan = (job: SweepJob, optimizers: GridPlan['optimizers'], data: Dataset): GridPlan => {
  const first = job.searches[0]!;
  return fitPlanToData(
    {
      dataset: first.dataset,
      models: [first.model],
      optimizers,
      preset: first.preset,
      seeds: job.seeds,
      epochs: first.epochs,
      batchSize: first.batchSize,
      backend: first.backend,
      ...(first.subset !== undefined ? { subset: first.subset } : {}),
      ...(job.testSubset !== undefined ? { testSubset: job.testSubset } : {}),
    },
    data,
  ).plan;
};

/** The final retraining: the chosen configuration of each search (and the stock defaults for tune). */
const finalPlan = (job: SweepJob, searches: readonly SearchResult[], data: Dataset): { plan: GridPlan; groups: FinalGroup[] } | null => {
  const optimizers: Array<{ name: string; overrides: Record<string, number> }> = [];
  const roles: Array<FinalGroup['role']> = [];
  for (const s of searches) {
    if (s.best === null) continue;
    if (job.withDefaults) {
      optimizers.push({ name: s.config.optimizer, overrides: {} });
      roles.push('default');
    }
    optimizers.push({ name: s.config.optimizer, overrides: toOverrides(s.trials[s.best]!.point) });
    roles.push('tuned');
  }
  if (optimizers.length === 0) return null;
  const plan = retrainPlan(job, optimizers, data);
  const specs = planGrid(plan);
  const groups = optimizers.map((o, i): FinalGroup => ({
    optimizer: o.name,
    role: roles[i]!,
    overrides: o.overrides,
    runIds: specs.filter((s) => s.optimizer.name === o.name && JSON.stringify(s.optimizer.overrides) === JSON.stringify(o.overrides)).map(runId),
  }));
  return { plan, groups };
};

/**
 * A sweep or a tune, resumable at every step: each search's trials are runs in the store (a killed sweep
 * re-run skips finished trials and continues paused or interrupted ones from their checkpoints; ASHA's
 * state is saved in sweep.json after every decision), then the chosen configurations are retrained on
 * all training images with the requested seeds and evaluated on the test set, as a grid.
 */
export const runSweep = async (job: SweepJob, opts: SweepOptions): Promise<E.Either<OptbenchError, SweepOutcome>> => {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  try {
    const saved = readSweepRecord(job.out);
    if (E.isLeft(saved)) return saved;
    const model = job.searches[0]!.model;
    const classes = job.data.classes ?? classesFor([model]);
    const data = await lastValueFrom(loadFashion$({ ...job.data, ...(classes !== undefined ? { classes } : {}) }));
    // Refused before the search, as a grid refuses before training: no trial could use the data.
    const feeds = checkFeeds([model], { rows: data.train.rows, cols: data.train.cols, channels: 1, classes: data.classNames.length }, data.name);
    if (E.isLeft(feeds)) return feeds;
    for (const c of job.searches)
      if (c.holdout >= data.train.count)
        return E.left(
          invalidConfig({
            path: 'holdout',
            message: `--holdout ${c.holdout} leaves nothing to train on: ${data.name} has ${data.train.count} training images. Choose a smaller --holdout.`,
          }),
        );
    // A directory holds one protocol: refused now, before the search, rather than at the retraining.
    const probe = planGrid(retrainPlan(job, [{ name: job.searches[0]!.optimizer }], data));
    const same = checkProtocol(job.out, probe, opts.store);
    if (E.isLeft(same)) return same;
    const createdAt = saved.right?.createdAt ?? new Date().toISOString();
    const done: SearchResult[] = [];
    let record: SweepRecord = { version: 1, kind: job.kind, title: job.title, createdAt, seeds: job.seeds, searches: [], final: [] };
    const save = (current: SearchResult | null): void => {
      record = { ...record, searches: current ? [...done, current] : [...done] };
      writeSweepRecord(job.out, record);
    };
    for (const config of job.searches) {
      const resumeFrom = savedAshaState(saved.right, config);
      if (E.isLeft(resumeFrom)) return resumeFrom;
      log(`Search: ${config.model}/${config.optimizer}, ${config.strategy}, ${config.trials} trials, validation on the last ${config.holdout} training images`);
      const trainer = storeTrialTrainer(opts.store, job.out, data, {
        ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
        log,
        describe: (s) => `${s.optimizer.name} ${formatPoint(s.optimizer.overrides)}`,
      });
      let partial: SearchResult = { config, trials: [], asha: resumeFrom.right, best: null, interrupted: false };
      const result = await runSearch(config, trainer, {
        concurrency: job.concurrency,
        ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
        resumeFrom: resumeFrom.right,
        onState: (asha) => {
          partial = { ...partial, asha };
          save(partial);
        },
        onProgress: (trials) => {
          partial = { ...partial, trials: [...trials] };
          save(partial);
        },
      });
      if (E.isLeft(result)) return result;
      done.push(result.right);
      save(null);
      if (result.right.interrupted) return E.right({ record, interrupted: true });
      const b = result.right.best;
      log(
        b === null
          ? `Search ${config.optimizer}: no trial completed its full budget; nothing to retrain.`
          : `Search ${config.optimizer}: chose trial ${b + 1}, ${formatPoint(result.right.trials[b]!.point)}`,
      );
    }
    const final = finalPlan(job, done, data);
    if (final === null) return E.right({ record, interrupted: false });
    record = { ...record, final: final.groups };
    writeSweepRecord(job.out, record);
    log(`Retraining the chosen configuration${final.groups.length > 1 ? 's' : ''} on all training images, ${job.seeds} seed${job.seeds === 1 ? '' : 's'}, evaluated on the test set`);
    await lastValueFrom(
      gridPipeline(
        { task: job.kind, title: job.title, out: job.out, data: job.data, plan: final.plan },
        { store: opts.store, ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}), progress: opts.progress ?? true },
      ).pipe(
        filter((e) => e.type !== 'BatchEnded'),
        toArray(),
      ),
    );
    return E.right({ record, interrupted: opts.shouldStop?.() ?? false });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
