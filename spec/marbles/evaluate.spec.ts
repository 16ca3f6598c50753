import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { Observable, catchError, concatMap, map, of, tap } from 'rxjs';
import type { RunSpec } from '../../lib/config/spec.js';
import type { Dataset, Split } from '../../lib/data/types.js';
import { OptbenchFailure, type OptbenchError } from '../../lib/errors.js';
import { BUILT_IN_MODELS } from '../../lib/models/registry.js';
import type { BuiltClassifier } from '../../lib/models/types.js';
import { disposeModel, modelWeights } from '../../lib/models/weights.js';
import { evaluate, type EvaluateOptions } from '../../lib/train/evaluate.js';
import type { EpochEnded, GridEvent, RunEnded, RunEvent } from '../../lib/train/events.js';
import { deliverWithLoan, RunStop } from '../../lib/train/delivery.js';
import type { ModelLoan } from '../../lib/train/loan.js';
import { fixtureOnCpu } from '../support/fixture.js';
import { ended, epochEnded, newScheduler, spec, started } from '../support/marbles.js';

// evaluate on the test scheduler: a fake trainer delivers a real (untrained) FCNN with its events through
// runFit's own delivery (deliverWithLoan), and the metrics evaluate computes are checked against a
// reference computed here in float64 from the model's logits. (spec/marbles/fit.spec.ts evaluates a real
// fit's epochs the same way, in virtual time.)

/** Delivers every EpochEnded and RunEnded with `loan` lent, through runFit's own delivery (deliverWithLoan). */
const lending =
  (loan: Omit<ModelLoan, 'fail'>) =>
  (source: Observable<GridEvent>): Observable<GridEvent> =>
    source.pipe(concatMap((e) => (e.type === 'EpochEnded' || e.type === 'RunEnded' ? deliverWithLoan(e, loan, 0) : of(e))));

/** Loss (mean cross-entropy), accuracy and confusion matrix of the model on the first n images, in float64. */
const reference = (model: BuiltClassifier, split: Split, n: number) => {
  const logits = tf.tidy(() => (model.net.predict(tf.tensor4d(split.images.subarray(0, n * 784), [n, 28, 28, 1])) as tf.Tensor).arraySync() as number[][]);
  let loss = 0;
  let correct = 0;
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  logits.forEach((row, i) => {
    const label = split.labels[i]!;
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    loss += lse - row[label]!;
    const predicted = row.indexOf(max);
    if (predicted === label) correct++;
    confusion[predicted]![label]!++;
  });
  return { loss: loss / n, accuracy: correct / n, confusion };
};

/** What a marble compares of an event: its type and whether it carries an evaluation (numbers are checked apart). */
const shape = map((e: GridEvent) => `${e.type}${e.type === 'EpochEnded' ? (e.test ? '+test' : '') : e.type === 'RunEnded' ? (e.final ? '+final' : '') : ''}`);

/** An error on the error channel, as a value the marble can compare. */
const caught = catchError((err: OptbenchError) => of(`${err._tag}${err._tag === 'InvalidConfig' ? ` at ${err.path}` : ''}`));

describe('evaluate (marbles, a real model lent by a fake trainer)', function () {
  let data: Dataset;
  let model: BuiltClassifier;
  const s: RunSpec = spec('adam', { epochs: 1, testSubset: 30 });
  const loan = (over: Partial<ModelLoan> = {}): Omit<ModelLoan, 'fail'> => ({ model, spec: s, data, reference: NaN, compute: (fn) => fn(), ...over });
  /** A run ended by its delivery: the RunStop runFit turns into RunFailed, as a value the marble can compare. */
  const stopped = catchError((err: unknown) => of(err instanceof RunStop ? `RunStop ${err.error._tag} after ${err.epochsDone}` : String(err)));

  before(async () => {
    data = await fixtureOnCpu();
    model = E.getOrElseW(() => assert.fail('fcnn'))(BUILT_IN_MODELS.get('fcnn')).build(0) as BuiltClassifier;
  });
  after(() => disposeModel(model));

  it('evaluates each epoch with the lent model, fills RunEnded, and passes every other event on at its frame', () => {
    const seen: RunEvent[] = [];
    const ref = reference(model, data.test, 30);
    const unevaluated = epochEnded(s, 1, null);
    const end = ended(s, null);
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<GridEvent>('s-e-x|', { s: started(s), e: unevaluated, x: end });
      const out = source.pipe(lending(loan()), evaluate(), tap((e) => seen.push(e as RunEvent)), shape);
      // The numbers are checked against the reference below, once the scheduler has flushed.
      expectObservable(out).toBe('s-e-x|', { s: 'RunStarted', e: 'EpochEnded+test', x: 'RunEnded+final' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
    const e = seen[1] as EpochEnded;
    const x = seen[2] as RunEnded;
    assert.equal(seen.length, 3);
    assert.deepEqual({ ...e, test: null, evaluation: null, evalMs: 0 }, unevaluated, 'only the evaluation changed');
    assert.ok(Math.abs(e.test!.loss - ref.loss) < 1e-5, `loss ${e.test!.loss} vs ${ref.loss}`);
    assert.equal(e.test!.accuracy, ref.accuracy);
    assert.deepEqual(e.evaluation, { split: 'test', batchSize: 200 });
    assert.ok(e.evalMs > 0);
    assert.deepEqual(x.final, { testLoss: e.test!.loss, testAccuracy: e.test!.accuracy });
    assert.deepEqual(x.confusion, ref.confusion);
    assert.equal(x.evalMs, e.evalMs, "the run's evaluation time is its epochs'");
  });

  it('validation: the images the spec holds out (the last `holdout` training images)', () => {
    const held: RunSpec = { ...s, holdout: 40, testSubset: undefined as unknown as number };
    delete (held as { testSubset?: number }).testSubset;
    const tail: Split = { ...data.train, images: data.train.images.subarray((data.train.count - 40) * 784), labels: data.train.labels.subarray(data.train.count - 40), count: 40 };
    const ref = reference(model, tail, 40);
    const seen: EpochEnded[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<GridEvent>('e|', { e: epochEnded(held, 1, null) }).pipe(
        lending(loan({ spec: held })),
        evaluate({ split: 'validation', batchSize: 16 }),
        tap((e) => seen.push(e as EpochEnded)),
        map((e) => e.type),
      );
      expectObservable(out).toBe('e|', { e: 'EpochEnded' });
    });
    assert.ok(Math.abs(seen[0]!.test!.loss - ref.loss) < 1e-5);
    assert.equal(seen[0]!.test!.accuracy, ref.accuracy);
    assert.deepEqual(seen[0]!.evaluation, { split: 'validation', batchSize: 16 });
  });

  it('heldOut: the test set stays `test`, and the held-out images are measured beside it as `validation`', () => {
    const held: RunSpec = { ...s, holdout: 40 };
    const tail: Split = { ...data.train, images: data.train.images.subarray((data.train.count - 40) * 784), labels: data.train.labels.subarray(data.train.count - 40), count: 40 };
    // testSubset 30 counts the images of either split, as it always has.
    const refTest = reference(model, data.test, 30);
    const refHeld = reference(model, tail, 30);
    const seen: EpochEnded[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<GridEvent>('e|', { e: epochEnded(held, 1, null) }).pipe(
        lending(loan({ spec: held })),
        evaluate({ split: 'test', heldOut: true }),
        tap((e) => seen.push(e as EpochEnded)),
        map((e) => e.type),
      );
      expectObservable(out).toBe('e|', { e: 'EpochEnded' });
    });
    const e = seen[0]!;
    assert.deepEqual(e.evaluation, { split: 'test', batchSize: 200 });
    assert.ok(Math.abs(e.test!.loss - refTest.loss) < 1e-5, `test loss ${e.test!.loss} vs ${refTest.loss}`);
    assert.equal(e.test!.accuracy, refTest.accuracy);
    assert.ok(Math.abs(e.validation!.loss - refHeld.loss) < 1e-5, `held-out loss ${e.validation!.loss} vs ${refHeld.loss}`);
    assert.equal(e.validation!.accuracy, refHeld.accuracy);
    assert.notEqual(e.validation!.loss, e.test!.loss, 'two different sets of images');
  });

  it('heldOut for a spec without holdout ends the run (InvalidConfig through its loan); an event evaluated elsewhere without them is refused', () => {
    let error: RunStop | undefined;
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<GridEvent>('s-e|', { s: started(s), e: epochEnded(s, 1, null) }).pipe(
        lending(loan()),
        evaluate({ split: 'test', heldOut: true }),
        tap({ error: (e: unknown) => (error = e as RunStop) }),
        map((e) => e.type),
        stopped,
      );
      expectObservable(out).toBe('s-(f|)', { s: 'RunStarted', f: 'RunStop InvalidConfig after 0' });
    });
    assert.equal(error?.error._tag === 'InvalidConfig' && error.error.path, 'evaluate.split');
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<GridEvent>('s-e|', { s: started(s), e: epochEnded(s, 1) }).pipe(evaluate({ split: 'test', heldOut: true }), shape, caught);
      expectObservable(out).toBe('s-(e|)', { s: 'RunStarted', e: 'InvalidConfig at evaluate' });
    });
  });

  it('passes on events that arrive already evaluated (a trainer that evaluated where its model is)', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const e = epochEnded(s, 1);
      const x = ended(s);
      expectObservable(cold<GridEvent>('-s-e-x|', { s: started(s), e, x }).pipe(evaluate())).toBe('-s-e-x|', { s: started(s), e, x });
    });
  });

  it('an unevaluated event without its model is an InvalidConfig on the error channel', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<GridEvent>('s-e-x|', { s: started(s), e: epochEnded(s, 1, null), x: ended(s, null) });
      const out = source.pipe(evaluate(), shape, caught);
      expectObservable(out).toBe('s-(e|)', { s: 'RunStarted', e: 'InvalidConfig at evaluate' });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('an event evaluated with other options than evaluate asks for is an InvalidConfig', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<GridEvent>('s-e|', { s: started(s), e: epochEnded(s, 1) }).pipe(evaluate({ split: 'test', batchSize: 50 }), shape, caught);
      expectObservable(out).toBe('s-(e|)', { s: 'RunStarted', e: 'InvalidConfig at evaluate' });
    });
  });

  it('options that do not decode are an InvalidConfig at subscription; the source is never subscribed', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<GridEvent>('s|', { s: started(s) });
      const out = source.pipe(
        evaluate({ split: 'train' } as unknown as EvaluateOptions),
        catchError((e: unknown) => of(e instanceof OptbenchFailure ? `${e._tag}: ${e.message}` : `not an OptbenchFailure: ${String(e)}`)),
      );
      expectObservable(out).toBe('(e|)', { e: "InvalidConfig: Invalid evaluate options: split must be 'auto', 'test' or 'validation', got \"train\"." });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });

  it("a run's own trouble goes back through its loan (the delivery ends the run, which runFit reports as RunFailed), and nothing is passed on", () => {
    let error: RunStop | undefined;
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<GridEvent>('s-e|', { s: started(s), e: epochEnded(s, 1, null) }).pipe(
        lending(loan()),
        evaluate({ split: 'validation' }),
        tap({ error: (e: unknown) => (error = e as RunStop) }),
        map((e) => e.type),
        stopped,
      );
      expectObservable(out).toBe('s-(f|)', { s: 'RunStarted', f: 'RunStop InvalidConfig after 0' });
    });
    assert.equal(error?.error._tag === 'InvalidConfig' && error.error.path, 'evaluate.split');
  });

  it('a non-finite evaluation loss fails the run as Diverged', () => {
    const broken = E.getOrElseW(() => assert.fail('fcnn'))(BUILT_IN_MODELS.get('fcnn')).build(0) as BuiltClassifier;
    tf.tidy(() => modelWeights(broken).forEach((w) => w.write(tf.fill(w.shape as number[], NaN))));
    try {
      let error: RunStop | undefined;
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold<GridEvent>('e|', { e: epochEnded(s, 1, null) }).pipe(
          lending(loan({ model: broken })),
          evaluate(),
          tap({ error: (e: unknown) => (error = e as RunStop) }),
          map((e) => e.type),
          stopped,
        );
        expectObservable(out).toBe('(f|)', { f: 'RunStop Diverged after 0' });
      });
      assert.match(error!.message, /test loss became NaN after epoch 1/);
    } finally {
      disposeModel(broken);
    }
  });

  it('passes GridStarted and events it does not know on unchanged', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const g: GridEvent = { type: 'GridStarted', specs: [s], dataset: 'fashion-mini', classNames: [] };
      const other = { type: 'SomethingElse', n: 1 } as unknown as GridEvent;
      expectObservable(cold<GridEvent>('g-o|', { g, o: other }).pipe(evaluate())).toBe('g-o|', { g, o: other });
    });
  });
});
