/**
 * Learning-rate schedules (issue 29): the factor of each schedule at chosen steps against its formula,
 * its resolution into steps, its effect on every built-in rule, the --optimizers / --schedule grammar and
 * its canonical form, run ids (a run without a schedule keeps the id it had before schedules), labels, and
 * a run through runFit and the CLI.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray, defer, of } from 'rxjs';
import { canonicalJson, optimizerText, runDisplayLabel, runId, type RunSpec } from '../lib/config/spec.js';
import type { Schedule } from '../lib/config/schedule.js';
import { loadDataset } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import type { OptbenchError } from '../lib/errors.js';
import {
  OPTIMIZER_NAMES,
  createOptimizer,
  parseOptimizerArg,
  parseOptimizerList,
  optimizerRegistry,
  resolveOptimizer,
  resolveSchedule,
  scheduleFactor,
  type LrSchedule,
  type ParamValue,
} from '../lib/optimizers/index.js';
import { runFit, type Checkpointer } from '../lib/train/fit.js';
import { planGrid } from '../lib/train/plan.js';
import type { RunEvent } from '../lib/train/events.js';
import { FIXTURE, cli } from './support/cli.js';
import { modernRefs } from './support/modern-refs.js';
import { SIZE, onCpu, trajectoryOf, worstRatios, type Ref } from './support/trajectories.js';

const right = <A>(e: E.Either<OptbenchError, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${e.left._tag}: ${e.left.message}`);
  return e.right;
};
const left = <A>(e: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(e)) assert.fail(`expected a Left, got ${JSON.stringify(e.right)}`);
  return e.left;
};
const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: ${got}, expected ${want}`);

describe('schedules: the factor at chosen steps', () => {
  // A run of 100 steps (10 epochs of 10) with a warm-up of 10 steps: 90 steps after it.
  const length = { epochs: 10, stepsPerEpoch: 10 };
  const of = (s: Schedule): LrSchedule => right(resolveSchedule(s, length))!;

  it('warm-up: t / W for t <= W, never a step of 0', () => {
    for (const kind of ['constant', 'cosine', 'linear', 'step'] as const) {
      const s = of({ kind, warmupSteps: 10 });
      [0.1, 0.2, 0.5, 1].forEach((want, i) => close(scheduleFactor(s, [1, 2, 5, 10][i]!), want, `${kind} warm-up`));
    }
  });

  it('constant: 1 after the warm-up, and past the run', () => {
    const s = of({ kind: 'constant', warmupSteps: 10 });
    for (const t of [11, 50, 100, 250]) close(scheduleFactor(s, t), 1, `t=${t}`);
  });

  it('linear: (D - k)/D with k the steps since the warm-up: 1, 1/2, 1/90 at the last step, then held', () => {
    const s = of({ kind: 'linear', warmupSteps: 10 });
    close(scheduleFactor(s, 11), 1, 'first step after the warm-up');
    close(scheduleFactor(s, 56), 0.5, 'half-way');
    close(scheduleFactor(s, 100), 1 / 90, 'last step');
    close(scheduleFactor(s, 140), 1 / 90, 'past the run');
    const plain = of({ kind: 'linear' });
    close(scheduleFactor(plain, 1), 1, 'no warm-up: the first step');
    close(scheduleFactor(plain, 100), 1 / 100, 'no warm-up: the last step');
  });

  it('cosine: (1 + cos(pi k / D))/2: 1, 3/4 a third of the way, 1/2 half-way, near 0 at the end', () => {
    const s = of({ kind: 'cosine', warmupSteps: 10 });
    close(scheduleFactor(s, 11), 1, 'first step after the warm-up');
    close(scheduleFactor(s, 41), 0.75, 'k = 30 of 90');
    close(scheduleFactor(s, 56), 0.5, 'k = 45 of 90');
    close(scheduleFactor(s, 71), 0.25, 'k = 60 of 90');
    close(scheduleFactor(s, 100), (1 + Math.cos((89 * Math.PI) / 90)) / 2, 'last step');
  });

  it('step: gamma^floor(k / every); every defaults to a third of the steps after the warm-up', () => {
    const s = of({ kind: 'step', warmupSteps: 10 });
    assert.equal(s.stepEvery, 30);
    assert.equal(s.stepGamma, 0.1);
    for (const [t, want] of [[11, 1], [40, 1], [41, 0.1], [70, 0.1], [71, 0.01], [100, 0.01]] as const) close(scheduleFactor(s, t), want, `t=${t}`);
    const custom = of({ kind: 'step', stepEveryEpochs: 2, stepGamma: 0.5 });
    assert.equal(custom.stepEvery, 20);
    for (const [t, want] of [[1, 1], [20, 1], [21, 0.5], [41, 0.25], [100, 0.0625]] as const) close(scheduleFactor(custom, t), want, `t=${t}`);
  });

  it('resolves epochs into steps, and refuses what does not fit the run', () => {
    assert.equal(right(resolveSchedule({ kind: 'cosine', warmupEpochs: 2 }, length))!.warmupSteps, 20);
    assert.equal(right(resolveSchedule(undefined, length)), undefined);
    // A constant rate after a warm-up in steps needs no length (a loop of one's own).
    assert.deepEqual(right(resolveSchedule({ kind: 'constant', warmupSteps: 5 }, undefined)), {
      kind: 'constant',
      warmupSteps: 5,
      totalSteps: null,
      stepEvery: 1,
      stepGamma: 0.1,
    });
    assert.match(left(resolveSchedule({ kind: 'cosine' }, undefined)).message, /needs the run's length/);
    assert.match(left(resolveSchedule({ kind: 'constant', warmupEpochs: 1 }, undefined)).message, /warm-up in epochs needs the run's length/);
    const tooLong = left(resolveSchedule({ kind: 'linear', warmupEpochs: 10 }, length));
    assert.equal(tooLong._tag === 'InvalidConfig' && tooLong.path, 'optimizer.schedule.warmupEpochs');
    assert.match(tooLong.message, /warm-up \(100 steps\) must be shorter than the run \(100 steps: 10 epochs of 10\)/);
  });
});

describe('schedules: every built-in rule takes its rates through the schedule', () => {
  onCpu();
  // 20 steps (4 epochs of 5), linear after a warm-up of 4: factor t/4, then (20 - t + 1)/16.
  const run = { schedule: { kind: 'linear', warmupSteps: 4 } as Schedule, epochs: 4, stepsPerEpoch: 5 };
  const factor = (t: number) => (t <= 4 ? t / 4 : (20 - t + 1) / 16);
  const grads = (k: number) => [0.3 + 0.1 * Math.sin(k), -0.7 + 0.05 * k, 0.01 * (k % 3)];
  const steps = (name: string, preset: string, r: typeof run | Record<string, never>): number[][] => {
    const opt = right(createOptimizer(name, { preset }, r));
    const w = tf.variable(tf.zeros([3]));
    const moves: number[][] = [];
    for (let k = 0; k < 20; k++) {
      const before = Array.from(w.dataSync());
      tf.tidy(() => opt.applyGradients({ [w.name]: tf.tensor1d(grads(k)) }));
      moves.push(Array.from(w.dataSync()).map((x, i) => x - before[i]!));
    }
    opt.dispose();
    w.dispose();
    return moves;
  };
  // Rules whose state does not depend on the rate, at defaults without weight decay: each step's move is
  // the rate times what the constant-rate run moves. (Momentum SGD and weight decay carry the rate into
  // the state; Schedule-Free averages over rates: both are checked against float64 references below.)
  const linear: Array<[string, string]> = [
    ...['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam'].map((n) => [n, 'tfkeras2'] as [string, string]),
    ['radam', 'modern'],
    ['lion', 'modern'],
    ['adabelief', 'modern'],
    ['muon', 'modern'],
  ];
  for (const [name, preset] of linear)
    it(`${name} (${preset}): each step moves by the factor times the constant-rate step`, () => {
      const scheduled = steps(name, preset, run);
      const constant = steps(name, preset, {});
      scheduled.forEach((m, k) =>
        m.forEach((x, i) => {
          const want = factor(k + 1) * constant[k]![i]!;
          assert.ok(Math.abs(x - want) <= 1e-5 * Math.abs(constant[k]![i]!) + 1e-12, `step ${k + 1} weight ${i}: ${x} vs ${want}`);
        }),
      );
    });

  it('covers every built-in (the ones not above are checked against references below)', () => {
    const covered = new Set([...linear.map(([n]) => n), 'adamw', 'adamw-schedulefree']);
    assert.deepEqual(OPTIMIZER_NAMES.filter((n) => !covered.has(n)), []);
  });

  type P = Record<string, ParamValue>;
  const n = (p: P, k: string) => p[k] as number;
  const T = 100;
  const lrAt = (lr: number, s: LrSchedule) => (t: number) => lr * scheduleFactor(s, t);
  // Float64 references of momentum SGD as each library schedules it.
  const sgdRefs: Record<string, (p: P, lr: (t: number) => number) => Ref> = {
    // tf.keras: the scheduled rate enters the velocity, v = mu v - lr_t g.
    tfkeras: (p, lr) => {
      const v = new Array<number>(SIZE).fill(0);
      return (th, g, t) => g.forEach((gi, i) => ((v[i] = n(p, 'momentum') * v[i]! - lr(t) * gi), (th[i]! += v[i]!)));
    },
    // torch.optim.SGD with an LR scheduler: the rate multiplies the buffer, buf = mu buf + g.
    torch: (p, lr) => {
      const b = new Array<number>(SIZE).fill(0);
      return (th, g, t) => g.forEach((gi, i) => ((b[i] = n(p, 'momentum') * b[i]! + gi), (th[i]! -= lr(t) * b[i]!)));
    },
  };
  const cases: Array<[string, string, P, Schedule, (p: P, s: LrSchedule) => Ref]> = [
    ['sgd', 'tfkeras2', { momentum: 0.9 }, { kind: 'cosine', warmupSteps: 10 }, (p, s) => sgdRefs.tfkeras!(p, lrAt(n(p, 'lr'), s))],
    ['sgd', 'modern', {}, { kind: 'step', stepEverySteps: 25, stepGamma: 0.5 }, (p, s) => sgdRefs.torch!(p, lrAt(n(p, 'lr'), s))],
    ['adamw', 'modern', { weightDecay: 0.5 }, { kind: 'linear', warmupSteps: 20 }, (p, s) => modernRefs.adamw!(p, SIZE, lrAt(n(p, 'lr'), s))],
    ['adamw-schedulefree', 'modern', {}, { kind: 'constant', warmupSteps: 30 }, (p, s) => modernRefs['adamw-schedulefree']!(p, SIZE, lrAt(n(p, 'lr'), s))],
    ['adamw-schedulefree', 'paper', {}, { kind: 'constant', warmupSteps: 30 }, (p, s) => modernRefs['adamw-schedulefree/paper']!(p, SIZE, lrAt(n(p, 'lr'), s))],
  ];
  for (const [name, preset, overrides, schedule, ref] of cases)
    it(`${preset} ${name} ${JSON.stringify(overrides)} with ${JSON.stringify(schedule)} follows its float64 reference within 1e-4 of each weight's movement`, () => {
      const { params } = right(resolveOptimizer({ name, preset, overrides }));
      const s = right(resolveSchedule(schedule, { epochs: 10, stepsPerEpoch: T / 10 }))!;
      const worst = worstRatios(right(createOptimizer(name, { preset, ...overrides }, { schedule, epochs: 10, stepsPerEpoch: 10 })), trajectoryOf(ref(params, s)));
      worst.forEach((r, i) => assert.ok(r <= 1, `weight ${i}: ${r.toFixed(3)} x the bound`));
    });

  it('tf.keras\'s and torch\'s momentum SGD part under a schedule (the bound tells them apart)', () => {
    const { params } = right(resolveOptimizer({ name: 'sgd', preset: 'modern' }));
    const schedule: Schedule = { kind: 'step', stepEverySteps: 25, stepGamma: 0.5 };
    const s = right(resolveSchedule(schedule, { epochs: 10, stepsPerEpoch: 10 }))!;
    const worst = worstRatios(right(createOptimizer('sgd', { preset: 'modern' }, { schedule, epochs: 10, stepsPerEpoch: 10 })), trajectoryOf(sgdRefs.tfkeras!(params, lrAt(n(params, 'lr'), s))));
    assert.ok(Math.max(...worst) > 10, `within ${Math.max(...worst)} x the bound`);
  });

  it('refuses a decaying schedule for Schedule-Free, any for a registered optimizer, and a malformed one', () => {
    assert.match(left(createOptimizer('adamw-schedulefree', {}, { schedule: { kind: 'cosine' }, epochs: 1, stepsPerEpoch: 10 })).message, /takes no 'cosine' schedule: give it only a warm-up/);
    const reg = right(optimizerRegistry([{ name: 'schedprobe', defaults: { lr: 0.1 }, create: (p: Record<string, number | boolean>) => right(createOptimizer('sgd', { lr: Number(p['lr']) })) }]));
    const e = left(resolveOptimizer({ name: 'schedprobe', schedule: { kind: 'constant', warmupSteps: 3 } }, reg));
    assert.match(e.message, /schedules apply to the built-in optimizers; 'schedprobe' is registered/);
    // The constant rate is no schedule: a registered optimizer takes it.
    right(resolveOptimizer({ name: 'schedprobe', schedule: { kind: 'constant' } }, reg));
    const bad = left(createOptimizer('adam', {}, { schedule: { kind: 'exponential' } as unknown as Schedule }));
    assert.equal(bad._tag === 'InvalidConfig' && bad.path, 'optimizer.schedule.kind');
    assert.match(left(createOptimizer('adam', {}, { schedule: { kind: 'cosine', stepGamma: 0.5 }, epochs: 1, stepsPerEpoch: 3 })).message, /stepGamma belongs to the 'step' schedule/);
    assert.match(left(createOptimizer('adam', {}, { schedule: { kind: 'cosine', warmupSteps: 1, warmupEpochs: 1 }, epochs: 2, stepsPerEpoch: 3 })).message, /in steps or in epochs, not both/);
  });
});

describe('schedules: the --optimizers grammar, canonical specs and ids', () => {
  const cosine500 = { name: 'adam', overrides: { lr: 0.01 }, schedule: { kind: 'cosine', warmupSteps: 500 } };

  it('reads a schedule beside the overrides, however it is spelled', () => {
    for (const text of ['adam:lr=0.01,schedule=cosine,warmup=500', 'adam:schedule=Cosine,warmup=500steps,learning_rate=0.01', 'Adam : warmup = 500 step , schedule=cosine , lr=1e-2'])
      assert.deepEqual(right(parseOptimizerArg(text)), cosine500, text);
    assert.deepEqual(right(parseOptimizerArg('sgd:warmup=2epochs')), { name: 'sgd', overrides: {}, schedule: { kind: 'constant', warmupEpochs: 2 } });
    assert.deepEqual(right(parseOptimizerArg('sgd:schedule=step,stepEvery=3epochs,stepGamma=0.5')), {
      name: 'sgd',
      overrides: {},
      schedule: { kind: 'step', stepEveryEpochs: 3, stepGamma: 0.5 },
    });
  });

  it('the constant rate and every default are left out: the study\'s spelling', () => {
    for (const text of ['adam:schedule=constant', 'adam:warmup=0', 'adam:schedule=constant,warmup=0steps', 'adam'])
      assert.deepEqual(right(parseOptimizerArg(text)), { name: 'adam', overrides: {} }, text);
    assert.deepEqual(right(parseOptimizerArg('sgd:schedule=step,stepGamma=0.1')), { name: 'sgd', overrides: {}, schedule: { kind: 'step' } });
  });

  it('--schedule is every item\'s schedule, and an item\'s own keys override its keys', () => {
    const list = right(parseOptimizerList('adam,sgd:warmup=10,rmsprop:schedule=constant,warmup=0,adamw:schedule=step', { schedule: 'cosine,warmup=1epochs' }));
    assert.deepEqual(
      list.map((o) => [o.name, o.schedule]),
      [
        ['adam', { kind: 'cosine', warmupEpochs: 1 }],
        ['sgd', { kind: 'cosine', warmupSteps: 10 }],
        ['rmsprop', undefined],
        ['adamw', { kind: 'step', warmupEpochs: 1 }],
      ],
    );
    assert.deepEqual(right(parseOptimizerList('adam', { schedule: 'warmup=5' }))[0]!.schedule, { kind: 'constant', warmupSteps: 5 });
    assert.deepEqual(right(parseOptimizerList('adam', { schedule: 'constant' }))[0], { name: 'adam', overrides: {} });
  });

  const errors: Array<[string, string | undefined, RegExp]> = [
    ['adam:schedule=exponential', undefined, /schedule must be one of constant, cosine, linear, step, got 'exponential'/],
    ['adam:warmup=2days', undefined, /warmup must be a whole number of steps \(warmup=500\) or epochs \(warmup=2epochs\), got '2days'/],
    ['adam:warmup=1.5', undefined, /warmup must be a whole number/],
    ['adam:warmup=5,warmup=6', undefined, /warmup is given twice/],
    ['adam:stepGamma=1.5,schedule=step', undefined, /stepGamma must be a number between 0 and 1/],
    ['adam:schedule=cosine,stepEvery=5', undefined, /stepEverySteps belongs to the 'step' schedule, not 'cosine'/],
    ['adam:stepEvery=0,schedule=step', undefined, /stepEvery must be at least 1/],
    ['adam', 'cosine,lr=3', /Cannot read --schedule at 'lr=3': 'lr' is not a schedule key/],
    ['adam', 'cosine,linear', /Cannot read --schedule at 'linear': expected key=value/],
    ['adam', 'fast', /schedule must be one of constant, cosine, linear, step, got 'fast'/],
  ];
  for (const [text, schedule, message] of errors)
    it(`refuses '${text}'${schedule !== undefined ? ` with --schedule '${schedule}'` : ''}`, () => {
      const e = left(parseOptimizerList(text, schedule !== undefined ? { schedule } : {}));
      assert.equal(e._tag, 'InvalidConfig');
      assert.match(e.message, message);
    });

  const spec = (optimizer: RunSpec['optimizer']): RunSpec => ({
    dataset: 'fashion-mnist',
    model: 'fcnn',
    optimizer,
    seed: 0,
    epochs: 50,
    batchSize: 200,
    backend: 'native',
  });
  /** The id as it was computed before schedules (and precision) were part of specs. */
  const idBefore = (s: RunSpec) => createHash('sha256').update(canonicalJson(s)).digest('hex').slice(0, 16);

  it('a run without a schedule keeps the id it had before schedules, also when it says "constant"', () => {
    const plain = spec({ name: 'adam', preset: 'tfkeras2', overrides: {} });
    assert.equal(runId(plain), idBefore(plain));
    assert.equal(runId(spec({ name: 'adam', preset: 'tfkeras2', overrides: {}, schedule: { kind: 'constant' } })), runId(plain));
    const cosine = spec({ name: 'adam', preset: 'tfkeras2', overrides: {}, schedule: { kind: 'cosine' } });
    assert.notEqual(runId(cosine), runId(plain));
    // Spelled with its default gamma or without: one run, one id.
    const a = spec({ name: 'sgd', preset: 'modern', overrides: {}, schedule: { kind: 'step', stepGamma: 0.1 } });
    const b = spec({ name: 'sgd', preset: 'modern', overrides: {}, schedule: { kind: 'step' } });
    assert.equal(runId(a), runId(b));
  });

  it('labels say the schedule, in the grammar', () => {
    const s = spec({ name: 'adam', preset: 'tfkeras2', overrides: { lr: 0.01 }, schedule: { kind: 'cosine', warmupEpochs: 2 } });
    assert.equal(runDisplayLabel(s), 'fcnn/adam:lr=0.01,schedule=cosine,warmup=2epochs/s0');
    assert.equal(optimizerText({ name: 'sgd', overrides: {}, schedule: { kind: 'constant', warmupSteps: 100 } }), 'sgd:warmup=100');
    assert.equal(optimizerText({ name: 'sgd', overrides: {}, schedule: { kind: 'constant' } }), 'sgd');
  });

  it('planGrid puts a schedule in the spec, and leaves the constant rate out', () => {
    const specs = right(
      planGrid({
        dataset: 'fashion-mini',
        models: ['fcnn'],
        optimizers: [
          { name: 'adam', schedule: { kind: 'linear', warmupSteps: 3 } },
          { name: 'sgd', schedule: { kind: 'constant' } },
          { name: 'nadam' },
        ],
        preset: 'tfkeras2',
        seeds: 1,
        epochs: 1,
        batchSize: 10,
        backend: 'cpu',
      }),
    );
    assert.deepEqual(specs.map((s) => s.optimizer), [
      { name: 'adam', preset: 'tfkeras2', overrides: {}, schedule: { kind: 'linear', warmupSteps: 3 } },
      { name: 'sgd', preset: 'tfkeras2', overrides: {} },
      { name: 'nadam', preset: 'tfkeras2', overrides: {} },
    ]);
  });
});

describe('schedules: runFit and the CLI', function () {
  let data: Dataset;
  before(async () => {
    await tf.setBackend('cpu');
    data = right(await loadDataset({ dir: FIXTURE, dataset: 'fashion-mini' }));
  });

  const fit = async (schedule: Schedule, epochs = 2): Promise<{ events: RunEvent[]; optimizer: tf.Optimizer | undefined }> => {
    let optimizer: tf.Optimizer | undefined;
    const probe: Checkpointer = {
      restore: (_id, _m, o) => defer(() => ((optimizer = o), of(0))),
      save: () => of(undefined),
      discard: () => of(undefined),
    };
    const events = await lastValueFrom(
      runFit(
        {
          dataset: data.name,
          model: 'fcnn',
          optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {}, schedule },
          seed: 0,
          epochs,
          batchSize: 25,
          backend: 'cpu',
          subset: 60,
        },
        data,
        { checkpointer: probe },
      ).pipe(toArray()),
    );
    return { events, optimizer };
  };

  it('gives the optimizer the schedule over the whole run: epochs x ceil(images / batch) steps', async () => {
    const { events, optimizer } = await fit({ kind: 'cosine', warmupEpochs: 1 });
    assert.deepEqual(events.filter((e) => e.type !== 'BatchEnded').map((e) => e.type), ['RunStarted', 'EpochEnded', 'EpochEnded', 'RunEnded']);
    // 60 images in batches of 25: 3 steps an epoch, 6 in all, the first 3 warming up.
    assert.deepEqual(optimizer!.getConfig()['schedule'], { kind: 'cosine', warmupSteps: 3, totalSteps: 6, stepEvery: 1, stepGamma: 0.1 });
    assert.equal(optimizer!.iterations, 6);
  });

  it('a warm-up as long as the run is a RunFailed{InvalidConfig}, not a throw', async () => {
    const { events } = await fit({ kind: 'linear', warmupEpochs: 2 });
    const failed = events.find((e) => e.type === 'RunFailed');
    assert.ok(failed?.type === 'RunFailed' && failed.error._tag === 'InvalidConfig', JSON.stringify(failed));
    assert.match(failed.error.message, /warm-up \(6 steps\) must be shorter than the run \(6 steps/);
  });

  it('optbench run --schedule trains each optimizer with it, and runs and export show it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'optbench-schedules-'));
    try {
      const common = ['--backend', 'cpu', '--data-dir', FIXTURE, '--dataset', 'fashion-mini', '--epochs', '1', '--subset', '40', '--test-subset', '20', '--batch-size', '20'];
      const ran = await cli(['run', '--models', 'fcnn', '--optimizers', 'adamw,sgd:schedule=step', '--schedule', 'cosine,warmup=1', '--preset', 'modern', '--out', out, '--no-report', ...common]);
      assert.equal(ran.code, 0, ran.stderr);
      const runs = await cli(['runs', out, '--json']);
      const listed = (JSON.parse(runs.stdout) as { runs: { label: string; schedule: string | null; status: string }[] }).runs;
      assert.deepEqual(listed.map((r) => [r.label, r.schedule, r.status]).sort(), [
        ['fcnn/adamw/s0', 'schedule=cosine,warmup=1', 'done'],
        ['fcnn/sgd/s0', 'schedule=step,warmup=1', 'done'],
      ]);
      const table = await cli(['runs', out]);
      assert.match(table.stdout, /fcnn\/adamw:schedule=cosine,warmup=1\/s0/);
      const csv = await cli(['export', out, '--format', 'csv']);
      assert.match(csv.stdout, /,modern,\{\},"schedule=cosine,warmup=1",0,/);
      const refused = await cli(['run', '--models', 'fcnn', '--optimizers', 'adamw-schedulefree', '--schedule', 'linear', '--out', join(out, 'x'), ...common]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /takes no 'linear' schedule/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
