import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvParse } from 'd3-dsv';
import * as E from 'fp-ts/lib/Either.js';
import { countsAsResult, describeProtocol, protocolOf } from '../lib/config/protocol.js';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { buildReport } from '../lib/report/build.js';
import { reportFigures } from '../lib/report/figures.js';
import { renderHtml } from '../lib/report/html.js';
import { performanceProfile, profileScore, rho, TAU_MAX } from '../lib/report/profile.js';
import { CSV_COLUMNS, toCsv, toMarkdown } from '../lib/report/tables.js';
import { median, seriesTimeToTarget } from '../lib/report/time-to-target.js';
import { tttText } from '../lib/report/ttt-tables.js';
import type { ReportSource } from '../lib/report/types.js';
import { openStore, storePath } from '../lib/store/store.js';
import type { ExportedRun } from '../lib/store/export.js';
import type { DirSnapshot } from '../lib/serve/dir-read.js';
import { reportHtml } from '../lib/serve/report-view.js';
import { ALL } from '../lib/serve/selection.js';
import { checkProtocol } from '../lib/store/run-dir.js';
import type { EpochRecord, GridRecord, RunRecord } from '../lib/train/record.js';
import type { Target } from '../lib/train/target.js';
import { spec } from './support/marbles.js';

// Time to target in the report: the performance profile against an example computed by hand, the
// per-seed times and their medians, the tables and figure, and which runs count as a grid's results.

describe('performance profiles', () => {
  // Three optimizers on three workloads (Infinity: never reached the target), and the fastest per workload:
  //        w1   w2   w3
  //   A    10   30   inf        best: w1 10 (A), w2 15 (B), w3 20 (C)
  //   B    20   15   40
  //   C    50  inf   20
  // Ratios: A [1, 2, inf], B [2, 1, 2], C [5, inf, 1].
  // rho_A: 1/3 from tau 1, 2/3 from tau 2; rho_B: 1/3, then 1 from tau 2; rho_C: 1/3 (5 > tauMax = 4).
  // Scores, (1/3) x sum over workloads of (4 - r) / 3 for r <= 4:
  //   A (3 + 2 + 0) / 9 = 5/9, B (2 + 3 + 2) / 9 = 7/9, C (0 + 0 + 3) / 9 = 1/3.
  const times: Record<string, Record<string, number>> = {
    A: { w1: 10, w2: 30, w3: Infinity },
    B: { w1: 20, w2: 15, w3: 40 },
    C: { w1: 50, w2: Infinity, w3: 20 },
  };
  const p = performanceProfile(['A', 'B', 'C'], ['w1', 'w2', 'w3'], (s, w) => times[s]![w]!);
  const row = (s: string) => p.rows.find((r) => r.solver === s)!;

  it('ratios to the fastest per workload, the step function rho and the score match the hand-computed example', () => {
    assert.equal(p.tauMax, 4);
    assert.deepEqual(row('A').ratios, [1, 2, Infinity]);
    assert.deepEqual(row('B').ratios, [2, 1, 2]);
    assert.deepEqual(row('C').ratios, [5, Infinity, 1]);
    assert.deepEqual(row('A').steps, [{ tau: 1, rho: 1 / 3 }, { tau: 2, rho: 2 / 3 }]);
    assert.deepEqual(row('B').steps, [{ tau: 1, rho: 1 / 3 }, { tau: 2, rho: 1 }]);
    assert.deepEqual(row('C').steps, [{ tau: 1, rho: 1 / 3 }]);
    assert.ok(Math.abs(row('A').score - 5 / 9) < 1e-12, `A ${row('A').score}`);
    assert.ok(Math.abs(row('B').score - 7 / 9) < 1e-12, `B ${row('B').score}`);
    assert.ok(Math.abs(row('C').score - 1 / 3) < 1e-12, `C ${row('C').score}`);
    assert.equal(rho(row('C').ratios, 4.99), 1 / 3);
    assert.equal(rho(row('C').ratios, 5), 2 / 3, 'rho counts ratios at most tau, beyond tauMax too');
    assert.deepEqual(p.unreached, []);
  });

  it('the exact score is the integral AlgoPerf takes numerically (trapezoids on a fine grid of tau)', () => {
    for (const r of p.rows) {
      const n = 30_000;
      let area = 0;
      for (let i = 0; i < n; i++) {
        const a = 1 + (3 * i) / n;
        const b = 1 + (3 * (i + 1)) / n;
        area += ((rho(r.ratios, a) + rho(r.ratios, b)) / 2) * (b - a);
      }
      assert.ok(Math.abs(area / (TAU_MAX - 1) - r.score) < 1e-3, `${r.solver}: ${area / 3} vs ${r.score}`);
    }
  });

  it('a workload no one reached stays in the denominator and counts for no one; one workload, one solver: 1', () => {
    const q = performanceProfile(['A', 'B'], ['w1', 'w2'], (s, w) => (w === 'w2' ? Infinity : s === 'A' ? 3 : 6));
    assert.deepEqual(q.unreached, ['w2']);
    assert.equal(q.rows[0]!.score, 3 / 3 / 2);
    assert.equal(q.rows[1]!.score, (4 - 2) / 3 / 2);
    assert.equal(performanceProfile(['A'], ['w'], () => 7).rows[0]!.score, 1);
    assert.equal(profileScore([]), 0);
  });
});

const classifierTarget: Target = { metric: 'accuracy', goal: 0.8 };

/** A record with epochs of 1 s of training whose held-out accuracy is `held[i]`. */
const record = (s: RunSpec, held: readonly number[], over: Partial<RunRecord> = {}): RunRecord => ({
  runId: runId(s),
  spec: s,
  status: held.length === s.epochs ? 'done' : 'running',
  backend: 'cpu',
  parameters: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  epochs: held.map(
    (a, i): EpochRecord => ({ epoch: i + 1, train: { loss: 1, accuracy: 0.5 }, test: { loss: 0.5, accuracy: 0.7 + i / 100 }, validation: { loss: 1 - a, accuracy: a }, trainMs: 1000, evalMs: 10 }),
  ),
  final: held.length === s.epochs ? { testLoss: 0.5, testAccuracy: 0.7 + (held.length - 1) / 100 } : null,
  confusion: null,
  vae: null,
  error: null,
  ...over,
});

describe('times to target over seeds', () => {
  const s = (seed: number, opt = 'adam') => spec(opt, { epochs: 3, holdout: 50, seed });

  it('median over seeds with a seed that never reached counted as infinite, the spread of those that did, and the count', () => {
    const t = seriesTimeToTarget(
      [
        { spec: s(0), record: record(s(0), [0.5, 0.81, 0.9]) },
        { spec: s(1), record: record(s(1), [0.85, 0.9, 0.9]) },
        { spec: s(2), record: record(s(2), [0.1, 0.2, 0.3]) },
      ],
      classifierTarget,
    );
    assert.deepEqual(t.runs.map((r) => [r.state, r.seconds, r.epoch]), [['reached', 2, 2], ['reached', 1, 1], ['missed', null, null]]);
    assert.deepEqual(t.seconds, { median: 2, min: 1, max: 2 });
    assert.deepEqual(t.epochs, { median: 2, min: 1, max: 2 });
    assert.equal(tttText(t), '2.00 s [1.00–2.00], epoch 2 [1–2] (2/3)');
    assert.equal(t.partial, false);
  });

  it('a recorded hit for the same target is used (with its step); for another target the epochs are judged again; a failed or unfinished seed is infinite', () => {
    const hit = { metric: 'accuracy' as const, goal: 0.8, value: 0.81, epoch: 2, step: 8, seconds: 1.5 };
    const t = seriesTimeToTarget(
      [
        { spec: s(0), record: record(s(0), [0.5, 0.81, 0.9], { reached: hit }) },
        { spec: s(1), record: record(s(1), [0.5, 0.6], { status: 'failed' }) },
        { spec: s(2), record: null },
      ],
      classifierTarget,
    );
    assert.deepEqual(t.runs.map((r) => [r.state, r.seconds, r.step]), [['reached', 1.5, 8], ['failed', null, null], ['pending', null, null]]);
    assert.equal(t.seconds.median, Infinity);
    assert.equal(tttText(t), 'not reached (1/3)*');
    const stricter = seriesTimeToTarget([{ spec: s(0), record: record(s(0), [0.5, 0.81, 0.9], { reached: hit }) }], { metric: 'accuracy', goal: 0.85 });
    assert.deepEqual(stricter.runs.map((r) => [r.state, r.seconds, r.epoch, r.step]), [['reached', 3, 3, null]]);
    assert.equal(median([1, Infinity]), Infinity);
    assert.equal(median([3, 1, 2, 10]), 2.5);
  });
});

describe('the report of a grid with targets', () => {
  const fcnn = (opt: string, seed: number) => spec(opt, { epochs: 3, holdout: 50, seed });
  const scnn = (opt: string, seed: number) => spec(opt, { model: 'scnn', epochs: 3, holdout: 50, seed });
  const specs = [...['adam', 'sgd'].flatMap((o) => [0, 1, 2].map((k) => fcnn(o, k))), ...['adam', 'sgd'].flatMap((o) => [0, 1, 2].map((k) => scnn(o, k)))];
  const targets = { fcnn: classifierTarget, scnn: { metric: 'accuracy' as const, goal: 0.85 } };
  const grid: GridRecord = { task: 'run', title: 'targets', createdAt: '', classNames: [], specs, targets };
  // FCNN: Adam reaches 0.8 at epoch 1, SGD at epoch 2 (ratio 2). SCNN: Adam never reaches 0.85, SGD at epoch 3.
  const held = (s: RunSpec): number[] =>
    s.model === 'fcnn' ? (s.optimizer.name === 'adam' ? [0.82, 0.85, 0.9] : [0.7, 0.8, 0.85]) : s.optimizer.name === 'adam' ? [0.8, 0.8, 0.8] : [0.7, 0.8, 0.86];
  // A sweep's trial in the same directory: it holds out other images, is judged on them and never tested.
  const trial = spec('adam', { epochs: 3, holdout: 20, seed: 9 });
  const source: ReportSource = { grid, runs: [...specs.map((s) => record(s, held(s))), record(trial, [0.99, 0.99, 0.99])], warnings: [] };
  const report = buildReport(source);

  it('counts the grid\'s own held-out runs as its results, not a trial that holds out other images, and warns of nothing', () => {
    assert.deepEqual(report.warnings, []);
    const fc = report.models.find((m) => m.model === 'fcnn')!;
    assert.deepEqual(fc.series.map((x) => x.seeds), [[0, 1, 2], [0, 1, 2]]);
    assert.equal(fc.series.find((x) => x.label === 'adam')!.cell.value!.mean, 72, 'the table is the test set\'s');
    assert.deepEqual(fc.target, classifierTarget);
  });

  it('time-to-target table and profiles: medians per optimizer and model, scores across the models', () => {
    const t = report.timeToTarget!;
    assert.deepEqual(t.workloads.map((w) => [w.model, w.target.goal, w.holdout]), [['fcnn', 0.8, 50], ['scnn', 0.85, 50]]);
    // By seconds (1 s per epoch): FCNN adam 1, sgd 2; SCNN adam inf, sgd 3.
    // The study's order: SGD before Adam.
    assert.deepEqual(t.bySeconds.rows.map((r) => [r.solver, r.ratios]), [['sgd', [2, 1]], ['adam', [1, Infinity]]]);
    assert.deepEqual(t.byEpochs.rows.map((r) => [r.solver, r.ratios]), [['sgd', [2, 1]], ['adam', [1, Infinity]]]);
    const score = (label: string) => t.bySeconds.rows.find((r) => r.solver === label)!.score;
    assert.ok(Math.abs(score('adam') - (3 + 0) / 6) < 1e-12, `adam ${score('adam')}`);
    assert.ok(Math.abs(score('sgd') - (2 + 3) / 6) < 1e-12, `sgd ${score('sgd')}`);
    const md = toMarkdown(report);
    assert.match(md, /## Time to target/);
    assert.match(md, /\| optimizer \| FCNN: accuracy ≥ 0\.8 \| SCNN: accuracy ≥ 0\.85 \| score \(seconds\) \| score \(epochs\) \|/);
    assert.match(md, /\| adam \| 1\.00 s, epoch 1 \(3\/3\) \| not reached \(0\/3\) \| 0\.500 \| 0\.500 \|/);
    assert.match(md, /\| sgd \| 2\.00 s, epoch 2 \(3\/3\) \| 3\.00 s, epoch 3 \(3\/3\) \| 0\.833 \| 0\.833 \|/);
  });

  it('table.csv has the time-to-target columns on every row, with inf for never', () => {
    const rows = csvParse(toCsv(report));
    assert.deepEqual(rows.columns, [...CSV_COLUMNS]);
    for (const c of ['target_metric', 'target', 'holdout', 'ttt_reached', 'ttt_seeds', 'ttt_median_s', 'ttt_median_epoch', 'profile_score_s', 'profile_score_epochs'])
      assert.ok((rows.columns as string[]).includes(c), c);
    const at = (model: string, opt: string) => rows.find((r) => r['model'] === model && r['optimizer'] === opt)!;
    assert.deepEqual(
      ['target_metric', 'target', 'holdout', 'ttt_reached', 'ttt_seeds', 'ttt_median_s', 'ttt_median_epoch', 'profile_ratio_s'].map((c) => at('scnn', 'adam')[c]),
      ['accuracy', '0.85', '50', '0', '3', 'inf', 'inf', 'inf'],
    );
    assert.equal(at('fcnn', 'sgd')['profile_ratio_s'], '2');
    assert.ok(Math.abs(Number(at('fcnn', 'sgd')['profile_score_s']) - 5 / 6) < 1e-12);
  });

  it('the profile figure draws one step line per optimizer with its score, and the page has the section', () => {
    const figures = reportFigures(report);
    const fig = figures.find((f) => f.name === 'performance-profile-seconds')!;
    assert.equal(fig.model, '');
    const paths = [...fig.svg.matchAll(/<path class="profile" data-label="([^"]+)" data-score="([^"]+)" data-steps="([^"]+)"/g)].map((m) => [m[1], Number(m[2]), m[3]!.replace(/&quot;/g, '"')]);
    assert.deepEqual(
      paths.map(([l, sc, st]) => [l, Number((sc as number).toFixed(6)), st]),
      // The best is drawn last, on top.
      [
        ['adam', 0.5, '[[1,0.5]]'],
        ['sgd', 0.833333, '[[1,0.5],[2,1]]'],
      ],
    );
    assert.match(fig.svg, /sgd 0\.833/);
    const html = renderHtml(report, figures);
    assert.match(html, /<section class="model" id="time-to-target">/);
    assert.match(html, /id="fig-performance-profile-seconds"/);
    assert.match(html, /not reached \(0\/3\)/);
  });

  it("optbench serve's page shows the section too, after the models', with its ids prefixed", () => {
    const snap: DirSnapshot = {
      dir: '/d',
      signature: '',
      grid,
      runs: source.runs.map((record) => ({ row: { runId: record.runId } as ExportedRun['row'], record })),
      planned: [],
      sweep: null,
      warnings: [],
    };
    const html = reportHtml(snap, ALL, 'd1-');
    assert.match(html, /<section class="model" id="d1-time-to-target">\n<h3>Time to target<\/h3>/);
    assert.match(html, /id="fig-d1-performance-profile-seconds"/);
  });

  it('a grid without targets has no time-to-target part', () => {
    const plain = spec('adam', { epochs: 1 });
    const r = buildReport({ grid: null, runs: [{ ...record(plain, [0.9]), epochs: [{ epoch: 1, train: { loss: 1, accuracy: 0.5 }, test: { loss: 1, accuracy: 0.5 }, trainMs: 1, evalMs: 1 }] }], warnings: [] });
    assert.equal(r.timeToTarget, null);
    assert.doesNotMatch(toMarkdown(r), /Time to target/);
    assert.equal(reportFigures(r).filter((f) => f.model === '').length, 0);
  });
});

describe("a run directory's protocol includes the images a grid holds out", () => {
  it('a run counts as a result when it holds out what its grid does; the protocol says so', () => {
    const held = spec('adam', { holdout: 50 });
    assert.equal(countsAsResult(50)(held), true);
    assert.equal(countsAsResult(undefined)(held), false);
    assert.equal(countsAsResult(undefined)(spec('adam')), true);
    assert.match(describeProtocol(protocolOf(held)), /, 50 training images held out$/);
    assert.doesNotMatch(describeProtocol(protocolOf(spec('adam'))), /held out/);
  });

  it('refuses a grid with a target in a directory of runs that train on every image, naming the difference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'optbench-target-protocol-'));
    try {
      writeFileSync(join(dir, 'grid.json'), JSON.stringify({ task: 'run', specs: [spec('adam')] }));
      const refused = checkProtocol(dir, [spec('adam', { holdout: 50 })]);
      assert.ok(E.isLeft(refused));
      assert.match(refused.left.message, /held-out images 50 \(not none\)/);
      // A directory holding a sweep's trials (other held-out images than its grid's) accepts the sweep's own protocol.
      const store = E.getOrElseW(() => assert.fail('store'))(openStore(storePath(dir)));
      E.getOrElseW(() => assert.fail('claim'))(store.claimRun(runId(spec('adam', { holdout: 20 })), spec('adam', { holdout: 20 })));
      assert.ok(E.isRight(checkProtocol(dir, [spec('sgd')], store)));
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
