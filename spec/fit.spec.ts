import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { from } from 'ix/iterable';
import { tap as tapIx } from 'ix/iterable/operators';
import { defer, lastValueFrom, of, tap, toArray, type Subscription } from 'rxjs';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { seededBatches, type Batcher } from '../lib/data/batches.js';
import { batches } from '../lib/data/batches-stage.js';
import type { Dataset } from '../lib/data/types.js';
import { fixtureOnCpu } from './support/fixture.js';
import type { EpochEnded, RunEnded, RunEvent, RunFailed, RunPaused } from '../lib/train/events.js';
import { evaluate } from '../lib/train/evaluate.js';
import { runFit, type Checkpointer } from '../lib/train/fit.js';
import { trainGrid } from '../lib/train/train-grid.js';

// Training on the real images of fixtures/fashion-mini with the JavaScript cpu backend: small enough
// to run in seconds, real enough to check Keras fit semantics, memory and determinism.

const spec = (over: Partial<RunSpec> & { optimizer?: RunSpec['optimizer'] } = {}): RunSpec =>
  ({
    dataset: 'fashion-mini',
    model: 'fcnn',
    optimizer: { name: 'adam', preset: 'tfkeras2', overrides: {} },
    seed: 0,
    epochs: 2,
    batchSize: 50,
    backend: 'cpu',
    subset: 200,
    testSubset: 100,
    ...over,
  }) as RunSpec;

const collect = (s: RunSpec, data: Dataset): Promise<RunEvent[]> =>
  lastValueFrom(runFit(s, data, { progressEveryMs: 0 }).pipe(evaluate(), toArray()));

const noBatches = (events: RunEvent[]) => events.filter((e) => e.type !== 'BatchEnded');

describe('fit', function () {
  let data: Dataset;
  before(async () => {
    // useBackend (in fixtureOnCpu) also installs the flat cpu Conv2DBackpropFilter (TF.js's own takes minutes per CNN step).
    data = await fixtureOnCpu();
  });

  it('emits RunStarted, EpochEnded per epoch and RunEnded, with Keras fit metrics', async () => {
    const events = await collect(spec(), data);
    assert.deepEqual(
      noBatches(events).map((e) => e.type),
      ['RunStarted', 'EpochEnded', 'EpochEnded', 'RunEnded'],
    );
    const started = events[0]!;
    assert.equal(started.type === 'RunStarted' && started.steps, 4); // 200 images / batch 50
    const epochs = events.filter((e): e is EpochEnded => e.type === 'EpochEnded');
    for (const e of epochs) {
      assert.ok(e.train.loss > 0 && Number.isFinite(e.train.loss));
      assert.ok(e.train.accuracy! >= 0 && e.train.accuracy! <= 1);
      assert.ok(e.test!.accuracy! >= 0 && e.test!.accuracy! <= 1);
      assert.ok(e.trainMs > 0 && e.evalMs > 0);
    }
    // Keras reports the running mean over the epoch's batches: the last BatchEnded of an epoch carries it.
    const lastBatch = events.filter((e) => e.type === 'BatchEnded' && e.epoch === 1).pop()!;
    assert.equal(lastBatch.type === 'BatchEnded' && lastBatch.loss, epochs[0]!.train.loss);
    const end = events.at(-1) as RunEnded;
    assert.equal(end.final!.testLoss, epochs[1]!.test!.loss);
    assert.equal(end.final!.testAccuracy, epochs[1]!.test!.accuracy);
  });

  it('gives a confusion matrix with predictions in rows and true classes in columns', async () => {
    const events = await collect(spec({ epochs: 1 }), data);
    const end = events.at(-1) as RunEnded;
    const m = end.confusion!;
    assert.equal(m.length, 10);
    const total = m.flat().reduce((a, b) => a + b, 0);
    assert.equal(total, 100);
    // Column sums are the true label counts of the evaluated test images, computed here from the labels.
    const trueCounts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100; i++) trueCounts[data.test.labels[i]!]!++;
    for (let c = 0; c < 10; c++) assert.equal(m.reduce((s, row) => s + row[c]!, 0), trueCounts[c], `column ${c}`);
    const diagonal = m.reduce((s, row, i) => s + row[i]!, 0);
    assert.equal(diagonal / 100, end.final!.testAccuracy);
  });

  it('does not grow tf.memory().numTensors from epoch to epoch', async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    await lastValueFrom(
      runFit(spec({ epochs: 3, optimizer: { name: 'nadam', preset: 'tfkeras2', overrides: {} } }), data).pipe(
        evaluate(),
        tap((e) => {
          if (e.type === 'EpochEnded') counts.push(tf.memory().numTensors);
        }),
        toArray(),
      ),
    );
    assert.equal(counts.length, 3);
    assert.ok(counts.every((c) => c === counts[0]), `tensors after each epoch: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, before, 'the run disposes its model and optimizer');
  });

  it('is deterministic: the same spec gives identical per-epoch metrics', async () => {
    const metrics = async () =>
      (await collect(spec(), data)).filter((e): e is EpochEnded => e.type === 'EpochEnded').map((e) => [e.train, e.test]);
    assert.deepEqual(await metrics(), await metrics());
  });

  it('is deterministic with dropout and batch normalisation (MCNN)', async () => {
    const s = spec({ model: 'mcnn', epochs: 1, batchSize: 8, subset: 16, testSubset: 8 });
    const metrics = async () =>
      (await collect(s, data)).filter((e): e is EpochEnded => e.type === 'EpochEnded').map((e) => [e.train, e.test]);
    const first = await metrics();
    assert.equal(first.length, 1);
    assert.deepEqual(await metrics(), first);
  });

  it('starts every optimizer of a seed from the same weights (same first-step loss)', async () => {
    // The loss of the first batch is computed before any update: equal initial weights and batches give equal losses.
    const firstLoss = async (name: string, seed = 0) => {
      const events = await lastValueFrom(
        runFit(spec({ seed, epochs: 1, subset: 50, optimizer: { name, preset: 'tfkeras2', overrides: {} } }), data, {
          progressEveryMs: 0,
        }).pipe(toArray()),
      );
      const b = events.find((e) => e.type === 'BatchEnded');
      return b?.type === 'BatchEnded' ? b.loss : NaN;
    };
    const adam = await firstLoss('adam');
    assert.equal(await firstLoss('sgd'), adam);
    assert.equal(await firstLoss('adadelta'), adam);
    assert.notEqual(await firstLoss('adam', 1), adam);
  });

  it('ends a diverging run as RunFailed{Diverged} and the grid goes on', async () => {
    const bad = spec({ epochs: 1, optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: { lr: 1e12 } } });
    const good = spec({ epochs: 1, optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} } });
    const events = noBatches(await lastValueFrom(of(data).pipe(trainGrid([bad, good]), evaluate(), toArray())).then((es) => es.filter((e): e is RunEvent => e.type !== 'GridStarted')));
    const failed = events.find((e): e is RunFailed => e.type === 'RunFailed');
    assert.ok(failed, 'the first run fails');
    assert.equal(failed.error._tag, 'Diverged');
    assert.match(failed.error.message, /smaller learning rate/);
    assert.equal(events.at(-1)!.type, 'RunEnded');
  });

  it('stops after the current step when asked, as RunFailed{Interrupted}', async () => {
    let steps = 0;
    const events = await lastValueFrom(
      of(data).pipe(
        trainGrid([spec({ epochs: 1 })], { shouldStop: () => steps >= 2, progressEveryMs: 0 }),
        tap((e) => {
          if (e.type === 'BatchEnded') steps++;
        }),
        toArray(),
      ),
    );
    const last = events.at(-1)!;
    assert.equal(last.type, 'RunFailed');
    assert.equal(last.type === 'RunFailed' && last.error._tag, 'Interrupted');
    assert.equal(steps, 2);
  });

  it('reports an unknown model as a failed run, naming the nearest model', async () => {
    const events = await collect(spec({ model: 'fcn' }), data);
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.type === 'RunFailed' && e.error._tag, 'UnknownName');
    assert.match(e.type === 'RunFailed' ? e.error.message : '', /fcnn/);
  });

  it('trains a VAE with the SSE + KL loss and keeps its decoded grids', async () => {
    const events = await collect(spec({ model: 'vae1', epochs: 1, batchSize: 25, subset: 50, testSubset: 50 }), data);
    const end = events.at(-1) as RunEnded;
    assert.equal(end.type, 'RunEnded');
    assert.equal(end.final!.testAccuracy, null);
    assert.equal(end.confusion, null);
    // Untrained, the per-image loss is near the SSE of a 0.5-grey image (784 * mean((x - 0.5)^2)) plus a small KL.
    const px = 784;
    let sse = 0;
    for (let i = 0; i < 50 * px; i++) sse += (data.test.images[i]! - 0.5) ** 2;
    const greyLoss = sse / 50;
    assert.ok(end.final!.testLoss > 0.3 * greyLoss && end.final!.testLoss < 1.5 * greyLoss, `${end.final!.testLoss} vs ${greyLoss}`);
    const grids = end.vae!;
    assert.equal(grids.traversal.length, 5);
    assert.equal(Buffer.from(grids.traversal[0]!, 'base64').length, 11 * px);
    assert.equal(Buffer.from(grids.samples, 'base64').length, 11 * px);
  });
});

describe('runFit: the trainer contract', function () {
  let data: Dataset;
  before(async () => {
    data = await fixtureOnCpu();
  });

  it('without evaluate, runs carry training metrics only: test and final are null', async () => {
    const events = await lastValueFrom(runFit(spec({ epochs: 1, subset: 100 }), data).pipe(toArray()));
    const epoch = events.find((e): e is EpochEnded => e.type === 'EpochEnded')!;
    assert.equal(epoch.test, null);
    assert.equal(epoch.evaluation, null);
    assert.ok(epoch.train.loss > 0);
    const end = events.at(-1) as RunEnded;
    assert.deepEqual([end.type, end.final, end.confusion, end.vae], ['RunEnded', null, null, null]);
  });

  it('a spec that does not decode is an InvalidConfig on the error channel, not a RunFailed', async () => {
    const err = await lastValueFrom(runFit({ ...spec(), batchSize: 0 }, data)).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as { _tag: string; path: string },
    );
    assert.deepEqual([err._tag, err.path], ['InvalidConfig', 'batchSize']);
  });

  it('a run evaluate cannot evaluate (validation without holdout) ends as RunFailed{InvalidConfig}, before its epoch is passed on', async () => {
    const events = noBatches(await lastValueFrom(runFit(spec({ epochs: 2, subset: 50 }), data).pipe(evaluate({ split: 'validation' }), toArray())));
    assert.deepEqual(events.map((e) => e.type), ['RunStarted', 'RunFailed']);
    const f = events[1] as RunFailed;
    assert.deepEqual([f.error._tag, f.epochsDone], ['InvalidConfig', 0]);
  });

  it('untilEpoch: stops with RunPaused after that epoch, its checkpoint saved and kept', async () => {
    const saved: number[] = [];
    let discarded = 0;
    const checkpointer: Checkpointer = {
      restore: () => of(0),
      save: (_id, epoch) => defer(() => of(void saved.push(epoch))),
      discard: () => defer(() => of(void discarded++)),
    };
    const events = noBatches(await lastValueFrom(runFit(spec({ epochs: 3, subset: 50 }), data, { untilEpoch: 1, checkpointer }).pipe(evaluate(), toArray())));
    assert.deepEqual(events.map((e) => e.type), ['RunStarted', 'EpochEnded', 'RunPaused']);
    assert.equal((events[2] as RunPaused).epochsDone, 1);
    assert.deepEqual(saved, [1]);
    assert.equal(discarded, 0);
  });

  it('unsubscribing mid-grid stops after the current step, pulls no other batch and disposes every tensor', async () => {
    let pulled = 0;
    // The batching stage, counting what the runs pull from it (ix).
    const counting: Batcher = (train, at) => from(seededBatches(train, at)).pipe(tapIx(() => void pulled++));
    const a = spec({ epochs: 2, subset: 200 });
    const b = spec({ epochs: 2, subset: 200, optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} } });
    await tf.ready();
    const baseline = tf.memory().numTensors;
    const seen: string[] = [];
    let atCancel = -1;
    await new Promise<void>((resolve, reject) => {
      const sub: Subscription = of(data)
        .pipe(batches(counting), trainGrid([a, b], { progressEveryMs: 0 }), evaluate())
        .subscribe({
          next: (e) => {
            seen.push(e.type === 'BatchEnded' ? `B${e.step}` : e.type);
            // The second run's first step is done: cancel the grid from inside its delivery.
            if (e.type === 'BatchEnded' && e.runId === runId(b) && e.step === 1) {
              atCancel = pulled;
              sub.unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => reject(new Error('the grid completed before it was cancelled')),
        });
    });
    // The run in flight notices at its next step, returns and disposes its model and optimizer.
    const deadline = Date.now() + 60_000;
    while (tf.memory().numTensors !== baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.equal(tf.memory().numTensors, baseline, 'every tensor of the cancelled run is disposed');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(pulled, atCancel, 'no batch is pulled after the cancellation');
    assert.equal(atCancel, 2 * 4 + 1, 'run 1: 2 epochs of 4 steps; run 2: its first step');
    assert.deepEqual(seen.slice(-3), ['RunEnded', 'RunStarted', 'B1']);
  });
});
