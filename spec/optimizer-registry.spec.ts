/**
 * A user optimizer (the Signum of docs/examples/user-optimizer.ts) in an optimizer registry, a value: known
 * by name to createOptimizer, resolveOptimizer, the --optimizers parser, listOptimizers, runFit and the CLI
 * given that registry, and to nothing else.
 */
import { defer, of } from 'rxjs';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { SignumOptimizer, signum, trainWithSignum } from '../docs/examples/user-optimizer.js';
import { BUILT_IN_MODELS } from '../lib/models/registry.js';
import { useBackend } from '../lib/backend/index.js';
import { main } from '../pipelines/cli/main.js';
import { loadDataset } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import type { OptbenchError } from '../lib/errors.js';
import type { BuiltModel } from '../lib/models/types.js';
import {
  OPTIMIZER_NAMES,
  PRESET_NAMES,
  createOptimizer,
  listOptimizers,
  optimizerNames,
  paramNamesOf,
  parseOptimizerArg,
  parseOptimizerList,
  BUILT_IN_OPTIMIZERS,
  optimizerRegistry,
  resolveOptimizer,
  type OptimizerDef,
  type OptimizerRegistry,
} from '../lib/optimizers/index.js';
import { registeredOptimizerNames } from '../lib/optimizers/registry.js';
import type { Checkpointer } from '../lib/train/fit.js';

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) assert.fail(e.left.message);
  return e.right;
};
const left = <A>(e: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(e)) assert.fail('expected a Left');
  return e.left;
};

const FIXTURE = { dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' };

/** Runs `fn` with stdout and stderr captured (the CLI writes to both). */
const capture = async (fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> => {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
};

describe('optimizers: a registry of user optimizers', function () {
  let reg: OptimizerRegistry;
  before(() => {
    reg = right(optimizerRegistry([signum]));
  });

  it('is a value: the built-ins do not know signum, and another registry has its own', () => {
    assert.equal(left(createOptimizer('signum'))._tag, 'UnknownName');
    assert.deepEqual(registeredOptimizerNames(), []);
    assert.deepEqual(registeredOptimizerNames(reg), ['signum']);
    const other = right(BUILT_IN_OPTIMIZERS.with({ ...signum, defaults: { ...signum.defaults, lr: 0.5 } }));
    assert.equal(right(resolveOptimizer({ name: 'signum' }, other)).params['lr'], 0.5);
    assert.equal(right(resolveOptimizer({ name: 'signum' }, reg)).params['lr'], signum.defaults['lr']);
  });

  describe('by name, like a built-in', () => {
    it('createOptimizer builds the user class from its defaults, and from overrides under any preset', () => {
      const a = right(createOptimizer('signum', {}, {}, reg));
      assert.ok(a instanceof SignumOptimizer);
      assert.deepEqual(a.config, signum.defaults);
      const b = right(createOptimizer('Signum', { preset: 'torch', learning_rate: 3e-4, weightDecay: 0.1 }, {}, reg));
      assert.ok(b instanceof SignumOptimizer);
      assert.deepEqual(b.config, { lr: 3e-4, momentum: 0.9, weightDecay: 0.1 });
      a.dispose();
      b.dispose();
    });

    it('resolveOptimizer gives the same defaults under every preset and names the rule after it', () => {
      for (const preset of PRESET_NAMES) {
        const r = right(resolveOptimizer({ name: 'signum', preset }, reg));
        assert.deepEqual(r, { name: 'signum', preset, rule: 'registered:signum', params: { ...signum.defaults } });
      }
      assert.equal(right(resolveOptimizer({ name: 'signum' }, reg)).preset, 'tfkeras2');
    });

    it('validates overrides with the built-ins\' ranges, its own ranges and its validate()', () => {
      const e1 = left(resolveOptimizer({ name: 'signum', preset: 'torch', overrides: { lr: 0 } }, reg));
      assert.equal(e1._tag, 'InvalidConfig');
      assert.match(e1.message, /lr must be a finite number > 0/);
      assert.match(left(createOptimizer('signum', { momentum: 1 }, {}, reg)).message, /momentum must be a number in \[0, 1\)/);
      assert.match(left(createOptimizer('signum', { weightDecay: -0.1 }, {}, reg)).message, /weightDecay must be a finite number >= 0/);
      const e2 = left(createOptimizer('signum', { weightDecay: 200 }, {}, reg));
      assert.equal(e2._tag, 'InvalidConfig');
      assert.match(e2.message, /signum refuses .*weightDecay=200.*: lr \* weightDecay must be below 1/);
      const e3 = left(createOptimizer('signum', { eps: 1e-8 }, {}, reg));
      assert.equal(e3._tag, 'UnknownName');
      assert.match(e3.message, /signum has no hyperparameter 'eps'\. Valid: lr, momentum, weightDecay\./);
    });

    it('an unknown name lists the registered ones too and suggests the nearest', () => {
      const e = left(createOptimizer('signun', {}, {}, reg));
      assert.equal(e._tag, 'UnknownName');
      assert.equal(e._tag === 'UnknownName' && e.suggestion, 'signum');
      assert.match(e.message, /Valid optimizers: sgd, .*, nadam, .*signum\./);
      assert.deepEqual(optimizerNames(reg), [...OPTIMIZER_NAMES, 'signum']);
      assert.deepEqual(paramNamesOf('signum', reg), ['lr', 'momentum', 'weightDecay']);
    });
  });

  describe('the --optimizers grammar', () => {
    it('parses signum with overrides, alone and in a list', () => {
      assert.deepEqual(right(parseOptimizerArg('signum:lr=1e-4', reg)), { name: 'signum', overrides: { lr: 1e-4 } });
      assert.deepEqual(right(parseOptimizerList('adam:lr=3e-4,Signum:learning_rate=1e-3,weightDecay=0.5,sgd', {}, reg)), [
        { name: 'adam', overrides: { lr: 3e-4 } },
        { name: 'signum', overrides: { lr: 1e-3, weightDecay: 0.5 } },
        { name: 'sgd', overrides: {} },
      ]);
    });

    it("'all' is every built-in plus the registered optimizers", () => {
      assert.deepEqual(
        right(parseOptimizerList('all', {}, reg)).map((a) => a.name),
        [...OPTIMIZER_NAMES, 'signum'],
      );
      assert.deepEqual(right(parseOptimizerList('all:lr=0.5', {}, reg)).map((a) => a.overrides), [...OPTIMIZER_NAMES, 'signum'].map(() => ({ lr: 0.5 })));
    });

    it('refuses out-of-range values and unknown names, with the grammar naming signum', () => {
      const e1 = left(parseOptimizerArg('signum:weightDecay=-1', reg));
      assert.equal(e1._tag, 'InvalidConfig');
      assert.match(e1.message, /weightDecay must be a finite number >= 0/);
      const e2 = left(parseOptimizerList('signum,lr=0.1', {}, reg));
      assert.match(e2.message, /"all" = every built-in plus registered signum/);
      const e3 = left(parseOptimizerList('signun:lr=1', {}, reg));
      assert.ok(e3._tag === 'UnknownName' && e3.suggestion === 'signum');
    });
  });

  it('listOptimizers lists it under every preset, with its sources and the note that they are the same', () => {
    const rows = listOptimizers(reg);
    assert.equal(rows.length, (OPTIMIZER_NAMES.length + 1) * PRESET_NAMES.length);
    const signums = rows.filter((r) => r.name === 'signum');
    assert.deepEqual(
      signums.map((r) => r.preset),
      [...PRESET_NAMES],
    );
    for (const r of signums) {
      assert.deepEqual(r.defaults, signum.defaults);
      assert.equal(r.rule, 'registered:signum');
      assert.equal(r.formula, signum.description);
      assert.deepEqual(Object.keys(r.sources), Object.keys(signum.defaults));
      for (const [k, s] of Object.entries(r.sources)) {
        assert.ok(s.startsWith(signum.sources![k]!), `${k}: ${s}`);
        assert.match(s, /same value under every preset/);
      }
    }
  });

  describe('registration errors', () => {
    const base: OptimizerDef = {
      name: 'probe',
      defaults: { lr: 0.1 },
      create: (p) => new SignumOptimizer({ lr: Number(p.lr), momentum: 0.9, weightDecay: 0 }),
    };
    const refused = (def: unknown, path: RegExp, message: RegExp): void => {
      const before = registeredOptimizerNames(reg);
      const e = left(reg.with(def as OptimizerDef));
      assert.equal(e._tag, 'InvalidConfig');
      assert.match(e._tag === 'InvalidConfig' ? e.path : '', path);
      assert.match(e.message, message);
      assert.deepEqual(registeredOptimizerNames(reg), before, 'a refused definition leaves no trace');
    };

    it('refuses a taken, built-in, reserved or malformed name', () => {
      refused(signum, /^optimizer\.name$/, /already in the registry: choose another name/);
      refused({ ...base, name: 'adam' }, /^optimizer\.name$/, /'adam' is a built-in optimizer/);
      refused({ ...base, name: 'all' }, /^optimizer\.name$/, /'all' is reserved/);
      for (const name of ['', 'Probe', '1probe', 'pro:be', 'pro,be', 'pro be', 'p'.repeat(41), 42, undefined])
        refused({ ...base, name }, /^optimizer\.name$/, /is not valid: use 1-40 characters/);
      assert.ok(E.isRight(reg.with({ ...base, name: 'p'.repeat(40) })));
    });

    it('refuses defaults outside their ranges, with the range in the message', () => {
      refused({ ...base, defaults: { lr: 0 } }, /^optimizer\.defaults\.lr$/, /lr must be a finite number > 0/);
      refused({ ...base, defaults: { lr: 0.1, beta1: 1 } }, /^optimizer\.defaults\.beta1$/, /beta1 must be a number in \[0, 1\)/);
      refused({ ...base, defaults: { lr: Number.NaN } }, /^optimizer\.defaults\.lr$/, /lr=NaN is out of range/);
      refused(
        { ...base, defaults: { lr: 0.1, weightDecay: -1 }, ranges: { weightDecay: 'nonNegative' } },
        /^optimizer\.defaults\.weightDecay$/,
        /weightDecay must be a finite number >= 0/,
      );
      refused({ ...base, defaults: { lr: 0.1, nesterov: 2 } }, /^optimizer\.defaults\.nesterov$/, /true or false/);
      refused({ ...base, defaults: { lr: '0.1' } }, /^optimizer\.defaults\.lr$/, /must be a number or a boolean/);
      refused({ ...base, validate: () => 'lr too large' }, /^optimizer\.defaults$/, /probe refuses lr=0\.1: lr too large/);
    });

    it('asks for the range of a hyperparameter the built-ins do not have', () => {
      refused({ ...base, defaults: { lr: 0.1, shift: 1 } }, /^optimizer\.ranges\.shift$/, /ranges: \{ shift: 'nonNegative' \}/);
      refused({ ...base, defaults: { lr: 0.1 }, ranges: { lr: 'huge' } }, /^optimizer\.ranges\.lr$/, /not one of rate, decay/);
      refused({ ...base, ranges: { shift: 'finite' } }, /^optimizer\.ranges\.shift$/, /has no default/);
      refused({ ...base, sources: { shift: 'x' } }, /^optimizer\.sources\.shift$/, /has no default/);
      refused({ ...base, defaults: { 'l=r': 0.1 } }, /^optimizer\.defaults\.l=r$/, /hyperparameter name 'l=r' is not valid/);
      // 'finite' admits negative values; a boolean default is a flag without being told.
      const probe = right(reg.with({ ...base, defaults: { lr: 0.1, shift: -1, warm: false }, ranges: { shift: 'finite' } }));
      assert.deepEqual(right(resolveOptimizer({ name: 'probe', overrides: { shift: -2, warm: 1 } }, probe)).params, { lr: 0.1, shift: -2, warm: true });
      assert.match(left(resolveOptimizer({ name: 'probe', overrides: { warm: 2 } }, probe)).message, /warm must be true or false/);
    });

    it('refuses a create that is missing, throws, or builds something other than a tf.Optimizer', () => {
      refused({ ...base, create: undefined }, /^optimizer\.create$/, /create must be a function/);
      refused(
        {
          ...base,
          create: () => {
            throw new Error('no such rule');
          },
        },
        /^optimizer\.create$/,
        /Creating optimizer 'probe' failed: no such rule/,
      );
      refused({ ...base, create: () => ({}) }, /^optimizer\.create$/, /must return a tf\.Optimizer/);
      refused({ ...base, validate: 'yes' }, /^optimizer\.validate$/, /validate must be a function/);
      refused(null, /^optimizer$/, /is an object/);
    });

    it('with() gives a new registry and leaves this one as it was', () => {
      const more = right(reg.with(base));
      assert.deepEqual(registeredOptimizerNames(more), ['signum', 'probe']);
      assert.deepEqual(registeredOptimizerNames(reg), ['signum']);
      assert.equal(left(createOptimizer('probe', {}, {}, reg))._tag, 'UnknownName');
      const p = right(createOptimizer('probe', {}, {}, more));
      p.dispose();
    });
  });

  describe('training', function () {
    let data: Dataset;
    before(async () => {
      right(await useBackend('cpu'));
      data = right(await loadDataset(FIXTURE));
    });

    it('runFit trains fcnn with signum by name: every weight moves by a whole number of lr steps (Signum\'s sign update)', async () => {
      const lr = 1e-3;
      const weights = (m: BuiltModel): Float32Array[] =>
        (m.kind === 'classifier' ? m.net.trainableWeights : []).map((w) => w.read().dataSync() as Float32Array);
      let model: BuiltModel | undefined;
      let optimizer: tf.Optimizer | undefined;
      let start: Float32Array[] = [];
      let end: Float32Array[] = [];
      // A checkpointer sees the model and optimizer runFit built: it snapshots the weights before and after.
      const probe: Checkpointer = {
        restore: (_id, m, o) =>
          defer(() => {
            model = m;
            optimizer = o;
            start = weights(m).map((w) => w.slice());
            return of(0);
          }),
        save: () => of(undefined),
        discard: () =>
          defer(() => {
            end = weights(model!).map((w) => w.slice());
            return of(undefined);
          }),
      };
      const events = right(
        await trainWithSignum(data, { optimizer: { name: 'signum', preset: 'torch', overrides: { lr } } }, { checkpointer: probe }),
      );
      const types = events.filter((e) => e.type !== 'BatchEnded').map((e) => e.type);
      assert.deepEqual(types, ['RunStarted', 'EpochEnded', 'RunEnded']);
      const started = events[0]!;
      assert.ok(started.type === 'RunStarted' && started.steps === 2); // 50 images, batch 25
      const ended = events.find((e) => e.type === 'RunEnded');
      assert.ok(ended?.type === 'RunEnded' && ended.confusion !== null);
      assert.equal(ended.confusion.flat().reduce((a, b) => a + b, 0), 50);
      assert.ok(optimizer instanceof SignumOptimizer);
      assert.deepEqual(optimizer.config, { lr, momentum: 0.9, weightDecay: 0 });
      // With weightDecay 0 a Signum step moves each weight by exactly lr * sign(.): after two steps by
      // -2, -1, 0, 1 or 2 lr (float32 rounding of weights near 0.1 is ~1e-8, far below lr).
      assert.equal(end.length, start.length);
      let moved2 = 0;
      let total = 0;
      end.forEach((w, i) =>
        w.forEach((x, j) => {
          const steps = (x - start[i]![j]!) / lr;
          assert.ok(Math.abs(steps - Math.round(steps)) < 1e-3 && Math.abs(steps) <= 2 + 1e-3, `weight ${i}[${j}] moved ${steps} lr`);
          if (Math.abs(Math.round(steps)) === 2) moved2++;
          total++;
        }),
      );
      assert.ok(moved2 > total / 2, `${moved2} of ${total} weights moved 2 lr`);
    });

    it('the CLI in the same process, given the registry, lists it and runs it from --optimizers', async () => {
      const mine = { models: BUILT_IN_MODELS, optimizers: reg };
      const listed = await capture(() => main(['list', '--json'], mine));
      assert.equal(listed.code, 0);
      const rows = (JSON.parse(listed.stdout) as { optimizers: { name: string; preset: string; rule: string; defaults: object }[] }).optimizers;
      assert.deepEqual(
        rows.filter((r) => r.name === 'signum').map((r) => [r.preset, r.rule, r.defaults]),
        PRESET_NAMES.map((p) => [p, 'registered:signum', signum.defaults]),
      );
      const text = await capture(() => main(['list'], mine));
      assert.match(text.stdout, /signum\s+lr=0\.01 momentum=0\.9 weightDecay=0/);

      const out = mkdtempSync(join(tmpdir(), 'optbench-registry-'));
      try {
        const args = (optimizers: string) => [
          'run', '--models', 'fcnn', '--optimizers', optimizers, '--epochs', '1', '--subset', '50', '--test-subset', '50',
          '--batch-size', '25', '--data-dir', FIXTURE.dir, '--dataset', FIXTURE.dataset, '--backend', 'cpu',
          '--out', out, '--json', '--no-report',
        ];
        const bad = await capture(() => main(args('signum:weightDecay=-1'), mine));
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /weightDecay must be a finite number >= 0/);
        const ran = await capture(() => main(args('signum:lr=1e-3'), mine));
        const unknownHere = await capture(() => main(args('signum:lr=1e-3')));
        assert.equal(unknownHere.code, 2, 'the CLI without the registry does not know signum');
        assert.equal(ran.code, 0, ran.stderr);
        const runs = (JSON.parse(ran.stdout) as { runs: { optimizer: string; status: string }[] }).runs;
        assert.deepEqual(runs.map((r) => [r.optimizer, r.status]), [['signum', 'done']]);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
});
