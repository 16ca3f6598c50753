/**
 * Schedule-Free AdamW trains at y and is evaluated at x (its averaged point). runFit's evaluation goes
 * through the loan at the optimizer's evaluation point: each epoch's test loss is the model's loss at x,
 * not at y, the checkpoint after it is taken at y, and training goes on from that same y. (A run whose
 * evaluation used y, as before this, fails the first check.)
 */
import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { defer, lastValueFrom, of, toArray } from 'rxjs';
import { useBackend } from '../lib/backend/index.js';
import type { RunSpec } from '../lib/config/spec.js';
import type { Dataset } from '../lib/data/types.js';
import type { BuiltModel } from '../lib/models/types.js';
import { trainableVariables } from '../lib/models/weights.js';
import { hasEvaluationPoint } from '../lib/optimizers/index.js';
import { evaluate } from '../lib/train/evaluate.js';
import { evaluateSplit } from '../lib/train/evaluation.js';
import type { EpochEnded } from '../lib/train/events.js';
import { runFit, type Checkpointer } from '../lib/train/fit.js';
import { loadFixture } from './support/fixture.js';

describe('Schedule-Free AdamW in runFit: evaluated at x, checkpointed at y', function () {
  let data: Dataset;
  before(async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    data = await loadFixture();
  });

  it("each epoch's test loss is the loss at x; the checkpoint and the next epoch start from y", async () => {
    const spec: RunSpec = {
      dataset: 'fashion-mini',
      model: 'fcnn',
      optimizer: { name: 'adamw-schedulefree', preset: 'modern', overrides: { lr: 0.01 } },
      seed: 0,
      epochs: 2,
      batchSize: 25,
      backend: 'cpu',
      subset: 100,
      testSubset: 100,
    };
    // The checkpointer sees the model and optimizer after each epoch's delivery (evaluation included).
    const seen: { epoch: number; atX: number; atY: number; y: Float32Array[]; atEvalPoint: boolean }[] = [];
    const probe: Checkpointer = {
      restore: () => of(0),
      save: (_id, epoch, model: BuiltModel, optimizer) =>
        defer(() => {
          assert.ok(hasEvaluationPoint(optimizer));
          const variables = trainableVariables(model);
          const y = variables.map((v) => v.dataSync().slice() as Float32Array);
          const lossNow = () => evaluateSplit(model, data.test, { count: 100, classes: 10 }).loss;
          const atY = lossNow();
          assert.ok(E.isRight(optimizer.evalPoint(variables)));
          const atX = lossNow();
          optimizer.trainPoint();
          seen.push({ epoch, atX, atY, y, atEvalPoint: optimizer.atEvalPoint });
          return of(undefined);
        }),
      discard: () => of(undefined),
    };
    // Two epochs with a checkpoint after the first; the last epoch is measured from its RunEnded instead.
    const events = await lastValueFrom(runFit(spec, data, { checkpointer: probe }).pipe(evaluate(), toArray()));
    const epochs = events.filter((e): e is EpochEnded => e.type === 'EpochEnded');
    assert.equal(epochs.length, 2, JSON.stringify(events.filter((e) => e.type === 'RunFailed')));
    assert.equal(seen.length, 1, 'a checkpoint after epoch 1');
    const first = seen[0]!;
    assert.ok(Math.abs(first.atX - first.atY) > 1e-3, `x and y differ: ${first.atX} vs ${first.atY}`);
    assert.equal(epochs[0]!.test!.loss, first.atX, "epoch 1's test loss is the loss at x");
    assert.equal(first.atEvalPoint, false, 'the checkpoint is taken at the training point');
    // The same run without a checkpointer trains the same second epoch: evaluating at x left y as it was.
    const plain = await lastValueFrom(runFit(spec, data).pipe(evaluate(), toArray()));
    const again = plain.filter((e): e is EpochEnded => e.type === 'EpochEnded');
    assert.deepEqual(again.map((e) => [e.train.loss, e.test!.loss]), epochs.map((e) => [e.train.loss, e.test!.loss]));
  });
});
