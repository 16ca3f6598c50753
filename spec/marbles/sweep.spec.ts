import { strict as assert } from 'node:assert';
import { catchError, from, map, of, type Observable } from 'rxjs';
import type { RunSpec } from '../../lib/config/spec.js';
import type { Dataset } from '../../lib/data/types.js';
import { interrupted, type OptbenchError } from '../../lib/errors.js';
import type { SweepEvent } from '../../lib/sweep/events.js';
import type { SearchConfig } from '../../lib/sweep/search.js';
import { sweep, type SweepSpec } from '../../lib/sweep/sweep.js';
import type { RunEvent } from '../../lib/train/events.js';
import type { RunContext, RunTrainer } from '../../lib/train/trainer.js';
import { ended, epochEnded, failed, fakeData, newScheduler, searchConfig, started } from '../support/marbles.js';

const search = (optimizer: string): SearchConfig => searchConfig({ optimizer });

const sweepSpec = (over: Partial<SweepSpec> = {}): SweepSpec => ({ kind: 'sweep', title: 'A sweep', searches: [search('adam')], seeds: 1, withDefaults: false, concurrency: 1, ...over });

/** Every run: started, one epoch (validation accuracy higher for a higher lr), ended; all at once. */
const instant = () => {
  const calls: Array<{ spec: RunSpec; ctx: RunContext }> = [];
  const trainer: RunTrainer = (s, _d, ctx): Observable<RunEvent> => {
    calls.push({ spec: s, ctx });
    const lr = Number(s.optimizer.overrides.lr ?? 0.001);
    return from([started(s), epochEnded(s, 1, { loss: 1, accuracy: 0.5 + lr }), ended(s)]);
  };
  return { trainer, calls };
};

const LETTER: Record<string, string> = {
  SweepStarted: 'W',
  SearchStarted: 'S',
  RunStarted: 'R',
  EpochEnded: 'E',
  RunEnded: 'X',
  RunFailed: 'F',
  SearchUpdated: 'u',
  SearchEnded: 'n',
  RetrainStarted: 'T',
  GridStarted: 'G',
};
const letters = map((e: SweepEvent) => LETTER[e.type]!);
const values = (m: string) => Object.fromEntries([...new Set(m.replace(/[-|()#]/g, ''))].map((k) => [k, k]));

describe('sweep (marbles)', () => {
  const data: Dataset = fakeData('fashion-mini', 100);

  it('its searches, then the chosen configuration retrained on all training images and tested, in one stream', () => {
    const { trainer, calls } = instant();
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Dataset>('-(d|)', { d: data });
      const expected = '-(WSREXuREXunTGREX|)';
      expectObservable(source.pipe(sweep(sweepSpec(), { trainer }), letters)).toBe(expected, values(expected));
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
    assert.deepEqual(
      calls.map((c) => [c.spec.holdout, c.spec.optimizer.overrides, c.ctx.evaluation]),
      [
        [10, { lr: 0.001 }, { split: 'validation' }],
        [10, { lr: 0.1 }, { split: 'validation' }],
        // The best trial (lr 0.1), without its holdout, evaluated on the test set.
        [undefined, { lr: 0.1 }, { split: 'test' }],
      ],
    );
  });

  it('tune: each optimizer\'s search, then its stock defaults and its tuned rate retrained side by side', () => {
    const { trainer, calls } = instant();
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<Dataset>('(d|)', { d: data }).pipe(sweep(sweepSpec({ kind: 'tune', searches: [search('adam'), search('sgd')], withDefaults: true }), { trainer }), letters);
      const expected = '(WSREXuREXunSREXuREXunTGREXREXREXREX|)';
      expectObservable(out).toBe(expected, values(expected));
    });
    assert.deepEqual(
      calls.slice(4).map((c) => `${c.spec.optimizer.name} ${JSON.stringify(c.spec.optimizer.overrides)}`),
      ['adam {}', 'adam {"lr":0.1}', 'sgd {}', 'sgd {"lr":0.1}'],
    );
  });

  it('an interrupted search ends the sweep there: nothing is retrained', () => {
    const calls: string[] = [];
    const trainer: RunTrainer = (s) => {
      calls.push(s.optimizer.name);
      return of(failed(s, interrupted('Ctrl-C')));
    };
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold<Dataset>('(d|)', { d: data }).pipe(sweep(sweepSpec({ searches: [search('adam'), search('sgd')] }), { trainer }), letters);
      expectObservable(out).toBe('(WSFun|)', values('WSFun'));
    });
    assert.deepEqual(calls, ['adam']);
  });

  it('a spec that does not decode is an InvalidConfig at subscription; the data is never asked for', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Dataset>('d|', { d: data });
      const out = source.pipe(
        sweep(sweepSpec({ seeds: 0 }), { trainer: instant().trainer }),
        letters,
        catchError((e: OptbenchError) => of(e._tag === 'InvalidConfig' ? `bad ${e.path}` : e._tag)),
      );
      expectObservable(out).toBe('(e|)', { e: 'bad seeds' });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });
});
