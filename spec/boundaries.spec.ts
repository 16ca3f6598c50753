/**
 * Every value that enters from outside is decoded, and an object a user writes refuses a key it does not
 * have (a typo must not be ignored): the error is an InvalidConfig naming the field, and says what the
 * fields are. Before this, `loadFashion$({ dataDir: '/somewhere' })` loaded the default Fashion-MNIST.
 */
import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, of, toArray, type Observable } from 'rxjs';
import { useBackend } from '../lib/backend/index.js';
import { decodeRunSpec, runId, type RunSpec } from '../lib/config/spec.js';
import { loadDataset, loadFashion$, type LoadConfig } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import { toOptbenchError, type InvalidConfig, type OptbenchError } from '../lib/errors.js';
import { decodeJob, jobFor } from '../lib/queue/job.js';
import { FromTrainer, ToTrainer } from '../lib/queue/ipc.js';
import { renderD3, type RenderOptions } from '../lib/report/render.js';
import { RunEvent } from '../lib/train/events.js';
import { evaluate, type EvaluateOptions } from '../lib/train/evaluate.js';
import { runFit, type FitOptions } from '../lib/train/fit.js';
import { planGrid, type GridPlan } from '../lib/train/plan.js';
import { trainGrid, type GridOptions } from '../lib/train/train-grid.js';
import { loadFixture } from './support/fixture.js';
import { ended, started } from './support/marbles.js';

const spec: RunSpec = {
  dataset: 'fashion-mini',
  model: 'fcnn',
  optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} },
  seed: 0,
  epochs: 1,
  batchSize: 50,
  backend: 'cpu',
  subset: 50,
};

const refusal = async (o: Observable<unknown>): Promise<OptbenchError> =>
  lastValueFrom(o.pipe(toArray())).then(
    () => assert.fail('accepted'),
    (e: unknown) => toOptbenchError(e),
  );

const expectField = (e: OptbenchError, path: string, hint?: RegExp): void => {
  assert.equal(e._tag, 'InvalidConfig', e.message);
  assert.equal((e as InvalidConfig).path, path, e.message);
  assert.match(e.message, /is not one of its fields \(/);
  if (hint !== undefined) assert.match(e.message, hint);
};

describe('boundaries: decoded, unknown keys refused', function () {
  let data: Dataset;
  before(async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    data = await loadFixture();
  });

  it("loadFashion$ and loadDataset refuse { dataDir } (the field is dir), saying so", async () => {
    const typo = { dataDir: '/somewhere' } as unknown as LoadConfig;
    expectField(await refusal(loadFashion$(typo)), 'dataDir', /did you mean 'dir'\?/);
    const direct = await loadDataset(typo);
    assert.ok(E.isLeft(direct));
    expectField(direct.left, 'dataDir', /did you mean 'dir'\?/);
    // `classes` is a field of the codec now (it was in the interface only).
    const wrong = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini', classes: 0 });
    assert.ok(E.isLeft(wrong) && (wrong.left as InvalidConfig).path === 'classes', JSON.stringify(wrong));
  });

  it('planGrid, trainGrid, runFit, evaluate and renderD3 refuse an option they do not have', async () => {
    const plan: GridPlan = { dataset: 'fashion-mini', models: ['fcnn'], optimizers: [{ name: 'sgd' }], preset: 'tfkeras2', seeds: 1, epochs: 1, batchSize: 50, backend: 'cpu' };
    const p = planGrid({ ...plan, epoch: 3 } as unknown as GridPlan);
    assert.ok(E.isLeft(p));
    expectField(p.left, 'epoch', /did you mean 'epochs'\?/);
    const o = planGrid({ ...plan, optimizers: [{ name: 'sgd', override: { lr: 1 } }] } as unknown as GridPlan);
    assert.ok(E.isLeft(o));
    expectField(o.left, 'optimizers[0].override', /did you mean 'overrides'\?/);
    expectField(await refusal(of(data).pipe(trainGrid([spec], { concurency: 2 } as unknown as GridOptions))), 'concurency', /did you mean 'concurrency'\?/);
    expectField(await refusal(runFit(spec, data, { untilEpochs: 1 } as unknown as FitOptions)), 'untilEpochs', /did you mean 'untilEpoch'\?/);
    expectField(await refusal(of(started(spec)).pipe(evaluate({ splits: 'test' } as unknown as EvaluateOptions))), 'splits', /did you mean 'split'\?/);
    expectField(await refusal(of(started(spec)).pipe(renderD3('/nowhere', { format: ['md'] } as unknown as RenderOptions))), 'format', /did you mean 'formats'\?/);
  });

  it('a run spec with a field it does not have, or out of bounds, is refused naming the field', () => {
    const extra = decodeRunSpec({ ...spec, sed: 1 });
    assert.ok(E.isLeft(extra) && extra.left.path === 'sed', JSON.stringify(extra));
    const big = decodeRunSpec({ ...spec, epochs: 10_001 });
    assert.ok(E.isLeft(big) && big.left.path === 'epochs' && /from 1 to 10000/.test(big.left.message));
    const nan = decodeRunSpec({ ...spec, optimizer: { ...spec.optimizer, overrides: { lr: Number.NaN } } });
    assert.ok(E.isLeft(nan) && nan.left.path === 'optimizer.overrides.lr', JSON.stringify(nan));
  });

  it('a job carries a bf16 spec (its id is its spec\'s), and refuses a job with a field it does not have', () => {
    const bf16: RunSpec = { ...spec, backend: 'native', precision: 'bf16' };
    const md5 = { trainImages: 'a'.repeat(32), trainLabels: 'b'.repeat(32), testImages: 'c'.repeat(32), testLabels: 'd'.repeat(32) };
    const job = jobFor(bf16, { name: 'fashion-mini', md5 });
    const decoded = decodeJob(runId(bf16), JSON.parse(JSON.stringify(job)));
    assert.ok(E.isRight(decoded), JSON.stringify(decoded));
    assert.equal(decoded.right.spec.precision, 'bf16');
    const extra = decodeJob(runId(bf16), { ...job, priority: 1 });
    assert.ok(E.isLeft(extra) && extra.left.path === 'priority', JSON.stringify(extra));
  });

  it('events (as the queue reads them back) and the training process messages decode, and name a bad field', () => {
    const s = started(spec);
    assert.ok(E.isRight(RunEvent.decode(JSON.parse(JSON.stringify(s)))));
    assert.ok(E.isRight(RunEvent.decode(JSON.parse(JSON.stringify(ended(spec))))));
    const bad = RunEvent.decode({ ...s, fromEpoch: -1 });
    assert.ok(E.isLeft(bad));
    assert.ok(E.isRight(ToTrainer.decode({ type: 'saved', epoch: 2, ok: true })));
    assert.ok(E.isLeft(ToTrainer.decode({ type: 'saved', epoch: 'two', ok: true })));
    assert.ok(E.isRight(FromTrainer.decode({ type: 'checkpoint', epoch: 1, bytes: new Uint8Array([1, 2]) })));
    assert.ok(E.isLeft(FromTrainer.decode({ type: 'checkpoint', epoch: 1, bytes: [1, 2] })), 'bytes must be bytes');
    assert.ok(E.isLeft(FromTrainer.decode({ type: 'refuse', error: { message: 'no tag' } })));
  });
});
