import { strict as assert } from 'node:assert';
import { defer } from 'rxjs';
import type { GridEvent } from '../../lib/train/events.js';
import { showProgress } from '../../lib/train/progress.js';
import type { TargetReached } from '../../lib/train/target.js';
import { batch, ended, epochEnded, failed, newScheduler, paused, spec, started } from '../support/marbles.js';
import { interrupted } from '../../lib/errors.js';

/** A writable that keeps what it is given, as a terminal (tty) or a log file. */
const sink = (tty = false) => {
  const lines: string[] = [];
  return { lines, out: { isTTY: tty, columns: 200, write: (s: string) => void lines.push(s) } };
};

describe('showProgress (marbles)', () => {
  const s = spec('adam', { epochs: 2 });
  const t = spec('sgd', { epochs: 1 });

  it('a line per run, epoch and end, in order, while every event passes on at its frame', () => {
    const { lines, out } = sink();
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const g: GridEvent = { type: 'GridStarted', specs: [s], dataset: 'fake', classNames: [] };
      const values = { g, s: started(s, { index: 1, total: 2 }), b: batch(s), e: epochEnded(s, 1), n: epochEnded(s, 2, null), x: ended(s) };
      const source = cold<GridEvent>('g-s-b-e-n-x|', values);
      expectObservable(source.pipe(showProgress(out))).toBe('g-s-b-e-n-x|', values);
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
    assert.deepEqual(lines, [
      'run 1/2 fcnn/adam/s0 on cpu: 10 parameters, 4 steps per epoch\n',
      '  epoch 1/2: train loss 2.0000 acc 30.00%, test loss 1.5000 acc 41.00% (1s train, 0s eval; left ~3s)\n',
      '  epoch 2/2: train loss 1.0000 acc 30.00% (1s train; left ~2s)\n',
      '  done: test loss 1.5000 acc 45.00% in 2s\n',
    ]);
  });

  it("shows an epoch's held-out metrics beside the test set's, and a line when a run reaches its target", () => {
    const { lines, out } = sink();
    const h = spec('adam', { epochs: 2, holdout: 50 });
    const e1 = { ...epochEnded(h, 1, { loss: 1.5, accuracy: 0.41 }), evaluation: { split: 'test' as const, batchSize: 200 }, validation: { loss: 1.25, accuracy: 0.5 } };
    const hit: TargetReached = { type: 'TargetReached', runId: e1.runId, metric: 'accuracy', goal: 0.5, value: 0.5, epoch: 1, step: 4, seconds: 1 };
    newScheduler().run(({ cold, expectObservable }) => {
      const values = { s: started(h), e: e1, t: hit };
      expectObservable(cold<GridEvent | TargetReached>('s-e-t|', values).pipe(showProgress(out))).toBe('s-e-t|', values);
    });
    assert.deepEqual(lines.slice(1), [
      '  epoch 1/2: train loss 2.0000 acc 30.00%, test loss 1.5000 acc 41.00%, held-out loss 1.2500 acc 50.00% (1s train, 0s eval; left ~1s)\n',
      '  reached its target (accuracy ≥ 0.5, held-out 50.00%) after epoch 1, step 4: 1s of training\n',
    ]);
  });

  it('names the run on each line while several are in flight; says paused and interrupted', () => {
    const { lines, out } = sink();
    newScheduler().run(({ cold, expectObservable }) => {
      const values = { s: started(s), t: started(t), e: epochEnded(t, 1), p: paused(s, 1), i: failed(t, interrupted('Ctrl-C'), 1) };
      expectObservable(cold<GridEvent>('st-e-p-i|', values).pipe(showProgress(out))).toBe('st-e-p-i|', values);
    });
    assert.match(lines[2]!, /^ {2}fcnn\/sgd\/s0 epoch 1\/1: /);
    assert.equal(lines[3], '  fcnn/adam/s0 paused after epoch 1/2\n');
    assert.equal(lines[4], '  interrupted: Ctrl-C\n', 'once one run is left, lines need no name');
  });

  it('keeps its state per subscription: a second subscription knows nothing of the first one\'s run', () => {
    const { lines, out } = sink();
    newScheduler().run(({ cold, expectObservable }) => {
      let n = 0;
      const source = defer(() => (++n === 1 ? cold<GridEvent>('s|', { s: started(s, { total: 3 }) }) : cold<GridEvent>('-e|', { e: epochEnded(s, 1) })));
      const shown = source.pipe(showProgress(out));
      expectObservable(shown).toBe('s|', { s: started(s, { total: 3 }) });
      expectObservable(shown).toBe('-e|', { e: epochEnded(s, 1) });
    });
    // Without the first subscription's RunStarted there is nothing to estimate the time left from.
    assert.match(lines[1]!, /left ~\?\)/);
  });

  it('on a terminal, draws the batch line in place and clears it when the stream ends or fails', () => {
    const { lines, out } = sink(true);
    newScheduler().run(({ cold, expectObservable }) => {
      const err = { _tag: 'StoreError', message: 'disk', file: 'x' };
      expectObservable(cold<GridEvent>('s-b-#', { s: started(s), b: batch(s, 1, 4) }, err).pipe(showProgress(out))).toBe('s-b-#', { s: started(s), b: batch(s, 1, 4) }, err);
    });
    assert.match(lines[2]!, /^\r\x1b\[2Krun 1\/1 fcnn\/adam\/s0 epoch 1\/2 batch 4\/4 loss 1\.6000/);
    assert.equal(lines.at(-1), '\r\x1b[2K');
  });
});
