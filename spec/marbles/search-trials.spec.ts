import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, filter, map, of, tap, type Observable } from 'rxjs';
import type { ColdObservable } from 'rxjs/internal/testing/ColdObservable';
import { runId, type RunSpec } from '../../lib/config/spec.js';
import type { Dataset } from '../../lib/data/types.js';
import { interrupted, storeError, type OptbenchError } from '../../lib/errors.js';
import type { SweepEvent } from '../../lib/sweep/events.js';
import { searchTrials } from '../../lib/sweep/search-trials.js';
import { searchPoints, trialSpec, type SearchConfig } from '../../lib/sweep/search.js';
import type { RunEvent } from '../../lib/train/events.js';
import type { RunContext, RunTrainer } from '../../lib/train/trainer.js';
import { ended, epochEnded, failed, failureAsValue, fakeData, newScheduler, paused, searchConfig, started } from '../support/marbles.js';

// searchTrials on the test scheduler: each trial is a cold Observable of a fake trainer, so the frames at
// which trials start (their subscriptions) show the concurrency and ASHA's promotions as they happen.

const config = (over: Partial<SearchConfig> = {}): SearchConfig =>
  searchConfig({ space: [{ name: 'lr', kind: 'log', lo: 1e-4, hi: 1e-1 }], trials: 3, ...over });

/** The events of a trial trained from `from` to `until` epochs with validation accuracy `acc(epoch)`. */
const trialEvents = (s: RunSpec, from: number, until: number, acc: (epoch: number) => number): RunEvent[] => [
  started(s, { fromEpoch: from }),
  ...Array.from({ length: until - from }, (_, i) => epochEnded(s, from + i + 1, { loss: 1, accuracy: acc(from + i + 1) })),
  until >= s.epochs ? ended(s) : paused(s, until),
];

/**
 * A trainer whose call k plays `marbles[k]`, where a, b, c ... stand for the trial's events in order; it
 * records every call. The cold Observables exist from the start, so their subscriptions can be expected.
 */
const scripted = (cold: (m: string) => ColdObservable<string>, c: SearchConfig, marbles: readonly string[], acc: (trial: number, epoch: number) => number) => {
  const trials = new Map(E.getOrElseW(() => assert.fail('points'))(searchPoints(c)).map((p, i) => [runId(trialSpec(c, p)), i]));
  const calls: Array<{ trial: number; ctx: RunContext }> = [];
  const runs = marbles.map((m) => cold(m));
  const have = new Map<number, number>();
  const trainer: RunTrainer = (s, _d, ctx): Observable<RunEvent> => {
    const trial = trials.get(runId(s))!;
    const events = trialEvents(s, have.get(trial) ?? 0, ctx.untilEpoch, (e) => acc(trial, e));
    have.set(trial, ctx.untilEpoch);
    const run = runs[calls.length]!;
    calls.push({ trial, ctx });
    return run.pipe(map((letter) => events[letter.charCodeAt(0) - 97]!));
  };
  return { trainer, calls, runs };
};

const KIND: Record<string, string> = { SearchStarted: 'S', RunStarted: 'R', EpochEnded: 'E', RunEnded: 'X', RunPaused: 'P', RunFailed: 'F', SearchUpdated: 'u', SearchEnded: 'n' };
const kinds = map((e: SweepEvent) => KIND[e.type] ?? '?');
const caught = catchError((err: OptbenchError) => of(`${err._tag}${err._tag === 'InvalidConfig' ? `:${err.path}` : ''}`));
const letters = (s: string) => Object.fromEntries([...new Set(s.replace(/[-|()^!#]/g, ''))].map((k) => [k, k]));

describe('searchTrials (marbles)', () => {
  const data: Dataset = fakeData('fashion-mini', 100);

  it('grid search, concurrency 2: two trials from the start, the third when a slot frees, an update after each', () => {
    const c = config();
    let script!: ReturnType<typeof scripted>;
    const results: SweepEvent[] = [];
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      script = scripted(cold, c, ['--a-----------(bc|)', '-a-(bc|)', '(abc|)'], (t) => [0.5, 0.9, 0.7][t]!);
      const out = hot<Dataset>('^(d|)', { d: data }).pipe(searchTrials(c, { trainer: script.trainer, concurrency: 2 }), tap((e) => results.push(e)));
      // S search started; R a trial started, E its epoch, X its end; u the search after each trial; n its end.
      const expected = '-SRR(EXuREXu)--(EXun|)';
      expectObservable(out.pipe(kinds)).toBe(expected, letters(expected));
      expectSubscriptions(script.runs[0]!.subscriptions).toBe(`-^${'-'.repeat(13)}!`);
      expectSubscriptions(script.runs[1]!.subscriptions).toBe('-^--!');
      expectSubscriptions(script.runs[2]!.subscriptions).toBe('----(^!)');
    });
    assert.deepEqual(
      script.calls.map((x) => [x.trial, x.ctx]),
      [0, 1, 2].map((t) => [t, { index: t + 1, total: 3, untilEpoch: 1, evaluation: { split: 'validation' } }]),
    );
    const end = results.at(-1)!;
    assert.ok(end.type === 'SearchEnded');
    assert.equal(end.result.best, 1);
    assert.deepEqual(end.result.trials.map((t) => [t.status, t.metrics]), [['completed', [0.5]], ['completed', [0.9]], ['completed', [0.7]]]);
  });

  it('ASHA: promotions are jobs of the same stream; the best of rung 0 continues from its epoch to rung 1', () => {
    const c = config({ strategy: 'asha', epochs: 3 });
    let script!: ReturnType<typeof scripted>;
    const results: SweepEvent[] = [];
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      script = scripted(cold, c, ['--(abc|)', '--(abc|)', '--(abc|)', '--(abcd|)'], (t, e) => [0.5, 0.9, 0.7][t]! + e / 100);
      const out = hot<Dataset>('^(d|)', { d: data }).pipe(searchTrials(c, { trainer: script.trainer }), tap((e) => results.push(e)));
      // Only the trials' starts: each job starts when the one before reports (one slot).
      expectObservable(out.pipe(filter((e) => e.type === 'RunStarted'), kinds)).toBe('---R-R-R-(R|)', { R: 'R' });
      expectSubscriptions(script.runs.map((r) => r.subscriptions)[0]!).toBe('-^-!');
      expectSubscriptions(script.runs.map((r) => r.subscriptions)[3]!).toBe('-------^-!');
    });
    // Rungs at 1 and 3 epochs (eta 3): three trials at rung 0, then the best of them (trial 1) to rung 1.
    assert.deepEqual(
      script.calls.map((x) => [x.trial, x.ctx.untilEpoch]),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [1, 3],
      ],
    );
    const promoted = results.filter((e) => e.type === 'RunStarted').at(-1);
    assert.equal(promoted?.type === 'RunStarted' && promoted.fromEpoch, 1, 'the promoted trial continues from its rung-0 epoch');
    const end = results.at(-1)!;
    assert.ok(end.type === 'SearchEnded');
    assert.equal(end.result.best, 1);
    assert.deepEqual(end.result.asha?.rungs, [1, 3]);
    assert.deepEqual(end.result.trials.map((t) => t.status), ['stopped', 'completed', 'stopped']);
    assert.deepEqual(end.result.trials[1]!.metrics, [0.91, 0.92, 0.93]);
    // Every decision was saved as it was made: a job handed out, a job reported.
    assert.equal(results.filter((e) => e.type === 'SearchUpdated').length, 1 + 4 * 2);
  });

  it('an interrupted trial stops the search from starting more; it ends as interrupted', () => {
    const c = config();
    let script!: ReturnType<typeof scripted>;
    newScheduler().run(({ cold, hot, expectObservable }) => {
      script = scripted(cold, c, ['-a|'], () => 0.5);
      const stop = failed(trialSpec(c, E.getOrElseW(() => assert.fail())(searchPoints(c))[0]!), interrupted('Ctrl-C'));
      const trainer: RunTrainer = (s, d, ctx) => (script.trainer(s, d, ctx), cold('-f|', { f: { ...stop } }));
      const out = hot<Dataset>('^(d|)', { d: data }).pipe(
        searchTrials(c, { trainer }),
        map((e) => (e.type === 'SearchEnded' ? `n${e.result.interrupted ? '!' : ''}` : KIND[e.type]!)),
      );
      expectObservable(out).toBe('-SF(uN|)', { S: 'S', F: 'F', u: 'u', N: 'n!' });
    });
    assert.equal(script.calls.length, 1);
  });

  it('unsubscribing mid-search unsubscribes the trial in flight and starts no other', () => {
    const c = config();
    let script!: ReturnType<typeof scripted>;
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      script = scripted(cold, c, ['--a--(bc|)', 'a|', 'a|'], () => 0.5);
      expectObservable(hot<Dataset>('^(d|)', { d: data }).pipe(searchTrials(c, { trainer: script.trainer }), kinds), '^---!').toBe('-S-R', { S: 'S', R: 'R' });
      expectSubscriptions(script.runs[0]!.subscriptions).toBe('-^--!');
    });
    assert.equal(script.calls.length, 1);
  });

  it('a config that does not decode or check is an InvalidConfig at subscription; the data is never asked for', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Dataset>('d|', { d: data });
      expectObservable(source.pipe(searchTrials(config({ strategy: 'asha', eta: 1 })), kinds, caught)).toBe('(e|)', { e: 'InvalidConfig:eta' });
      expectObservable(source.pipe(searchTrials(config({ trials: 0 })), kinds, caught)).toBe('(e|)', { e: 'InvalidConfig:trials' });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });

  it("a trial history that cannot be read (the store's Left) ends the search with that error; the trial is never trained", () => {
    const c = config({ trials: 1 });
    const unreadable = storeError({ file: 'optbench.sqlite', message: 'the store cannot be read' });
    newScheduler().run(({ cold, expectObservable }) => {
      const script = scripted(cold, c, ['a|'], () => 0.5);
      const history = () => E.left(unreadable);
      expectObservable(cold<Dataset>('d|', { d: data }).pipe(searchTrials(c, { trainer: script.trainer, history }), kinds, caught)).toBe('(Se|)', {
        S: 'S',
        e: 'StoreError',
      });
      expectObservable(cold<Dataset>('d|', { d: data }).pipe(searchTrials(c, { trainer: script.trainer, history }), failureAsValue())).toBe('(se|)', {
        s: { type: 'SearchStarted', config: c, trials: 1, resumed: false },
        e: 'StoreError: the store cannot be read',
      });
      assert.equal(script.calls.length, 0);
    });
  });

  it('a holdout that leaves nothing to train on is an InvalidConfig when the data arrives', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const small = fakeData('fashion-mini', 10);
      expectObservable(cold<Dataset>('-d|', { d: small }).pipe(searchTrials(config()), kinds, caught)).toBe('-(e|)', { e: 'InvalidConfig:holdout' });
    });
  });
});
