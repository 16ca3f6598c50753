import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defer, map } from 'rxjs';
import type { GridEvent } from '../../lib/train/events.js';
import type { GridRecord, RunRecord } from '../../lib/train/record.js';
import { recordRuns } from '../../lib/train/recorder.js';
import { ended, epochEnded, failed, newScheduler, paused, spec, started } from '../support/marbles.js';

describe('recordRuns (marbles)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'optbench-record-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const runFile = (): RunRecord[] =>
    readdirSync(join(dir, 'runs'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, 'runs', f), 'utf8')) as RunRecord);
  const s = spec('adam', { epochs: 2 });
  const t = spec('sgd', { epochs: 3 });

  it('writes grid.json on GridStarted and each run on its events, passing every event on at its frame', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const g: GridEvent = { type: 'GridStarted', specs: [s, t], dataset: 'fake', classNames: ['a', 'b'] };
      const source = cold<GridEvent>('g-s-e-x-t-u-p|', {
        g,
        s: started(s),
        e: epochEnded(s, 1),
        x: failed(s, { _tag: 'Diverged', epoch: 2, step: 1, loss: NaN, message: 'nan' }, 1),
        t: started(t),
        u: epochEnded(t, 1, null),
        p: paused(t, 1),
      });
      expectObservable(source.pipe(recordRuns(dir, { task: 'run', title: 'A grid' }), map((e) => e.type))).toBe('g-s-e-x-t-u-p|', {
        g: 'GridStarted',
        s: 'RunStarted',
        e: 'EpochEnded',
        x: 'RunFailed',
        t: 'RunStarted',
        u: 'EpochEnded',
        p: 'RunPaused',
      });
      expectSubscriptions(source.subscriptions).toBe('^------------!');
    });
    const grid = JSON.parse(readFileSync(join(dir, 'grid.json'), 'utf8')) as GridRecord;
    assert.deepEqual([grid.task, grid.title, grid.classNames, grid.specs], ['run', 'A grid', ['a', 'b'], [s, t]]);
    const [adam, sgd] = runFile();
    assert.equal(adam!.status, 'failed');
    assert.equal(adam!.error!._tag, 'Diverged');
    assert.deepEqual(adam!.epochs.map((e) => e.test), [epochEnded(s, 1).test]);
    assert.equal(sgd!.status, 'interrupted', 'a paused run is resumable, as an interrupted one');
    assert.deepEqual(sgd!.epochs.map((e) => e.test), [null], 'an unevaluated epoch is recorded with training metrics only');
  });

  it('keeps the time a grid was first started when the same task resumes in its directory, and only then', () => {
    const g: GridEvent = { type: 'GridStarted', specs: [s], dataset: 'fake', classNames: ['a', 'b'] };
    const first = '2020-01-02T03:04:05.000Z';
    const start = (task: string) =>
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<GridEvent>('g|', { g }).pipe(recordRuns(dir, { task }), map((e) => e.type))).toBe('g|', { g: 'GridStarted' });
      });
    const written = () => JSON.parse(readFileSync(join(dir, 'grid.json'), 'utf8')) as GridRecord;
    writeFileSync(join(dir, 'grid.json'), JSON.stringify({ ...g, task: 'task 4', title: '', createdAt: first }));
    const before = Date.now();
    start('task 4');
    assert.deepEqual([written().createdAt, written().task, written().specs], [first, 'task 4', [s]]);
    start('task 2');
    assert.equal(written().task, 'task 2');
    assert.ok(Date.parse(written().createdAt) >= before, `another task's grid is a new grid: ${written().createdAt}`);
    writeFileSync(join(dir, 'grid.json'), '{ not json');
    start('task 2');
    assert.ok(Date.parse(written().createdAt) >= before, 'an unreadable grid.json is replaced with a new time');
  });

  it('keeps its records per subscription: a second subscription does not add to the first one\'s runs', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      let subscriptions = 0;
      // The first subscription sees the run start and its first epoch; a second sees only epoch 2.
      const source = defer(() =>
        ++subscriptions === 1
          ? cold<GridEvent>('s-e|', { s: started(s), e: epochEnded(s, 1) })
          : cold<GridEvent>('--f|', { f: epochEnded(s, 2) }),
      );
      const recorded = source.pipe(recordRuns(dir), map((e) => e.type));
      expectObservable(recorded).toBe('s-e|', { s: 'RunStarted', e: 'EpochEnded' });
      expectObservable(recorded).toBe('--f|', { f: 'EpochEnded' });
    });
    assert.deepEqual(runFile()[0]!.epochs.map((e) => e.epoch), [1]);
  });

  it('passes an error of its source on; what it wrote before stays', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const err = { _tag: 'StoreError', message: 'disk', file: 'x' };
      expectObservable(cold<GridEvent>('s#', { s: started(s) }, err).pipe(recordRuns(dir), map((e) => e.type))).toBe('s#', { s: 'RunStarted' }, err);
    });
    assert.equal(runFile()[0]!.status, 'running');
    assert.ok(!existsSync(join(dir, 'grid.json')));
  });

  it('records a finished run as done with its final metrics', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<GridEvent>('se(fx|)', { s: started(s), e: epochEnded(s, 1), f: epochEnded(s, 2), x: ended(s) }).pipe(recordRuns(dir), map(() => 1))).toBe('11(11|)', { 1: 1 });
    });
    const r = runFile()[0]!;
    assert.deepEqual([r.status, r.final, r.epochs.length], ['done', ended(s).final, 2]);
  });
});
