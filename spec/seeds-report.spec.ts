import { strict as assert } from 'node:assert';
import type { RunSpec } from '../lib/config/spec.js';
import { buildReport, renderHtml, toCsv, toLatex, toMarkdown } from '../lib/report/index.js';
import type { ReportSource } from '../lib/report/types.js';
import type { RunRecord, RunStatus } from '../lib/train/record.js';

// The statistics columns of the report, checked against values computed here from their formulas:
// the 95 % Student t interval, the paired t-test with Student's t distribution for 4 degrees of freedom
// in closed form, Holm's step-down correction, and the exact Wilcoxon signed-rank p-value.

const spec = (optimizer: string, seed: number): RunSpec => ({
  dataset: 'fashion-mnist',
  model: 'fcnn',
  optimizer: { name: optimizer, preset: 'tfkeras2', overrides: {} },
  seed,
  epochs: 2,
  batchSize: 200,
  backend: 'cpu',
});

const run = (optimizer: string, seed: number, accuracy: number, status: RunStatus = 'done'): RunRecord => ({
  runId: `${optimizer}-${seed}`,
  spec: spec(optimizer, seed),
  status,
  backend: 'cpu',
  parameters: 1,
  startedAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:01:00Z',
  epochs: [1, 2].map((epoch) => ({
    epoch,
    train: { loss: 0.5, accuracy: 0.8 },
    test: { loss: 0.4, accuracy: epoch === 2 ? accuracy : accuracy - 0.01 },
    trainMs: 1000,
    evalMs: 100,
  })),
  final: status === 'done' ? { testLoss: 0.4, testAccuracy: accuracy } : null,
  confusion: null,
  vae: null,
  error: null,
});

const source = (values: Record<string, readonly number[]>, status: (o: string, seed: number) => RunStatus = () => 'done'): ReportSource => ({
  grid: null,
  runs: Object.entries(values).flatMap(([o, xs]) => xs.map((x, seed) => run(o, seed, x, status(o, seed)))),
  warnings: [],
});

// ---- independent references ---------------------------------------------------------------------------
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
/** t_{0.975, 4}, from a table of Student's t distribution. */
const T975_DF4 = 2.7764451051977987;
/** Two-sided p of Student's t with 4 degrees of freedom: 1 - F(|t|) + F(-|t|), F in closed form for even df. */
const pT4 = (t: number): number => {
  const x = Math.abs(t) / Math.sqrt(4 + t * t);
  return 1 - x * (1 + (1 - x * x) / 2);
};
const pct = (xs: readonly number[]) => xs.map((x) => x * 100);

const A = [0.901, 0.905, 0.898, 0.903, 0.9];
const B = A.map((a, i) => a - [0.01, 0.012, 0.009, 0.011, 0.0105][i]!);
const C = A.map((a, i) => a + [-0.003, 0.002, -0.001, 0.0025, -0.002][i]!);

describe('report: statistics over seeds', () => {
  const report = buildReport(source({ adam: A, sgd: B, nadam: C }));
  const m = report.models[0]!;
  const cell = (label: string) => m.series.find((s) => s.label === label)!.cell;
  const dB = pct(A).map((a, i) => a - pct(B)[i]!);
  const dC = pct(A).map((a, i) => a - pct(C)[i]!);
  const tB = mean(dB) / (sd(dB) / Math.sqrt(5));
  const tC = mean(dC) / (sd(dC) / Math.sqrt(5));
  const pB = pT4(tB);
  const pC = pT4(tC);
  // Holm over two comparisons: the smaller p times 2, the larger p times 1, kept monotone.
  const [lo, hi] = [Math.min(pB, pC), Math.max(pB, pC)];
  const holmLo = Math.min(1, 2 * lo);
  const holmHi = Math.max(holmLo, hi);
  const adjB = pB <= pC ? holmLo : holmHi;
  const adjC = pB <= pC ? holmHi : holmLo;

  it('mean, std and the 95 % t interval half-width per optimizer', () => {
    for (const [label, xs] of [['adam', A], ['sgd', B], ['nadam', C]] as const) {
      const c = cell(label);
      const v = pct(xs);
      assert.ok(Math.abs(c.value!.mean - mean(v)) < 1e-9, label);
      assert.ok(Math.abs(c.value!.std - sd(v)) < 1e-9, label);
      assert.ok(Math.abs(c.ci! - (T975_DF4 * sd(v)) / Math.sqrt(5)) < 1e-6, `${label}: ${c.ci}`);
    }
  });

  it('paired t-test against the best (n = 5 is too few for Wilcoxon after Holm), Holm-adjusted, tied marks', () => {
    const c = m.comparison!;
    assert.equal(c.best, 'adam');
    assert.equal(c.test, 't');
    assert.deepEqual(c.seeds, [0, 1, 2, 3, 4]);
    assert.ok(Math.abs(c.rows.sgd!.p! - pB) < 1e-6, `${c.rows.sgd!.p} vs ${pB}`);
    assert.ok(Math.abs(c.rows.nadam!.p! - pC) < 1e-6, `${c.rows.nadam!.p} vs ${pC}`);
    assert.ok(Math.abs(c.rows.sgd!.pAdjusted! - adjB) < 1e-6);
    assert.ok(Math.abs(c.rows.nadam!.pAdjusted! - adjC) < 1e-6);
    assert.ok(adjB < 0.05 && adjC > 0.05, 'the data was chosen so: sgd clearly worse, nadam tied');
    assert.equal(c.rows.sgd!.verdict, 'worse');
    assert.equal(c.rows.nadam!.verdict, 'tied');
    assert.equal(c.winner, null);
    assert.equal(cell('adam').tied, true);
    assert.equal(cell('nadam').tied, true);
    assert.equal(cell('sgd').tied, false);
  });

  it('Markdown: mean ± CI half-width, ★ for the best, ≈ for the tied, and no winner named', () => {
    const md = toMarkdown(report);
    const row = md.split('\n').find((l) => l.startsWith('| FCNN'))!;
    const ciA = ((T975_DF4 * sd(pct(A))) / Math.sqrt(5)).toFixed(2);
    assert.ok(row.includes(`**★ ${mean(pct(A)).toFixed(2)} ± ${ciA} (n=5)**`), row);
    assert.ok(row.includes(`≈ ${mean(pct(C)).toFixed(2)} ± `), row);
    assert.ok(!row.includes(`≈ ${mean(pct(B)).toFixed(2)}`), row);
    assert.match(md, /No winner: adam has the best mean but nadam is statistically tied with it \(paired t-test/);
    assert.match(md, /Holm/);
  });

  it('CSV: CI bounds, tied flag, verdict, raw and Holm p per optimizer', () => {
    const [head, ...rows] = toCsv(report).trim().split('\n').map((l) => l.split(','));
    const col = (name: string) => head!.indexOf(name);
    const byLabel = new Map(rows.map((r) => [r[col('label')]!, r]));
    const sgd = byLabel.get('sgd')!;
    const half = (T975_DF4 * sd(pct(B))) / Math.sqrt(5);
    assert.ok(Math.abs(Number(sgd[col('ci95_half')]) - half) < 1e-6);
    assert.ok(Math.abs(Number(sgd[col('ci95_low')]) - (mean(pct(B)) - half)) < 1e-6);
    assert.ok(Math.abs(Number(sgd[col('ci95_high')]) - (mean(pct(B)) + half)) < 1e-6);
    assert.equal(sgd[col('tied_with_best')], 'false');
    assert.equal(sgd[col('verdict')], 'worse');
    assert.equal(sgd[col('test')], 't');
    assert.ok(Math.abs(Number(sgd[col('p')]) - pB) < 1e-6);
    assert.ok(Math.abs(Number(sgd[col('p_holm')]) - adjB) < 1e-6);
    assert.equal(byLabel.get('nadam')![col('tied_with_best')], 'true');
    assert.equal(byLabel.get('adam')![col('p')], '');
    assert.equal(byLabel.get('adam')![col('winner')], 'false');
  });

  it('LaTeX and HTML mark the tied optimizer and state the test', () => {
    const tex = toLatex(report);
    assert.ok(tex.includes(`$\\approx$\\,${mean(pct(C)).toFixed(2)}`), tex);
    assert.ok(!tex.includes(`$\\approx$\\,${mean(pct(B)).toFixed(2)}`));
    const html = renderHtml(report, []);
    assert.match(html, /class="tied [^"]*"[^>]*><span class="tied"/);
    assert.match(html, /No winner: adam has the best mean/);
    assert.match(html, /paired t-test on the per-seed differences, because with n = 5 seeds/);
    assert.ok(!/ won with /.test(html));
  });
});

describe('report: a winner only when significant', () => {
  // Eight seeds, every difference in favour of the best and all distinct: the exact signed-rank test gives
  // W+ = 1 + ... + 8 = 36, the most extreme of 2^8 sign patterns, so two-sided p = 2 / 256.
  const best = [0.9, 0.91, 0.905, 0.898, 0.902, 0.907, 0.899, 0.903];
  const worse = best.map((b, i) => b - (i + 1) / 1000);
  const report = buildReport(source({ adamax: best, adagrad: worse }));
  const m = report.models[0]!;

  it('Wilcoxon signed-rank with its exact p, and the winner named in the summary', () => {
    const c = m.comparison!;
    assert.equal(c.test, 'wilcoxon');
    assert.ok(Math.abs(c.rows.adagrad!.p! - 2 / 256) < 1e-12);
    assert.equal(c.rows.adagrad!.pAdjusted, c.rows.adagrad!.p, 'one comparison: Holm leaves p alone');
    assert.equal(c.winner, 'adamax');
    const html = renderHtml(report, []);
    assert.match(html, /adamax is the winner: significantly better than every other optimizer \(Wilcoxon signed-rank test/);
    const csv = toCsv(report);
    const header = csv.split('\n')[0]!.split(',');
    assert.equal(csv.split('\n').find((l) => l.includes(',adamax,'))!.split(',')[header.indexOf('winner')], 'true');
  });

  it('one seed: no test, no tied marks, and the summary says the difference is untested', () => {
    const single = buildReport(source({ adamax: [0.9], adagrad: [0.8] }));
    const sm = single.models[0]!;
    assert.equal(sm.comparison, null);
    assert.ok(sm.series.every((x) => x.cell.tied === null && x.cell.ci === null));
    const html = renderHtml(single, []);
    assert.match(html, /One seed per optimizer, so no difference is tested/);
    assert.ok(!toMarkdown(single).split('\n')[2]!.includes('≈ 80.00'));
  });

  it('unfinished seeds are left out: only seeds every optimizer finished are compared', () => {
    const partial = buildReport(source({ adamax: best.slice(0, 6), adagrad: worse.slice(0, 6) }, (o, s) => (o === 'adagrad' && s === 5 ? 'running' : 'done')));
    const c = partial.models[0]!.comparison!;
    assert.deepEqual(c.seeds, [0, 1, 2, 3, 4]);
  });
});

describe('report: a partial grid', () => {
  it('optimizers with fewer finished seeds are left out (listed as excluded) so the others are still compared', () => {
    const a = [0.9, 0.91, 0.905];
    const b = [0.89, 0.9, 0.896];
    const r = buildReport(source({ adam: a, sgd: b, nadam: [0.88, 0.87, 0.86] }, (o, s) => (o === 'nadam' && s > 0 ? 'running' : 'done')));
    const c = r.models[0]!.comparison!;
    assert.deepEqual([...c.compared].sort(), ['adam', 'sgd']);
    assert.deepEqual(c.excluded, ['nadam']);
    assert.deepEqual(c.seeds, [0, 1, 2]);
    assert.equal(r.models[0]!.series.find((s) => s.label === 'nadam')!.cell.tied, null);
  });
});
