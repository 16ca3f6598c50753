import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { RunSpec } from '../lib/config/spec.js';
import { openStore, storePath } from '../lib/store/store.js';
import { parseSweepCommand } from '../pipelines/cli/sweep-args.js';
import { readSweepRecord, type SweepRecord } from '../lib/sweep/record.js';
import { buildSweepReport, sweepFigures, sweepMarkdown } from '../lib/report/sweep.js';
import { defer, finalize, from, lastValueFrom, mergeMap, of, timer, toArray } from 'rxjs';
import { runId } from '../lib/config/spec.js';
import type { Dataset } from '../lib/data/types.js';
import { searchPoints, trialSpec, type SearchConfig } from '../lib/sweep/search.js';
import { searchTrials } from '../lib/sweep/search-trials.js';
import type { HistoryOf } from '../lib/sweep/trial.js';
import type { AshaState } from '../lib/sweep/asha.js';
import type { RunEvent } from '../lib/train/events.js';
import type { RunTrainer } from '../lib/train/trainer.js';
import { searchConfig } from './support/marbles.js';

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

const config = (over: Partial<SearchConfig> = {}): SearchConfig =>
  searchConfig({ dataset: 'toy', space: [{ name: 'lr', kind: 'log', lo: 1e-4, hi: 1e-1 }], strategy: 'asha', trials: 9, epochs: 9, ...over });

/**
 * A fake RunTrainer over a toy objective: trial i's validation metric after epoch e is quality(i) + e / 1000
 * (more training helps a little; the ranking of trials never changes). It remembers what each trial has
 * been trained for, as the store does (and says so through `history`), continues a trial from there as a
 * checkpoint would, and counts the epochs it really trains, so retraining would show.
 */
const toyTrainer = (
  cfg: SearchConfig,
  quality: (trial: number) => number,
  delayMs = 0,
  delayOf: (trial: number) => number = (trial) => delayMs * (1 + (trial % 3)),
) => {
  const trialOf = new Map(right(searchPoints(cfg)).map((p, i) => [runId(trialSpec(cfg, p)), i]));
  const trained = new Map<number, number>();
  let epochsTrained = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const calls: Array<{ trial: number; until: number }> = [];
  const metric = (trial: number, epoch: number) => quality(trial) + epoch / 1000;
  const train: RunTrainer = (spec, _data, ctx) =>
    defer(() => {
      const id = runId(spec);
      const trial = trialOf.get(id)!;
      calls.push({ trial, until: ctx.untilEpoch });
      assert.deepEqual(ctx.evaluation, { split: 'validation' }, 'trials are evaluated on their held-out images');
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const have = trained.get(trial) ?? 0;
      const events: RunEvent[] = [
        { type: 'RunStarted', runId: id, spec, index: ctx.index, total: ctx.total, backend: 'toy', parameters: 0, steps: 1, fromEpoch: have, startedAt: '' },
      ];
      for (let e = have + 1; e <= ctx.untilEpoch; e++)
        events.push({
          type: 'EpochEnded',
          runId: id,
          epoch: e,
          epochs: spec.epochs,
          train: { loss: 1, accuracy: 0.5 },
          test: { loss: 1, accuracy: metric(trial, e) },
          evaluation: { split: 'validation', batchSize: 200 },
          trainMs: 0,
          evalMs: 0,
        });
      const done = Math.max(have, ctx.untilEpoch);
      events.push(
        done >= spec.epochs
          ? { type: 'RunEnded', runId: id, spec, final: { testLoss: 1, testAccuracy: metric(trial, done) }, confusion: null, vae: null, trainMs: 0, evalMs: 0 }
          : { type: 'RunPaused', runId: id, spec, epochsDone: done },
      );
      epochsTrained += Math.max(0, ctx.untilEpoch - have);
      trained.set(trial, done);
      const wait = delayOf(trial) > 0 ? timer(delayOf(trial)) : of(0);
      return wait.pipe(
        mergeMap(() => from(events)),
        finalize(() => inFlight--),
      );
    });
  const history: HistoryOf = (id) => {
    const trial = trialOf.get(id)!;
    return E.right({ metrics: Array.from({ length: trained.get(trial) ?? 0 }, (_, e) => metric(trial, e + 1)), failed: null });
  };
  return {
    train,
    history,
    trained,
    calls,
    epochsTrained: () => epochsTrained,
    maxInFlight: () => maxInFlight,
  };
};

const toyData = { name: 'toy', train: { count: 100 } } as unknown as Dataset;

/** Runs a search to its end and returns what it found, with the last state it saved. */
const runSearch = async (cfg: SearchConfig, opts: Parameters<typeof searchTrials>[1]) => {
  const events = await lastValueFrom(of(toyData).pipe(searchTrials(cfg, opts), toArray()));
  const ended = events.find((e) => e.type === 'SearchEnded');
  assert.ok(ended?.type === 'SearchEnded', 'the search ends with SearchEnded');
  return { result: ended.result, events };
};

const epochsByTrial = (m: Map<number, number>): number[] => Array.from({ length: 9 }, (_, i) => m.get(i) ?? 0);

describe('searchTrials: ASHA as a stream on a toy objective', () => {
  // Worked by hand from the ASHA rule (rungs 1, 3, 9 epochs; eta 3; one worker): whenever a rung holds n
  // reported trials, its top floor(n/3) may move up, highest rung first, else a new trial starts.
  it('promotes the right trials when later trials are better (each new trial is the best so far)', async () => {
    const toy = toyTrainer(config(), (i) => i);
    const { result: r } = await runSearch(config(), { trainer: toy.train, history: toy.history });
    // t0, t1 start; t2 tops rung 0 of 3 -> rung 1; t3 tops 4 -> rung 1; t4 tops 5 -> rung 1, tops rung 1
    // of 3 -> rung 2; from then on every new trial is promoted twice.
    assert.deepEqual(epochsByTrial(toy.trained), [1, 1, 3, 3, 9, 9, 9, 9, 9]);
    assert.deepEqual(
      r.trials.map((t) => t.status),
      ['stopped', 'stopped', 'stopped', 'stopped', 'completed', 'completed', 'completed', 'completed', 'completed'],
    );
    assert.equal(r.best, 8);
    assert.deepEqual(r.asha!.rungs, [1, 3, 9]);
    // Nothing is trained twice: the epochs trained are exactly the epochs each trial ends with.
    assert.equal(toy.epochsTrained(), 1 + 1 + 3 + 3 + 9 * 5);
  });

  it('promotes the right trials when earlier trials are better', async () => {
    const toy = toyTrainer(config(), (i) => -i);
    const { result: r } = await runSearch(config(), { trainer: toy.train, history: toy.history });
    // t0 tops rung 0 at n = 3; t1 joins it at n = 6 (top 2); at n = 9 t2 goes up and rung 1 (t0, t1, t2)
    // sends its top, t0, to the full budget.
    assert.deepEqual(epochsByTrial(toy.trained), [9, 3, 3, 1, 1, 1, 1, 1, 1]);
    assert.equal(r.best, 0);
    assert.deepEqual(
      r.trials.map((t) => t.status),
      ['completed', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped'],
    );
    // Each job continues the trial from the previous rung's epochs.
    assert.deepEqual(
      toy.calls.filter((c) => c.trial === 0).map((c) => c.until),
      [1, 3, 9],
    );
  });

  it('an interrupted ASHA search resumes from its saved state and ends as an uninterrupted one, retraining nothing', async () => {
    const whole = toyTrainer(config(), (i) => Math.sin(3 * i));
    const { result: expected } = await runSearch(config(), { trainer: whole.train, history: whole.history });
    const toy = toyTrainer(config(), (i) => Math.sin(3 * i));
    const first = await runSearch(config(), { trainer: toy.train, history: toy.history, shouldStop: () => toy.calls.length >= 5 });
    assert.equal(first.result.interrupted, true);
    const updates = first.events.filter((e) => e.type === 'SearchUpdated');
    const saved = updates.at(-1)?.type === 'SearchUpdated' ? updates.at(-1)!.result.asha : null;
    assert.ok(saved);
    const { result: done } = await runSearch(config(), {
      trainer: toy.train,
      history: toy.history,
      resumeFrom: JSON.parse(JSON.stringify(saved)) as AshaState,
    });
    assert.equal(done.interrupted, false);
    assert.deepEqual(done.trials.map((t) => t.status), expected.trials.map((t) => t.status));
    assert.equal(done.best, expected.best);
    assert.equal(toy.epochsTrained(), whole.epochsTrained());
  });

  it('with every job in flight (as over the queue), the order jobs finish in changes no decision', async () => {
    // sin(3i) ranks t7, t5, t3 top of nine. Applied as they finish, in id order the first three reports
    // would send t1 up; in reverse order t7. Applied in the order they were issued, both are the same.
    const search = async (delayOf: (trial: number) => number) => {
      const toy = toyTrainer(config(), (i) => Math.sin(3 * i), 0, delayOf);
      const { result } = await runSearch(config(), { trainer: toy.train, history: toy.history, concurrency: 100 });
      return { result, trained: epochsByTrial(toy.trained), maxInFlight: toy.maxInFlight() };
    };
    const inOrder = await search((trial) => 2 * (1 + trial));
    const reversed = await search((trial) => 2 * (9 - trial));
    assert.equal(reversed.maxInFlight, 9, 'all nine first-rung jobs were in flight at once');
    assert.deepEqual(reversed.trained, inOrder.trained);
    assert.deepEqual(reversed.result.trials, inOrder.result.trials);
    assert.equal(reversed.result.best, inOrder.result.best);
    // And both are what one worker decides.
    const one = toyTrainer(config(), (i) => Math.sin(3 * i));
    const { result: sequential } = await runSearch(config(), { trainer: one.train, history: one.history });
    assert.equal(inOrder.result.best, sequential.best);
  });

  it('concurrency 3: three jobs in flight at once, none waits for a full rung', async () => {
    const toy = toyTrainer(config(), (i) => (i * 7) % 9, 5);
    const { result: r } = await runSearch(config(), { trainer: toy.train, history: toy.history, concurrency: 3 });
    assert.equal(toy.maxInFlight(), 3);
    // Every trial started, and whatever completed was promoted through each rung (trained to 9 epochs).
    assert.ok(r.trials.every((t) => t.status !== 'not started'));
    for (const t of r.trials.filter((x) => x.status === 'completed')) assert.equal(toy.trained.get(t.trial), 9);
    assert.ok(r.best !== null);
  });

  it('grid and random search train every trial to the full budget and choose the best validation metric', async () => {
    const grid = config({ strategy: 'grid', trials: 4, epochs: 2 });
    const toy = toyTrainer(grid, (i) => -Math.abs(i - 2));
    const { result: r } = await runSearch(grid, { trainer: toy.train, concurrency: 2 });
    assert.deepEqual(r.trials.map((t) => (t.point.lr as number).toPrecision(3)), ['0.000100', '0.00100', '0.0100', '0.100']);
    assert.deepEqual(epochsByTrial(toy.trained).slice(0, 4), [2, 2, 2, 2]);
    assert.equal(r.best, 2);
    const random = config({ strategy: 'random', trials: 3, epochs: 1, direction: 'min' });
    const min = toyTrainer(random, (i) => Math.abs(i - 1));
    const { result: rr } = await runSearch(random, { trainer: min.train });
    assert.equal(rr.best, 1);
  });
});

describe('sweep command: search-space and option errors', () => {
  const base = ['--model', 'fcnn', '--optimizer', 'adam', '--backend', 'cpu', '--out', join(tmpdir(), 'optbench-sweep-parse')];
  const err = async (args: string[]) => {
    const r = await parseSweepCommand([...base, ...args]);
    assert.ok(E.isLeft(r), 'expected an error');
    return r.left;
  };
  it('a malformed or invalid space is an InvalidConfig naming the entry', async () => {
    const e1 = await err(['--space', 'lr=logg(1e-4,1e-1)']);
    assert.equal(e1._tag, 'InvalidConfig');
    assert.match(e1.message, /unknown distribution 'logg'.*did you mean 'log'/);
    const e2 = await err(['--space', 'lr=log(0,1)']);
    assert.match(e2.message, /log needs lo > 0/);
    const e3 = await err(['--space', 'beta1=uniform(0.5,1.5)']);
    assert.equal(e3._tag, 'InvalidConfig');
    assert.match(e3.message, /beta1 can reach 1\.5/);
  });
  it('an unknown hyperparameter or strategy is an UnknownName with the valid names', async () => {
    const e = await err(['--space', 'betta1=uniform(0.8,0.9)']);
    assert.equal(e._tag, 'UnknownName');
    assert.match(e.message, /beta1/);
    const s = await err(['--space', 'lr=log(1e-4,1e-1)', '--strategy', 'hyperband']);
    assert.equal(s._tag, 'UnknownName');
    assert.match(s.message, /grid, random, asha/);
  });
});

// End to end on the real images of fixtures/fashion-mini with the JavaScript cpu backend, through the CLI
// in a child process (so that it can be killed): a tiny sweep, small enough for seconds per trial.
const CLI = resolve('pipelines/cli/main.ts');
const tiny = (out: string, extra: string[] = []): string[] => [
  'sweep',
  '--model', 'fcnn',
  '--optimizer', 'adam',
  '--space', 'lr=log(1e-3,1e-1)',
  '--strategy', 'random',
  '--epochs', '1',
  '--seeds', '1',
  '--holdout', '50',
  '--subset', '100',
  '--test-subset', '50',
  '--batch-size', '100',
  '--backend', 'cpu',
  '--dataset', 'fashion-mini',
  '--data-dir', 'fixtures/fashion-mini',
  '--out', out,
  ...extra,
];

interface Child {
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
  readonly kill: () => void;
}

const cli = (args: string[]): Child => {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  p.stdout.on('data', () => undefined);
  return {
    exited: new Promise((r) => p.on('exit', (code) => r(code))),
    stderr: () => err,
    kill: () => p.kill('SIGKILL'),
  };
};

const record = (out: string): SweepRecord | null => {
  const r = readSweepRecord(out);
  return E.isRight(r) ? r.right : null;
};

describe('sweep command end to end (fashion-mini, cpu)', function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'optbench-sweep-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a sweep killed (SIGKILL) after its first trial continues when re-run, without retraining that trial', async () => {
    const out = tmp();
    const first = cli(tiny(out, ['--trials', '3', '--no-report']));
    // Wait until the first trial is recorded as completed, then kill the process without warning.
    const t0 = Date.now();
    for (;;) {
      const r = record(out);
      if (r?.searches[0]?.trials.some((t) => t.status === 'completed')) break;
      if (Date.now() - t0 > 150_000) assert.fail(`no trial completed in time:\n${first.stderr()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    first.kill();
    await first.exited;
    const before = record(out)!.searches[0]!.trials.filter((t) => t.status === 'completed').map((t) => t.runId);
    assert.ok(before.length >= 1 && before.length < 3, `killed too late: ${before.length} trials done`);
    const store = right(openStore(storePath(out)));
    const startedBefore = new Map(right(store.listRuns()).map((r) => [r.runId, r.startedAt]));
    store.close();

    const second = cli(tiny(out, ['--trials', '3']));
    assert.equal(await second.exited, 0, second.stderr());
    assert.match(second.stderr(), /finished earlier, skipped/);
    const rec = record(out)!;
    const trials = rec.searches[0]!.trials;
    assert.equal(trials.length, 3);
    assert.ok(trials.every((t) => t.status === 'completed' && t.metrics.length === 1));
    const after = right(openStore(storePath(out)));
    const rows = right(after.listRuns());
    after.close();
    for (const id of before) {
      const row = rows.find((r) => r.runId === id)!;
      assert.equal(row.status, 'done');
      assert.equal(row.startedAt, startedBefore.get(id), `trial run ${id} was trained again`);
    }
    // Trials are validated on held-out images; the chosen one is retrained without holdout, on the test set.
    const best = rec.searches[0]!.best!;
    const bestValue = trials[best]!.metrics[0]!;
    assert.ok(trials.every((t) => t.metrics[0]! <= bestValue));
    assert.equal(rec.final.length, 1);
    const final = rows.find((r) => r.runId === rec.final[0]!.runIds[0]);
    assert.equal(final?.status, 'done');
    assert.equal(final?.spec.holdout, undefined);
    assert.deepEqual(final?.spec.optimizer.overrides, trials[best]!.point);
    // The reports: the sweep's tables and figures, and the final runs' own report without the trials.
    const md = readFileSync(join(out, 'report', 'sweep.md'), 'utf8');
    assert.match(md, /### Best configurations/);
    assert.match(md, /held-out accuracy \(%\) \(search\)/);
    assert.ok(existsSync(join(out, 'report', 'sweep-fcnn-adam-lr.svg')));
    const svg = readFileSync(join(out, 'report', 'sweep-fcnn-adam-lr.svg'), 'utf8');
    assert.match(svg, /data-scale="log"/);
    const table = readFileSync(join(out, 'results.md'), 'utf8');
    assert.equal((table.split('\n')[0]!.match(/adam/g) ?? []).length, 1, 'trial runs leaked into the test-set table');
  });
});

describe('sweep report: held-out and test figures side by side', () => {
  const cfg = config({ strategy: 'random', trials: 3, epochs: 2 });
  const trial = (i: number, m: number[]) => ({ trial: i, point: { lr: 10 ** -(i + 2) }, runId: `t${i}`, metrics: m, status: 'completed' as const, error: null });
  const finalRun = (id: string, acc: number) => ({
    runId: id,
    spec: { ...trialSpec(cfg, { lr: 1e-3 }), holdout: undefined } as unknown as RunSpec,
    status: 'done' as const,
    backend: 'cpu',
    parameters: 1,
    startedAt: '',
    updatedAt: '',
    epochs: [],
    final: { testLoss: 0.3, testAccuracy: acc },
    confusion: null,
    vae: null,
    error: null,
  });
  const record: SweepRecord = {
    version: 1,
    kind: 'sweep',
    title: 'a sweep',
    createdAt: '',
    seeds: 3,
    searches: [{ config: cfg, trials: [trial(0, [0.5, 0.6]), trial(1, [0.7, 0.81]), trial(2, [0.4, 0.3])], asha: null, best: 1, interrupted: false }],
    final: [{ optimizer: 'adam', role: 'tuned', overrides: { lr: 1e-3 }, runIds: ['f0', 'f1', 'f2'] }],
  };
  const test = [0.8, 0.83, 0.82];

  it('the chosen configuration shows its held-out metric and the test mean ± 95 % CI of its retraining', () => {
    const r = buildSweepReport(record, test.map((a, i) => finalRun(`f${i}`, a)));
    const md = sweepMarkdown(r);
    const xs = test.map((a) => 100 * a);
    const m = xs.reduce((a, b) => a + b, 0) / 3;
    const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / 2);
    const half = (4.302652729911275 * s) / Math.sqrt(3); // t_{0.975, 2}
    assert.ok(md.includes(`| lr=0.001 | 81.00 | ${m.toFixed(2)} ± ${half.toFixed(2)} (n=3) |`), md);
    // Best configurations: ranked by validation metric, best first.
    const ranks = md.split('\n').filter((l) => /^\| [123] \|/.test(l)).map((l) => l.split(' | ')[1]);
    assert.deepEqual(ranks, ['2', '1', '3']);
    const figs = sweepFigures(r);
    assert.deepEqual(figs.map((f) => f.name), ['sweep-fcnn-adam-lr']);
    assert.match(figs[0]!.svg, /data-scale="log"/);
  });

  it('tune: stock defaults and tuned with budget K in one table, one sensitivity curve per optimizer', () => {
    const tune: SweepRecord = {
      ...record,
      kind: 'tune',
      searches: [record.searches[0]!, { ...record.searches[0]!, config: { ...cfg, optimizer: 'sgd' }, best: 0 }],
      final: [
        { optimizer: 'adam', role: 'default', overrides: {}, runIds: ['f0'] },
        { optimizer: 'adam', role: 'tuned', overrides: { lr: 1e-3 }, runIds: ['f1', 'f2'] },
      ],
    };
    const r = buildSweepReport(tune, test.map((a, i) => finalRun(`f${i}`, a)));
    const md = sweepMarkdown(r);
    assert.match(md, /\| optimizer \| stock defaults: test accuracy \(%\) \| tuned lr \| tuned: held-out accuracy \(%\) \| tuned with budget 3: test accuracy \(%\) \|/);
    assert.ok(md.includes('| adam | 80.00 (n=1) | 0.001 | 81.00 | 82.50 ± '), md);
    assert.ok(md.includes('| sgd | – | 0.01 | 60.00 | – |'), md);
    const figs = sweepFigures(r);
    assert.deepEqual(figs.map((f) => f.name), ['tune-lr-sensitivity']);
    assert.equal((figs[0]!.svg.match(/class="line"/g) ?? []).length, 2);
  });
});
