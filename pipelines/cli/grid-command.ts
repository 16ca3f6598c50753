import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as A from 'fp-ts/lib/Array.js';
import { filter, lastValueFrom, toArray } from 'rxjs';
import type { GridJob } from '../grid.js';
import { gridPipeline } from '../grid.js';
import { findTask, TASK_NAMES } from '../tasks.js';
import { PRECISIONS, checkPrecision, useBackend } from '../../lib/backend/index.js';
import { STUDY_OPTIMIZERS } from '../../lib/report/study.js';
import { toOptbenchError, unknown, invalidConfig, type OptbenchError } from '../../lib/errors.js';
import { checkDatasetName } from '../../lib/data/locate.js';
import { BUILT_IN_REGISTRIES, type Registries } from './registries.js';
import { builtInRuntime } from '../../lib/train/runtime.js';
import { parseOptimizerList, resolveOptimizer } from '../../lib/optimizers/index.js';
import { parseTargets } from '../../lib/train/targets.js';
import type { Targets } from '../../lib/train/target.js';
import { runDisplayLabel, runId, type RunSpec } from '../../lib/config/spec.js';
import { openStore, storePath } from '../../lib/store/store.js';
import { outDirState } from '../../lib/store/run-dir.js';
import { STORE_FILE } from '../../lib/store/index.js';
import type { RunRow } from '../../lib/store/types.js';
import { checkRunCount, GRID_OPTIONS, list, parseOptions, positiveInt, type Parsed } from './options.js';
import { finishRunDir } from './finish.js';
import { onCtrlC, type StopSignal } from './interrupt.js';
import { outputDir } from './out-dir.js';

export { ensureWritable } from './out-dir.js';
import { restoreIfUntouched } from './out-dir.js';
import { attachQueue } from './queue-grid.js';

export const timestamp = (d = new Date()): string => d.toISOString().replace(/\..*$/, '').replace(/:/g, '-');

export interface GridCommand {
  readonly job: GridJob;
  readonly json: boolean;
  readonly report: boolean;
  /** Train on the queue's workers (its Redis URL) instead of in this process. */
  readonly queue?: string;
  /** The names the command resolved, and its runs resolve: the built-ins, or an embedding script's. */
  readonly registries?: Registries;
  /** What the output directory was before this command: a refusal before any run puts it back so. */
  readonly outBefore?: 'absent' | 'empty' | 'other';
}

/** Reads the options shared by `task` and `run` into a GridJob, validating every name and number. */
const readGrid = async (
  p: Parsed,
  task: string,
  title: (backend: string) => { title: string; models: readonly string[]; epochs: number; batchSize: number; subset?: number; testSubset?: number },
  reg: Registries,
): Promise<E.Either<OptbenchError, GridCommand>> => {
  const v = p.values;
  const precisionText = typeof v.precision === 'string' ? v.precision : 'fp32';
  const precision = PRECISIONS.find((p) => p === precisionText);
  if (precision === undefined)
    return E.left(
      invalidConfig({ path: 'precision', message: `--precision must be one of ${PRECISIONS.join(', ')}, got '${precisionText}'.` }),
    );
  const backend = await useBackend(typeof v.backend === 'string' ? v.backend : 'auto');
  if (E.isLeft(backend)) return backend;
  // Checked here, before any run starts; each run computes in its own precision (runFit).
  const usable = checkPrecision(precision);
  if (E.isLeft(usable)) return usable;
  if (usable.right.warning !== undefined) process.stderr.write(`optbench: ${usable.right.warning}\n`);
  const base = title(backend.right);
  const nums = pipe(
    [
      positiveInt('epochs', v.epochs, base.epochs),
      positiveInt('batch-size', v['batch-size'], base.batchSize),
      positiveInt('subset', v.subset, base.subset),
      positiveInt('test-subset', v['test-subset'], base.testSubset),
      positiveInt('seeds', v.seeds, 1),
    ],
    A.sequence(E.Applicative),
  );
  if (E.isLeft(nums)) return nums;
  const [epochs, batchSize, subset, testSubset, seeds] = nums.right;
  const kinds: Record<string, 'classifier' | 'vae'> = {};
  for (const m of base.models) {
    const def = reg.models.get(m);
    if (E.isLeft(def)) return def;
    kinds[m] = def.right.kind;
  }
  // A target is judged on training images held out from training: 10,000 of them unless --holdout says.
  const targets = targetsOf(v, kinds);
  if (E.isLeft(targets)) return targets;
  const holdout = positiveInt('holdout', v.holdout, targets.right !== undefined ? DEFAULT_HOLDOUT : undefined);
  if (E.isLeft(holdout)) return holdout;
  if (typeof v.dataset === 'string') {
    const named = checkDatasetName(v.dataset);
    if (E.isLeft(named)) return named;
  }
  const preset = typeof v.preset === 'string' ? v.preset : 'tfkeras2';
  // By default the study's seven, even if more optimizers are registered.
  const optimizerText = typeof v.optimizers === 'string' ? v.optimizers : STUDY_OPTIMIZERS.join(',');
  const optimizers = parseOptimizerList(optimizerText, typeof v.schedule === 'string' ? { schedule: v.schedule } : {}, reg.optimizers);
  if (E.isLeft(optimizers)) return optimizers;
  for (const o of optimizers.right) {
    const r = resolveOptimizer({ name: o.name, preset, overrides: o.overrides, ...(o.schedule !== undefined ? { schedule: o.schedule } : {}) }, reg.optimizers);
    if (E.isLeft(r)) return r;
  }
  // Every count is bounded before anything is planned, allocated or written.
  const total = checkRunCount(`optbench ${task === 'run' ? 'run' : 'task'}`, [
    ['models', base.models.length],
    ['optimizers', optimizers.right.length],
    ['seeds', seeds!],
  ]);
  if (E.isLeft(total)) return total;
  const outPath = resolve(typeof v.out === 'string' ? v.out : join('runs', `${task.replace(/\s+/g, '-')}-${timestamp()}`));
  const outBefore = !existsSync(outPath) ? 'absent' : outDirState(outPath) === 'empty' ? 'empty' : 'other';
  const out = outputDir(v.out, () => outPath, v.force === true);
  if (E.isLeft(out)) return out;
  return E.right({
    json: v.json === true,
    report: v['no-report'] !== true,
    ...(typeof v.queue === 'string' ? { queue: v.queue } : {}),
    outBefore,
    registries: reg,
    job: {
      task,
      title: base.title,
      out: out.right,
      data: {
        ...(typeof v['data-dir'] === 'string' ? { dir: v['data-dir'] } : {}),
        ...(typeof v.dataset === 'string' ? { dataset: v.dataset } : {}),
        ...(v.download === true ? { download: true } : {}),
      },
      plan: {
        dataset: typeof v.dataset === 'string' ? v.dataset : 'fashion-mnist',
        models: base.models,
        optimizers: optimizers.right,
        preset,
        seeds: seeds!,
        epochs: epochs!,
        batchSize: batchSize!,
        backend: backend.right,
        ...(subset !== undefined ? { subset } : {}),
        ...(testSubset !== undefined ? { testSubset } : {}),
        ...(holdout.right !== undefined ? { holdout: holdout.right } : {}),
        ...(precision === 'bf16' ? { precision } : {}),
      },
      ...(targets.right !== undefined ? { targets: targets.right } : {}),
    },
  });
};

/** Held-out training images a grid with a target judges it on, by default: Fashion-MNIST's usual 10,000 of 60,000. */
export const DEFAULT_HOLDOUT = 10_000;

/** `--target` read for the grid's models (undefined without it); `--holdout` alone is refused, as it would only train on fewer images. */
const targetsOf = (v: Parsed['values'], kinds: Readonly<Record<string, 'classifier' | 'vae'>>): E.Either<OptbenchError, Targets | undefined> => {
  if (typeof v.target !== 'string')
    return v.holdout === undefined
      ? E.right(undefined)
      : E.left(
          invalidConfig({
            path: 'holdout',
            message: '--holdout keeps training images out of training to judge a target on: give --target too (e.g. --target default), or leave --holdout out.',
          }),
        );
  return parseTargets(v.target, kinds);
};

export const parseTaskCommand = async (argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<E.Either<OptbenchError, GridCommand>> => {
  const p = parseOptions(argv, GRID_OPTIONS, { command: 'task', names: ['<task>'] });
  if (E.isLeft(p)) return p;
  const name = p.right.positionals[0];
  if (name === undefined)
    return E.left(invalidConfig({ path: 'task', message: `Which task? Usage: optbench task <${TASK_NAMES.join('|')}> [options].` }));
  if (findTask(name, 'cpu') === undefined) return E.left(unknown('task', name, TASK_NAMES));
  return readGrid(p.right, name === 'quick' ? 'quick' : `task-${findTask(name, 'cpu')!.id}`, (backend) => findTask(name, backend)!, reg);
};

export const parseRunCommand = async (argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<E.Either<OptbenchError, GridCommand>> => {
  const p = parseOptions(argv, { ...GRID_OPTIONS, models: { type: 'string' } }, { command: 'run', names: [] });
  if (E.isLeft(p)) return p;
  const models = list(p.right.values.models);
  if (models === undefined || models.length === 0)
    return E.left(invalidConfig({ path: 'models', message: 'optbench run needs --models, e.g. --models fcnn,scnn (see optbench list).' }));
  return readGrid(p.right, 'run', () => ({
    title: `Grid: ${models.join(', ')}`,
    models,
    epochs: 50,
    batchSize: 200,
  }), reg);
};

interface GridOutcome {
  /** Every run of the grid as the store has it now (including runs finished by an earlier invocation). */
  readonly runs: readonly RunRow[];
  readonly interrupted: boolean;
  /** The signal that stopped the grid (SIGINT or SIGTERM), if one did. */
  readonly signal: StopSignal | null;
}

/**
 * The error a grid ends with when it trained nothing usable: every one of its runs failed (diverged, or
 * could not be trained). Null when any run is done, or still to finish.
 */
export const everyRunFailed = (runs: readonly RunRow[]): OptbenchError | null => {
  if (runs.length === 0 || runs.some((r) => r.status !== 'failed')) return null;
  const first = runs[0]!;
  const tags = [...new Set(runs.map((r) => r.error?._tag ?? 'failed'))].join(', ');
  return {
    ...(first.error ?? invalidConfig({ path: 'run', message: 'failed (no reason recorded)' })),
    message: `Every run of the grid failed (${runs.length} run${runs.length === 1 ? '' : 's'}: ${tags}). The first: ${first.error?.message ?? 'no reason recorded'}`,
  } as OptbenchError;
};

/** The one-object summary printed by `--json`, for scripts. */
export const jsonSummary = (runs: readonly RunRow[]) => ({
  runs: runs.map((r) => ({
    runId: r.runId,
    model: r.spec.model,
    optimizer: r.spec.optimizer.name,
    /** What tells runs of one optimizer apart: its overrides (and schedule), and the label that shows them. */
    overrides: r.spec.optimizer.overrides,
    ...(r.spec.optimizer.schedule !== undefined ? { schedule: r.spec.optimizer.schedule } : {}),
    label: runDisplayLabel(r.spec),
    preset: r.spec.optimizer.preset,
    seed: r.spec.seed,
    status: r.status,
    final: { testAccuracy: r.final?.testAccuracy ?? null, testLoss: r.final?.testLoss ?? null },
    ...(r.error ? { error: { tag: r.error._tag, message: r.error.message } } : {}),
  })),
});

/**
 * Runs a grid against the store in its output directory, with Ctrl-C handling: the first SIGINT or
 * SIGTERM stops after the current step (every finished epoch is kept, the report is written, and the same
 * command continues), the second exits at once.
 */
export const executeGrid = async (cmd: GridCommand): Promise<E.Either<OptbenchError, GridOutcome>> => {
  let planned = false;
  // Only a store this command creates is its to remove: another process may be setting up the same
  // directory at this very moment.
  const storeWasThere = existsSync(storePath(cmd.job.out));
  const outcome = await runGrid(cmd, () => (planned = true));
  // Refused before a run was planned (its data, its protocol): the directory it made goes again.
  if (E.isLeft(outcome) && !planned && !storeWasThere) restoreIfUntouched(cmd.job.out, cmd.outBefore ?? 'other', [STORE_FILE, `${STORE_FILE}-wal`, `${STORE_FILE}-shm`, 'runs']);
  return outcome;
};

const runGrid = async (cmd: GridCommand, onPlanned: () => void): Promise<E.Either<OptbenchError, GridOutcome>> => {
  // A quota on the store's size: for a shared disk, and for testing what a full disk does to a grid.
  const quota = positiveInt('OPTBENCH_STORE_MAX_BYTES', process.env.OPTBENCH_STORE_MAX_BYTES, undefined);
  if (E.isLeft(quota))
    return E.left(
      invalidConfig({
        path: 'OPTBENCH_STORE_MAX_BYTES',
        message: `OPTBENCH_STORE_MAX_BYTES must be a positive whole number of bytes, got '${process.env.OPTBENCH_STORE_MAX_BYTES}': fix or unset it.`,
      }),
    );
  const opened = openStore(storePath(cmd.job.out), quota.right !== undefined ? { maxBytes: quota.right } : {});
  if (E.isLeft(opened)) return opened;
  const store = opened.right;
  const ctrlC = onCtrlC();
  let planned: readonly RunSpec[] = [];
  const queue = cmd.queue !== undefined ? await attachQueue(cmd.queue, cmd, store, ctrlC.stopRequested) : undefined;
  if (queue !== undefined && E.isLeft(queue)) {
    ctrlC.release();
    store.close();
    return queue;
  }
  try {
    await lastValueFrom(
      gridPipeline(cmd.job, {
        store,
        // The runs resolve their names where the command did.
        runtime: { ...builtInRuntime(), ...(cmd.registries ?? BUILT_IN_REGISTRIES) },
        shouldStop: ctrlC.stopRequested,
        progress: true,
        onPlan: (specs) => {
          planned = specs;
          onPlanned();
        },
        ...(queue ? { trainer: queue.right.trainer, concurrency: queue.right.concurrency, evaluate: {} } : {}),
      }).pipe(
        filter((e) => e.type !== 'BatchEnded'),
        toArray(),
      ),
    );
    await finishRunDir(cmd.job.out, { report: cmd.report, store });
    const ids = new Set(planned.map(runId));
    const rows = store.listRuns();
    if (E.isLeft(rows)) return rows;
    return E.right({ runs: rows.right.filter((r) => ids.has(r.runId)), interrupted: ctrlC.stopRequested(), signal: ctrlC.signal() });
  } catch (e) {
    return E.left(toOptbenchError(e));
  } finally {
    await queue?.right.close();
    ctrlC.release();
    store.close();
  }
};
