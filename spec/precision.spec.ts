/**
 * `precision` in a run's spec: fp32 (or no field) keeps the ids runs had before the field existed, bf16
 * gets its own; a grid plan carries it into every spec; runFit trains in bf16 on native (the products'
 * mode is bf16 inside the run's computations only) and fails the run with BackendUnavailable elsewhere; the
 * report's title says bf16.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { canonicalJson, decodeRunSpec, runId, type RunSpec } from '../lib/config/spec.js';
import { useBackend } from '../lib/backend/index.js';
import { nativePrecisionMode } from '../lib/backend/native-precision.js';
import { loadDataset } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import { buildReport } from '../lib/report/build.js';
import type { RunEvent } from '../lib/train/events.js';
import { runFit } from '../lib/train/fit.js';
import { evaluate } from '../lib/train/evaluate.js';
import { borrow } from '../lib/train/loan.js';
import { planGrid as planGridE } from '../lib/train/plan.js';
import { requireNative } from './support/native.js';

const base: RunSpec = {
  dataset: 'fashion-mini',
  model: 'fcnn',
  optimizer: { name: 'adamax', preset: 'tfkeras2', overrides: {} },
  seed: 0,
  epochs: 1,
  batchSize: 50,
  backend: 'native',
  subset: 100,
  testSubset: 50,
};

const sha = (u: unknown) => createHash('sha256').update(canonicalJson(u)).digest('hex').slice(0, 16);

describe('precision in the run spec', function () {
  it('fp32, spelled out or not, keeps the id a spec had before precision existed; bf16 has its own', () => {
    assert.equal(runId(base), sha(base));
    assert.equal(runId({ ...base, precision: 'fp32' }), sha(base));
    assert.equal(runId({ ...base, precision: 'bf16' }), sha({ ...base, precision: 'bf16' }));
    assert.notEqual(runId({ ...base, precision: 'bf16' }), runId(base));
  });

  it('the codec takes fp32 and bf16 and names the field for anything else', () => {
    assert.ok(E.isRight(decodeRunSpec({ ...base, precision: 'bf16' })));
    assert.ok(E.isRight(decodeRunSpec({ ...base, precision: 'fp32' })));
    const bad = decodeRunSpec({ ...base, precision: 'fp16' });
    assert.ok(E.isLeft(bad) && bad.left.path === 'precision' && /fp16/.test(bad.left.message), JSON.stringify(bad));
  });

  it('planGrid puts bf16 into every spec and leaves fp32 out', () => {
    const plan0 = { dataset: 'fashion-mini', models: ['fcnn', 'scnn'], optimizers: [{ name: 'adam' }], preset: 'tfkeras2', seeds: 2, epochs: 1, batchSize: 50, backend: 'native' };
    const planGrid = (p: Parameters<typeof planGridE>[0]) => E.getOrElseW((e: unknown) => assert.fail(JSON.stringify(e)))(planGridE(p));
    const plan = plan0;
    assert.ok(planGrid({ ...plan, precision: 'bf16' }).every((s) => s.precision === 'bf16'));
    assert.ok(planGrid({ ...plan, precision: 'fp32' }).every((s) => !('precision' in s)));
    assert.ok(planGrid(plan).every((s) => !('precision' in s)));
  });

  it("the report's title says bf16 when its runs are bf16", () => {
    const record = (spec: RunSpec) => ({ runId: runId(spec), spec, status: 'done', epochs: [] }) as never;
    const title = (spec: RunSpec) => buildReport({ grid: { title: 'Task 1', task: 'task-1', classNames: [] } as never, runs: [record(spec)], warnings: [] } as never).title;
    assert.equal(title(base), 'Task 1');
    assert.equal(title({ ...base, precision: 'bf16' }), 'Task 1 (bf16 products)');
  });

  describe('runFit', function () {
    let data: Dataset;
    let previous: string;
    before(async () => {
      previous = await requireNative();
      const loaded = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
      assert.ok(E.isRight(loaded), E.isLeft(loaded) ? loaded.left.message : '');
      data = loaded.right;
    });
    after(async () => {
      await tf.setBackend(previous);
    });

    const train = (spec: RunSpec, seen: string[]): Promise<RunEvent[]> =>
      lastValueFrom(
        runFit(spec, data, { progressEveryMs: 0 }).pipe(
          // Inside the run's computations (what its loan's compute runs) the products are the spec's;
          // between them, the process's mode is left as it was (fp32).
          tap((e) => {
            const loan = borrow(e);
            if (loan !== undefined) seen.push(`${loan.compute(() => nativePrecisionMode())}/${nativePrecisionMode()}`);
          }),
          evaluate(),
          toArray(),
        ),
      );

    it('trains a bf16 spec with bf16 products on native, differently from fp32, leaving fp32 outside the run', async () => {
      assert.ok(E.isRight(await useBackend('native')));
      const modes: string[] = [];
      const bf16 = await train({ ...base, precision: 'bf16' }, modes);
      const fp32 = await train(base, []);
      const final = (events: RunEvent[]) => events.find((e) => e.type === 'RunEnded');
      const b = final(bf16);
      const f = final(fp32);
      assert.ok(b?.type === 'RunEnded' && f?.type === 'RunEnded', JSON.stringify(bf16.filter((e) => e.type === 'RunFailed')));
      assert.ok(modes.length > 0 && modes.every((m) => m === 'bf16/fp32'), `modes in and around the run: ${modes.join(',')}`);
      assert.equal(nativePrecisionMode(), 'fp32');
      assert.ok(b.final !== null && f.final !== null, 'evaluate gives both runs their final metrics');
      assert.notEqual(b.final.testLoss, f.final.testLoss);
      assert.ok(Math.abs(b.final.testLoss - f.final.testLoss) < 0.05 * f.final.testLoss);
    });

    it('fails a bf16 run on the cpu backend with BackendUnavailable', async () => {
      assert.ok(E.isRight(await useBackend('cpu')));
      const events = await train({ ...base, backend: 'cpu', precision: 'bf16' }, []);
      const failed = events.find((e) => e.type === 'RunFailed');
      assert.ok(failed?.type === 'RunFailed' && failed.error._tag === 'BackendUnavailable', JSON.stringify(events.map((e) => e.type)));
    });
  });
});
