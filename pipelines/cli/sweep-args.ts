/**
 * The arguments of `optbench sweep` and `optbench tune`, read and checked into one SweepCommand: the
 * search (strategy, space, trials or budget) checked against the optimizer's hyperparameters, the
 * training options, and the output directory. Running it is sweep-command.ts.
 */
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as A from 'fp-ts/lib/Array.js';
import type { SweepJob } from '../sweep.js';
import { useBackend } from '../../lib/backend/index.js';
import { invalidConfig, printable, unknown, type OptbenchError } from '../../lib/errors.js';
import { checkDatasetName } from '../../lib/data/locate.js';
import { BUILT_IN_REGISTRIES, type Registries } from './registries.js';
import { isOneOf } from '../../lib/one-of.js';
import { optimizerNames, parseOptimizerList, resolveOptimizer } from '../../lib/optimizers/index.js';
import { STRATEGIES, checkSearchConfig, decodeSearchConfig, type SearchConfig, type Strategy } from '../../lib/sweep/search.js';
import { parseSearchSpace, type SearchSpace, type SpaceDimension } from '../../lib/sweep/space.js';
import { timestamp } from './grid-command.js';
import { outputDir } from './out-dir.js';
import { checkRunCount, list, parseOptions, positiveInt, TRAINING_OPTIONS, type Parsed } from './options.js';

const COMMON = {
  ...TRAINING_OPTIONS,
  model: { type: 'string' },
  concurrency: { type: 'string' },
  eta: { type: 'string' },
  'min-epochs': { type: 'string' },
  holdout: { type: 'string' },
  'search-seed': { type: 'string' },
  strategy: { type: 'string' },
  queue: { type: 'string' },
} as const;

const SWEEP_OPTIONS = { ...COMMON, optimizer: { type: 'string' }, space: { type: 'string' }, trials: { type: 'string' } } as const;
const TUNE_OPTIONS = { ...COMMON, optimizers: { type: 'string' }, budget: { type: 'string' } } as const;

/** The learning-rate range of `tune`: wide enough for every built-in's useful rates (Lion's 1e-4 to Muon's 0.02 too). */
const TUNE_SPACE = 'lr=log(1e-5,1)';

export interface SweepCommand {
  readonly job: SweepJob;
  readonly json: boolean;
  readonly report: boolean;
  /** Train on the queue's workers (its Redis URL). */
  readonly queue?: string;
  readonly concurrencyGiven?: boolean;
}

/** Every dimension's extremes (and every choice) must be a valid value of the optimizer's hyperparameter. */
const checkSpaceFor = (optimizer: string, preset: string, space: SearchSpace, reg: Registries): E.Either<OptbenchError, SearchSpace> => {
  const extremes = (d: SpaceDimension): Array<number | boolean> => (d.kind === 'choice' ? [...d.values] : [d.lo, d.hi]);
  for (const d of space)
    for (const v of extremes(d)) {
      const r = resolveOptimizer({ name: optimizer, preset, overrides: { [d.name]: v } }, reg.optimizers);
      if (E.isLeft(r)) {
        const e = r.left;
        return E.left(
          e._tag === 'InvalidConfig'
            ? invalidConfig({ path: `space.${d.name}`, message: `In --space, ${d.name} can reach ${String(v)}, which ${optimizer} refuses: ${e.message}` })
            : e,
        );
      }
    }
  return E.right(space);
};

const readCommon = async (p: Parsed, command: 'sweep' | 'tune', defaults: { strategy: Strategy }, reg: Registries) => {
  const v = p.values;
  const model = typeof v.model === 'string' ? v.model : undefined;
  if (model === undefined)
    return E.left<OptbenchError, never>(invalidConfig({ path: 'model', message: `optbench ${command} needs --model, e.g. --model fcnn (see optbench list).` }));
  const def = reg.models.get(model);
  if (E.isLeft(def)) return def;
  const backend = await useBackend(typeof v.backend === 'string' ? v.backend : 'auto');
  if (E.isLeft(backend)) return backend;
  const nums = pipe(
    [
      positiveInt('epochs', v.epochs, 9),
      positiveInt('seeds', v.seeds, 3),
      positiveInt('concurrency', v.concurrency, 1),
      positiveInt('eta', v.eta, 3),
      positiveInt('min-epochs', v['min-epochs'], 1),
      positiveInt('holdout', v.holdout, 10000),
      positiveInt('subset', v.subset, undefined),
      positiveInt('test-subset', v['test-subset'], undefined),
      positiveInt('batch-size', v['batch-size'], 200),
    ],
    A.sequence(E.Applicative),
  );
  if (E.isLeft(nums)) return nums;
  const seedText = typeof v['search-seed'] === 'string' ? v['search-seed'].trim() : '0';
  if (!/^\d+$/.test(seedText) || Number(seedText) > 0xffffffff)
    return E.left<OptbenchError, never>(
      invalidConfig({ path: 'search-seed', message: `--search-seed must be a whole number from 0 to 4,294,967,295, got '${printable(seedText)}'.` }),
    );
  if (typeof v.dataset === 'string') {
    const named = checkDatasetName(v.dataset);
    if (E.isLeft(named)) return named;
  }
  const strategy = typeof v.strategy === 'string' ? v.strategy : defaults.strategy;
  if (!isOneOf(STRATEGIES)(strategy)) return E.left<OptbenchError, never>(unknown('option', strategy, STRATEGIES));
  const [epochs, seeds, concurrency, eta, minEpochs, holdout, subset, testSubset, batchSize] = nums.right as [
    number,
    number,
    number,
    number,
    number,
    number,
    number | undefined,
    number | undefined,
    number,
  ];
  return E.right({
    model,
    direction: def.right.kind === 'vae' ? ('min' as const) : ('max' as const),
    backend: backend.right,
    epochs,
    seeds,
    concurrency,
    eta,
    minEpochs,
    holdout,
    subset,
    testSubset,
    batchSize,
    searchSeed: Number(seedText),
    strategy: strategy as Strategy,
    preset: typeof v.preset === 'string' ? v.preset : 'tfkeras2',
    dataset: typeof v.dataset === 'string' ? v.dataset : 'fashion-mnist',
    data: {
      ...(typeof v['data-dir'] === 'string' ? { dir: v['data-dir'] } : {}),
      ...(typeof v.dataset === 'string' ? { dataset: v.dataset } : {}),
      ...(v.download === true ? { download: true } : {}),
    },
    json: v.json === true,
    report: v['no-report'] !== true,
    out: v.out,
    force: v.force === true,
  });
};

type Common = Extract<Awaited<ReturnType<typeof readCommon>>, { _tag: 'Right' }>['right'];

const searchConfig = (c: Common, optimizer: string, space: SearchSpace, trials: number): E.Either<OptbenchError, SearchConfig> =>
  pipe(
    decodeSearchConfig({
      dataset: c.dataset,
      model: c.model,
      optimizer,
      preset: c.preset,
      space,
      strategy: c.strategy,
      trials,
      epochs: c.epochs,
      minEpochs: c.minEpochs,
      eta: c.eta,
      searchSeed: c.searchSeed,
      holdout: c.holdout,
      batchSize: c.batchSize,
      backend: c.backend,
      direction: c.direction,
      ...(c.subset !== undefined ? { subset: c.subset } : {}),
    }),
    E.chain(checkSearchConfig),
  );

const outDir = (c: Common, name: string): E.Either<OptbenchError, string> =>
  outputDir(c.out, () => join('runs', `${name}-${timestamp()}`), c.force);

/** The command both parsers end with: the common options around a job of the given searches. */
const sweepCommand = (
  c: Common,
  v: { readonly queue?: unknown; readonly concurrency?: unknown },
  job: Pick<SweepJob, 'kind' | 'title' | 'out' | 'searches' | 'withDefaults'>,
): SweepCommand => ({
  json: c.json,
  report: c.report,
  ...(typeof v.queue === 'string' ? { queue: v.queue } : {}),
  concurrencyGiven: v.concurrency !== undefined,
  job: {
    kind: job.kind,
    title: job.title,
    out: job.out,
    data: c.data,
    searches: job.searches,
    seeds: c.seeds,
    ...(c.testSubset !== undefined ? { testSubset: c.testSubset } : {}),
    withDefaults: job.withDefaults,
    concurrency: c.concurrency,
  },
});

/** `optbench sweep --model M --optimizer O --space "..." --trials N --strategy grid|random|asha ...`. */
export const parseSweepCommand = async (argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<E.Either<OptbenchError, SweepCommand>> => {
  const p = parseOptions(argv, SWEEP_OPTIONS, { command: 'sweep', names: [] });
  if (E.isLeft(p)) return p;
  const v = p.right.values;
  const c = await readCommon(p.right, 'sweep', { strategy: 'random' }, reg);
  if (E.isLeft(c)) return c;
  if (typeof v.optimizer !== 'string')
    return E.left(invalidConfig({ path: 'optimizer', message: 'optbench sweep needs --optimizer, e.g. --optimizer adamax (see optbench list).' }));
  const optimizer = v.optimizer.toLowerCase();
  // Any optimizer the command knows: the built-ins and those of an embedding script's registry.
  if (!optimizerNames(reg.optimizers).includes(optimizer)) return E.left(unknown('optimizer', v.optimizer, optimizerNames(reg.optimizers)));
  if (typeof v.space !== 'string')
    return E.left(invalidConfig({ path: 'space', message: 'optbench sweep needs --space, e.g. --space "lr=log(1e-4,1e-1),beta1=uniform(0.8,0.99)".' }));
  const space = pipe(parseSearchSpace(v.space), E.chainW((s) => checkSpaceFor(optimizer, c.right.preset, s, reg)));
  if (E.isLeft(space)) return space;
  const trials = positiveInt('trials', v.trials, 10);
  if (E.isLeft(trials)) return trials;
  const total = checkRunCount('optbench sweep', [['trials', trials.right!]]);
  if (E.isLeft(total)) return total;
  const config = searchConfig(c.right, optimizer, space.right, trials.right!);
  if (E.isLeft(config)) return config;
  const out = outDir(c.right, `sweep-${c.right.model}-${optimizer}`);
  if (E.isLeft(out)) return out;
  return E.right(
    sweepCommand(c.right, v, {
      kind: 'sweep',
      title: `Sweep: ${c.right.model} / ${optimizer} (${c.right.strategy}, ${trials.right} trials)`,
      out: out.right,
      searches: [config.right],
      withDefaults: false,
    }),
  );
};

/** `optbench tune --model M --optimizers all --budget K ...`: the same learning-rate search for every optimizer. */
export const parseTuneCommand = async (argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<E.Either<OptbenchError, SweepCommand>> => {
  const p = parseOptions(argv, TUNE_OPTIONS, { command: 'tune', names: [] });
  if (E.isLeft(p)) return p;
  const v = p.right.values;
  const c = await readCommon(p.right, 'tune', { strategy: 'random' }, reg);
  if (E.isLeft(c)) return c;
  // As --optimizers reads elsewhere: names and groups (all: every optimizer this command knows, the built-ins
  // and an embedding script's; study: the seven, the default; modern: the built-ins beyond them).
  // Tune searches the learning rate alone, so overrides and schedules have no place here.
  const listed = parseOptimizerList(typeof v.optimizers === 'string' ? v.optimizers : 'study', {}, reg.optimizers);
  if (E.isLeft(listed)) return listed;
  const tuned = listed.right.find((o) => Object.keys(o.overrides).length > 0 || o.schedule !== undefined);
  if (tuned !== undefined)
    return E.left(invalidConfig({ path: 'optimizers', message: `optbench tune searches each optimizer's learning rate from its defaults: give names only (${tuned.name} has overrides or a schedule).` }));
  const optimizers = [...new Set(listed.right.map((o) => o.name))];
  if (v.budget === undefined)
    return E.left(invalidConfig({ path: 'budget', message: 'optbench tune needs --budget K, the number of learning rates every optimizer tries (e.g. --budget 8).' }));
  const budget = positiveInt('budget', v.budget, undefined);
  if (E.isLeft(budget)) return budget;
  const total = checkRunCount('optbench tune', [
    ['optimizers', optimizers.length],
    ['trials', budget.right! + 2 * c.right.seeds],
  ]);
  if (E.isLeft(total)) return total;
  const space = parseSearchSpace(TUNE_SPACE);
  if (E.isLeft(space)) return space;
  const configs: SearchConfig[] = [];
  for (const o of optimizers) {
    const checked = checkSpaceFor(o, c.right.preset, space.right, reg);
    if (E.isLeft(checked)) return checked;
    const config = searchConfig(c.right, o, space.right, budget.right!);
    if (E.isLeft(config)) return config;
    configs.push(config.right);
  }
  const out = outDir(c.right, `tune-${c.right.model}`);
  if (E.isLeft(out)) return out;
  return E.right(
    sweepCommand(c.right, v, {
      kind: 'tune',
      title: `Tune: ${c.right.model}, ${optimizers.length} optimizer${optimizers.length === 1 ? '' : 's'}, learning rate with budget ${budget.right}`,
      out: out.right,
      searches: configs,
      withDefaults: true,
    }),
  );
};
