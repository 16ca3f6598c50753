import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { map } from 'rxjs';
import { runId, type RunSpec } from '../../lib/config/spec.js';
import { invalidConfig } from '../../lib/errors.js';
import type { EpochEnded, GridEvent, Metrics } from '../../lib/train/events.js';
import { reachTarget } from '../../lib/train/reach-target.js';
import type { EpochRecord } from '../../lib/train/record.js';
import type { TargetReached, Targets } from '../../lib/train/target.js';
import { ended, epochEnded, failed, failureAsValue, newScheduler, spec, started } from '../support/marbles.js';

// reachTarget on the test scheduler: a run's events scripted as a cold Observable, the TargetReached it
// emits checked frame by frame, with the epoch, step and training seconds it carries.

const s: RunSpec = spec('adam', { epochs: 4, holdout: 50 });
const vae: RunSpec = spec('adam', { model: 'vae1', epochs: 3, holdout: 50 });

/** Epoch `n` of `sp` evaluated on the test set, with `held` as its held-out metrics (1 s of training each). */
const epoch = (sp: RunSpec, n: number, held: Metrics | undefined, test: Metrics = { loss: 9, accuracy: 0.99 }): EpochEnded => ({
  ...epochEnded(sp, n, test),
  evaluation: { split: 'test', batchSize: 200 },
  trainMs: 1000 + n,
  ...(held !== undefined ? { validation: held } : {}),
});
const acc = (a: number): Metrics => ({ loss: 1 - a, accuracy: a });

const hit = (sp: RunSpec, over: Omit<TargetReached, 'type' | 'runId'>): TargetReached => ({ type: 'TargetReached', runId: runId(sp), ...over });

const targets: Targets = { fcnn: { metric: 'accuracy', goal: 0.88 }, vae1: { metric: 'loss', goal: 30 } };

describe('reachTarget (marbles)', () => {
  it("emits TargetReached right after the first epoch whose held-out accuracy meets the target, once, never judging the test set's", () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      // Epoch 1's test accuracy (0.99) meets the target but its held-out accuracy (0.5) does not.
      const source = cold<GridEvent>('s-a-b---c-x|', { s: started(s), a: epoch(s, 1, acc(0.5)), b: epoch(s, 2, acc(0.88)), c: epoch(s, 3, acc(0.95)), x: ended(s) });
      expectObservable(source.pipe(reachTarget(targets))).toBe('s-a-(bt)c-x|', {
        s: started(s),
        a: epoch(s, 1, acc(0.5)),
        b: epoch(s, 2, acc(0.88)),
        // Steps: 2 epochs of RunStarted's 4 steps; seconds: epochs 1 and 2 (1001 ms + 1002 ms).
        t: hit(s, { metric: 'accuracy', goal: 0.88, value: 0.88, epoch: 2, step: 8, seconds: 2.003 }),
        c: epoch(s, 3, acc(0.95)),
        x: ended(s),
      });
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  it('a loss target is met at or below its goal; runs of models without a target, and other events, pass unchanged', () => {
    const other = spec('sgd', { model: 'scnn', epochs: 1 });
    const g: GridEvent = { type: 'GridStarted', specs: [vae, other], dataset: 'fashion-mini', classNames: [] };
    newScheduler().run(({ cold, expectObservable }) => {
      const values = {
        g,
        s: started(vae),
        a: epoch(vae, 1, { loss: 30.5, accuracy: null }),
        b: epoch(vae, 2, { loss: 30, accuracy: null }),
        o: started(other),
        e: epochEnded(other, 1, { loss: 0.1, accuracy: 0.99 }),
      };
      const source = cold<GridEvent>('g-s-o-a-e-b----|', values);
      expectObservable(source.pipe(reachTarget(targets))).toBe('g-s-o-a-e-(bt)-|', {
        ...values,
        t: hit(vae, { metric: 'loss', goal: 30, value: 30, epoch: 2, step: 8, seconds: 2.003 }),
      });
    });
  });

  it("judges an epoch evaluated on the validation split (a sweep's trial) on that evaluation", () => {
    const trial = epochEnded(s, 1, acc(0.9));
    assert.equal(trial.evaluation?.split, 'validation', 'the helper evaluates a spec with holdout on its validation split');
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<GridEvent>('s-e----|', { s: started(s), e: trial }).pipe(reachTarget(targets), map((e) => e.type))).toBe('s-(et)-|', {
        s: 'RunStarted',
        e: 'EpochEnded',
        t: 'TargetReached',
      });
    });
  });

  it('an epoch of a judged run without held-out metrics is an InvalidConfig at its frame: a target is never judged on the test set', () => {
    const onTest = spec('adam', { epochs: 2 });
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<GridEvent>('s-e-f|', { s: started(onTest), e: epochEnded(onTest, 1, acc(0.99)), f: epochEnded(onTest, 2) });
      const out = source.pipe(reachTarget(targets), map((e) => e.type), failureAsValue());
      expectObservable(out).toBe('s-(e|)', {
        s: 'RunStarted',
        e: `InvalidConfig at reachTarget: Epoch 1 of fcnn/adam/s0 has no held-out metrics to judge its target (accuracy ≥ 0.88) on, and a target is never judged on the test set: give its spec a holdout and put reachTarget after evaluate({ split: 'test', heldOut: true }).`,
      });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('a run that fails or never meets its target emits nothing more; a run retried later in the stream is judged afresh', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const values = { s: started(s), a: epoch(s, 1, acc(0.9)), f: failed(s, undefined, 1), r: started(s), b: epoch(s, 1, acc(0.1)), x: ended(s) };
      expectObservable(cold<GridEvent>('s-a---f-r-b-x|', values).pipe(reachTarget(targets))).toBe('s-(at)f-r-b-x|', {
        ...values,
        t: hit(s, { metric: 'accuracy', goal: 0.88, value: 0.9, epoch: 1, step: 4, seconds: 1.001 }),
      });
    });
  });

  describe('a resumed run', () => {
    const stored = (n: number, held: Metrics): EpochRecord => ({ epoch: n, train: acc(0.5), test: acc(0.99), validation: held, trainMs: 500 * n, evalMs: 7 });
    const resumed = started(s, { fromEpoch: 2 });

    it('counts its training seconds from epoch 1 with its stored epochs (history)', () => {
      const history = (id: string) => (id === runId(s) ? E.right([stored(1, acc(0.1)), stored(2, acc(0.2)), stored(3, acc(0.99))]) : E.right([]));
      newScheduler().run(({ cold, expectObservable }) => {
        // Epoch 3 was stored by the process that stopped, past its last checkpoint: it is trained again, and
        // only the epochs up to the resume point count.
        const values = { s: resumed, c: epoch(s, 3, acc(0.9)), x: ended(s) };
        expectObservable(cold<GridEvent>('s-c---x|', values).pipe(reachTarget(targets, { history }))).toBe('s-(ct)x|', {
          ...values,
          // 500 ms + 1000 ms stored, then epoch 3's 1003 ms.
          t: hit(s, { metric: 'accuracy', goal: 0.88, value: 0.9, epoch: 3, step: 12, seconds: 2.503 }),
        });
      });
    });

    it('a target met before it stopped is emitted again after its RunStarted, and not after later epochs', () => {
      const history = () => E.right([stored(1, acc(0.9)), stored(2, acc(0.95))]);
      newScheduler().run(({ cold, expectObservable }) => {
        const values = { s: resumed, c: epoch(s, 3, acc(0.97)), x: ended(s) };
        expectObservable(cold<GridEvent>('s---c-x|', values).pipe(reachTarget(targets, { history }))).toBe('(st)c-x|', {
          ...values,
          t: hit(s, { metric: 'accuracy', goal: 0.88, value: 0.9, epoch: 1, step: 4, seconds: 0.5 }),
        });
      });
    });

    it('without its history, or with a history short of the resume point, it is an InvalidConfig at its RunStarted', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold<GridEvent>('-s|', { s: resumed }).pipe(reachTarget(targets), failureAsValue());
        expectObservable(out).toBe('-(e|)', {
          e: 'InvalidConfig at reachTarget.history: fcnn/adam/s0 resumed after epoch 2: reachTarget needs its earlier epochs to count its training time (give it history, e.g. (id) => store.runEpochs(id)).',
        });
      });
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold<GridEvent>('-s|', { s: resumed }).pipe(reachTarget(targets, { history: () => E.right([stored(1, acc(0.1))]) }), map((e) => e.type), failureAsValue());
        expectObservable(out).toBe('-(e|)', { e: 'InvalidConfig at reachTarget.history: fcnn/adam/s0 resumed after epoch 2, but its history holds 1 of those epochs: its time to target cannot be counted.' });
      });
      newScheduler().run(({ cold, expectObservable }) => {
        const broken = () => E.left(invalidConfig({ path: 'store', message: 'unreadable' }));
        const out = cold<GridEvent>('-s|', { s: resumed }).pipe(reachTarget(targets, { history: broken }), failureAsValue());
        expectObservable(out).toBe('-(e|)', { e: 'InvalidConfig at store: unreadable' });
      });
    });
  });

  it('is cold: each subscription judges its runs afresh', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const values = { s: started(s), a: epoch(s, 1, acc(0.9)) };
      const judged = cold<GridEvent>('s-a----|', values).pipe(reachTarget(targets), map((e) => e.type));
      const twice = { s: 'RunStarted', a: 'EpochEnded', t: 'TargetReached' };
      expectObservable(judged).toBe('s-(at)-|', twice);
      expectObservable(judged).toBe('s-(at)-|', twice);
    });
  });

  it('targets that do not decode are an InvalidConfig at subscription; the source is never subscribed', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<GridEvent>('s|', { s: started(s) });
      const out = source.pipe(reachTarget({ fcnn: { metric: 'accuracy', goal: 88 } } as Targets), failureAsValue());
      expectObservable(out).toBe('(e|)', {
        e: 'InvalidConfig at targets.fcnn: Invalid targets: targets.fcnn must be a target (an accuracy goal is a fraction in (0, 1]), got {"metric":"accuracy","goal":88}.',
      });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });
});
