import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, map, of, type Observable } from 'rxjs';
import { useBackend } from '../../lib/backend/index.js';
import type { Batcher } from '../../lib/data/batches.js';
import { seededBatches } from '../../lib/data/batches.js';
import type { Dataset } from '../../lib/data/types.js';
import { OptbenchFailure } from '../../lib/errors.js';
import { dense } from '../../lib/models/layers.js';
import { seededDropout } from '../../lib/models/dropout.js';
import { BUILT_IN_MODELS } from '../../lib/models/registry.js';
import { BUILT_IN_OPTIMIZERS } from '../../lib/optimizers/registry.js';
import type { ModelDef } from '../../lib/models/types.js';
import { evaluate } from '../../lib/train/evaluate.js';
import type { RunEvent } from '../../lib/train/events.js';
import { runFit } from '../../lib/train/fit.js';
import type { Runtime } from '../../lib/train/runtime.js';
import { loadFixture } from '../support/fixture.js';
import { newScheduler, pacedScheduler, spec } from '../support/marbles.js';

// A whole fit in virtual time: the runtime's scheduler is a TestScheduler paced at 10 frames a step, so
// RunStarted, the throttled BatchEnded, each EpochEnded (evaluated by `evaluate` through the model the
// fit lends with it) and RunEnded arrive at frames these marbles state, and the run's clock (its
// startedAt, trainMs, elapsedMs) is virtual too. The steps are real training of a small model on the
// fixture, on the cpu backend.

const tiny: ModelDef = {
  name: 'tiny',
  kind: 'classifier',
  description: 'Dense 8 relu, Dropout 0.2, Dense 10',
  inputShape: [28, 28, 1],
  build: (seed) => {
    const net = tf.sequential();
    net.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
    net.add(dense(seed, 0, { units: 8, activation: 'relu', name: 'hidden' }));
    net.add(seededDropout({ rate: 0.2, index: 0, name: 'dropout' }));
    net.add(dense(seed, 1, { units: 10, activation: 'linear', name: 'logits' }));
    return { kind: 'classifier', net };
  },
};

/** 2 epochs of 4 steps (100 images, batch 25), tested on 50. */
const run = spec('adam', { model: 'tiny', epochs: 2, batchSize: 25, subset: 100, testSubset: 50 });

/** R RunStarted, b BatchEnded, e EpochEnded evaluated (u: not), X RunEnded with final metrics (x: without), F RunFailed. */
const letter = (e: RunEvent): string => {
  switch (e.type) {
    case 'RunStarted':
      return 'R';
    case 'BatchEnded':
      return 'b';
    case 'EpochEnded':
      return e.test === null ? 'u' : 'e';
    case 'RunEnded':
      return e.final === null ? 'x' : 'X';
    case 'RunFailed':
      return 'F';
    case 'RunPaused':
      return 'P';
  }
};
const letters = (o: Observable<RunEvent>) => o.pipe(map(letter));
const same = (m: string) => Object.fromEntries([...new Set(m.replace(/[-|()^!#\s\d]|ms/g, ''))].map((k) => [k, k]));

describe('runFit (marbles): a whole fit in virtual time', () => {
  let data: Dataset;
  let models: Runtime['models'];
  before(async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    data = await loadFixture();
    models = E.getOrElseW(() => assert.fail('tiny'))(BUILT_IN_MODELS.with(tiny));
  });

  const runtimeOn = (scheduler: ReturnType<typeof newScheduler>): Runtime => ({ backend: 'cpu', models, optimizers: BUILT_IN_OPTIMIZERS, scheduler: pacedScheduler(scheduler, 10) });

  it('RunStarted, progress every 25 ms of the run clock and at each epoch end, each epoch evaluated through its loan, RunEnded', () => {
    const events: RunEvent[] = [];
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const fit$ = runFit(run, data, { runtime: runtimeOn(scheduler), progressEveryMs: 25 }).pipe(evaluate());
      // Steps at frames 10, 20, 30, 40 and 50, ..., 80: progress at each epoch's first step (nothing shown yet)
      // and last (always), not at 20 or 30 (less than 25 ms after 10).
      const expected = 'R 9ms b 29ms (be) 6ms b 29ms (beX|)';
      expectObservable(fit$.pipe(map((e) => (events.push(e), letter(e))))).toBe(expected, same(expected));
    });
    // After the flush: the run's times are the virtual clock's.
    const started = events.find((e) => e.type === 'RunStarted');
    assert.equal(started?.type === 'RunStarted' && started.startedAt, new Date(0).toISOString());
    assert.deepEqual(
      events.filter((e) => e.type === 'BatchEnded').map((e) => e.type === 'BatchEnded' && [e.epoch, e.step, e.elapsedMs]),
      [
        [1, 1, 10],
        [1, 4, 40],
        [2, 1, 10],
        [2, 4, 40],
      ],
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'EpochEnded').map((e) => e.type === 'EpochEnded' && e.trainMs),
      [40, 40],
    );
    const end = events.at(-1)!;
    assert.ok(end.type === 'RunEnded' && end.trainMs === 80 && end.final !== null && end.confusion !== null);
  });

  it('the same fit without evaluate: epochs and the end unevaluated, at the same frames', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const expected = 'R 9ms b 29ms (bu) 6ms b 29ms (bux|)';
      expectObservable(letters(runFit(run, data, { runtime: runtimeOn(scheduler), progressEveryMs: 25 }))).toBe(expected, same(expected));
    });
  });

  it('an interruption asked at 25 ms stops the run before its next step, at 30', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const fit$ = runFit(run, data, { runtime: runtimeOn(scheduler), progressEveryMs: 25, shouldStop: () => scheduler.now() >= 25 });
      const expected = 'R 9ms b 19ms (F|)';
      expectObservable(letters(fit$)).toBe(expected, same(expected));
    });
  });

  it('unsubscribing at 25 ms pulls no batch after the step in progress and frees every tensor', () => {
    const pulled: number[] = [];
    const counting: Batcher = (train, at) => {
      const it = seededBatches(train, at)[Symbol.iterator]();
      return { [Symbol.iterator]: () => ({ next: () => (pulled.push(at.epoch), it.next()), return: (v?: unknown) => it.return?.(v) ?? { done: true, value: undefined } }) } as never;
    };
    const before = tf.memory().numTensors;
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const fit$ = runFit(run, { ...data, batcher: counting }, { runtime: runtimeOn(scheduler), progressEveryMs: 25 });
      expectObservable(letters(fit$), '^ 24ms !').toBe('R 9ms b', { R: 'R', b: 'b' });
    });
    assert.deepEqual(pulled, [1, 1], 'two steps (frames 10 and 20), no third batch');
    assert.equal(tf.memory().numTensors, before, 'the model and the optimizer are disposed');
  });

  it('a stage that copies events before evaluate is named as the cause, on an error channel that carries an Error', () => {
    const scheduler = newScheduler();
    let caught: unknown;
    scheduler.run(({ expectObservable }) => {
      const fit$ = runFit(run, data, { runtime: runtimeOn(scheduler), progressEveryMs: 25 }).pipe(
        map((e) => ({ ...e })),
        evaluate(),
      );
      // The error arrives with the first epoch's end (E: the error, caught and kept for the checks below).
      const expected = 'R 9ms b 29ms (bE|)';
      expectObservable(letters(fit$).pipe(catchError((e: unknown) => ((caught = e), of('E'))))).toBe(expected, same(expected));
    });
    assert.ok(caught instanceof OptbenchFailure && caught instanceof Error, 'an Error subclass');
    assert.equal(caught._tag, 'InvalidConfig');
    assert.match(caught.message, /evaluate got a copy of EpochEnded of run .*: a stage before evaluate copied the event/);
    assert.ok(typeof caught.stack === 'string' && caught.stack.length > 0, 'with a stack');
  });
});
