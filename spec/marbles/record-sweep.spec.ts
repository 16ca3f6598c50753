import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import type { SweepEvent } from '../../lib/sweep/events.js';
import { logSearches } from '../../lib/sweep/log-searches.js';
import { recordSweep } from '../../lib/sweep/record-sweep.js';
import type { SweepRecord } from '../../lib/sweep/record.js';
import type { SearchConfig, SearchResult } from '../../lib/sweep/search.js';
import { newScheduler, searchConfig, spec, started, failureAsValue } from '../support/marbles.js';

const config: SearchConfig = searchConfig({ strategy: 'random' });
const trial = (i: number, status: 'completed' | 'not started') => ({ trial: i, point: { lr: 0.01 * (i + 1) }, runId: `t${i}`, metrics: status === 'completed' ? [0.5 + i / 10] : [], status, error: null });
const partial: SearchResult = { config, trials: [trial(0, 'completed'), trial(1, 'not started')], asha: null, best: 0, interrupted: false };
const done: SearchResult = { ...partial, trials: [trial(0, 'completed'), trial(1, 'completed')], best: 1 };
const events: Record<string, SweepEvent> = {
  w: { type: 'SweepStarted', spec: { kind: 'sweep', title: 'A sweep', searches: [config], seeds: 2, withDefaults: false, concurrency: 1 } },
  s: { type: 'SearchStarted', config, trials: 2, resumed: false },
  r: started(spec('adam')),
  u: { type: 'SearchUpdated', result: partial },
  n: { type: 'SearchEnded', result: done },
  t: { type: 'RetrainStarted', groups: [{ optimizer: 'adam', role: 'tuned', overrides: { lr: 0.02 }, runIds: ['f0', 'f1'] }], seeds: 2 },
};

describe('recordSweep (marbles)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'optbench-sweeprec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const read = (): SweepRecord => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepRecord;

  it('keeps sweep.json at every search decision, passing every event on at its frame', () => {
    const snapshots: Array<SweepRecord | null> = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<SweepEvent>('w-s-r-u-n-t|', events);
      // What the file said as each event passed (read by the next stage, at that frame).
      const out = source.pipe(
        recordSweep(dir),
        tap(() => snapshots.push(existsSync(join(dir, 'sweep.json')) ? read() : null)),
      );
      expectObservable(out).toBe('w-s-r-u-n-t|', events);
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
    assert.deepEqual(
      snapshots.map((r) => r && [r.searches.map((s) => s.best), r.final.length]),
      [null, null, null, [[0], 0], [[1], 0], [[1], 1]],
    );
    const r = read();
    assert.deepEqual([r.version, r.kind, r.title, r.seeds], [1, 'sweep', 'A sweep', 2]);
  });

  it('keeps the first invocation\'s createdAt when a sweep is resumed', () => {
    const earlier: SweepRecord = { version: 1, kind: 'sweep', title: 'A sweep', createdAt: '2020-02-02T00:00:00.000Z', seeds: 2, searches: [], final: [] };
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(earlier));
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<SweepEvent>('wu|', events).pipe(recordSweep(dir))).toBe('wu|', events);
    });
    assert.equal(read().createdAt, earlier.createdAt);
  });

  it('a sweep.json it cannot read is an IoError at subscription; nothing is overwritten', () => {
    writeFileSync(join(dir, 'sweep.json'), '{"not": "a sweep"}');
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<SweepEvent>('wu|', events);
      const message = `${join(dir, 'sweep.json')} is not a sweep record of this optbench version: move it away or choose another --out.`;
      expectObservable(source.pipe(recordSweep(dir), failureAsValue())).toBe('(e|)', { e: `IoError: ${message}` });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
    assert.equal(readFileSync(join(dir, 'sweep.json'), 'utf8'), '{"not": "a sweep"}');
  });
});

describe('logSearches (marbles)', () => {
  it('a line when a search starts, what it chose, and what is retrained; every event passes on', () => {
    const lines: string[] = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<SweepEvent>('w-s-r-u-n-t|', events);
      expectObservable(source.pipe(logSearches((l) => lines.push(l)))).toBe('w-s-r-u-n-t|', events);
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
    assert.deepEqual(lines, [
      'Search: fcnn/adam, random, 2 trials, validation on the last 10 training images',
      'Search adam: chose trial 2, lr=0.02',
      'Retraining the chosen configuration on all training images, 2 seeds, evaluated on the test set',
    ]);
  });
});
