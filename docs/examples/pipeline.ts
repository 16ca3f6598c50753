// docs/adding-a-pipeline.md: a resumable grid with a report, composed only from public operators.
// In your own project, import from 'optbench' instead of '../../lib/index.js'.
import * as E from 'fp-ts/lib/Either.js';
import { filter, lastValueFrom, toArray } from 'rxjs';
import {
  evaluate,
  loadFashion$,
  openStore,
  persist,
  recordRuns,
  showProgress,
  storePath,
  storeTrainer,
  toOptbenchError,
  trainGrid,
  writeReport,
  type Artifact,
  type GridPlan,
  type LoadConfig,
  type OptbenchError,
  type RunEvent,
  type Runtime,
} from '../../lib/index.js';

/** The grid the spec runs: the tiny model of adding-a-model.md on 50 fixture images, two optimizers. */
export const miniPlan: GridPlan = {
  dataset: 'fashion-mini', models: ['tiny-mlp'], optimizers: [{ name: 'sgd' }, { name: 'adam', overrides: { lr: 3e-3 } }],
  preset: 'tfkeras2', seeds: 1, epochs: 2, batchSize: 25, backend: 'cpu', subset: 50, testSubset: 50,
};

export interface MiniGrid {
  readonly out: string;
  readonly data: LoadConfig;
  readonly plan: GridPlan;
  /** Where progress lines go (default stderr). */
  readonly log?: { write(s: string): unknown };
  /** What the runs compute with: its models are the names the plan may use (default: the study's six). */
  readonly runtime?: Runtime;
}

export interface MiniGridResult {
  /** Every event but BatchEnded, in the order it was emitted. */
  readonly events: RunEvent[];
  readonly artifacts: Artifact[];
}

/**
 * load -> trainGrid (store-aware trainer: finished runs skipped, interrupted ones resumed) -> evaluate
 * (the lent model of each epoch) -> persist (each event committed before anything downstream sees it) ->
 * recordRuns (grid.json, runs/*.json) -> showProgress, then a report from the run directory (the store,
 * which also holds runs finished by an earlier invocation). Running it again with the same `out` trains
 * nothing twice.
 */
export const runMiniGrid = async (job: MiniGrid): Promise<E.Either<OptbenchError, MiniGridResult>> => {
  const opened = openStore(storePath(job.out));
  if (E.isLeft(opened)) return opened;
  const store = opened.right;
  const log = job.log ?? process.stderr;
  const say = (m: string): void => void log.write(`${m}\n`);
  try {
    const events = await lastValueFrom(
      loadFashion$(job.data).pipe(
        trainGrid(job.plan, { trainer: storeTrainer(store, job.out, job.runtime ? { runtime: job.runtime } : {}, say) }),
        evaluate(),
        persist(store),
        recordRuns(job.out, { task: 'docs-example', title: 'A grid from docs/examples/pipeline.ts' }),
        showProgress(log),
        filter((e): e is RunEvent => e.type !== 'BatchEnded' && e.type !== 'GridStarted'),
        toArray(),
      ),
    );
    // Markdown and CSV only: SVG/PNG/HTML work the same way but need fonts for the rasteriser.
    const artifacts = await writeReport(job.out, { formats: ['md', 'csv'] });
    return E.map((written: Artifact[]) => ({ events, artifacts: written }))(artifacts);
  } catch (e) {
    // loadFashion$ and persist fail with the OptbenchError itself on the error channel.
    return E.left(toOptbenchError(e));
  } finally {
    store.close();
  }
};
