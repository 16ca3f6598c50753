import { strict as assert } from 'node:assert';
import { sweepHtml } from '../lib/report/sweep.js';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { D3Node } from 'd3-node';
import { csvParseRows } from 'd3-dsv';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, of, toArray } from 'rxjs';
import type { RunRecord } from '../lib/train/record.js';
import {
  buildReport,
  parseFormats,
  readRunDir,
  renderD3,
  renderHtml,
  report as toReport,
  reportFigures,
  toCsv,
  toLatex,
  toMarkdown,
  writeReport,
  type Figure,
  type Report,
  type ReportSource,
} from '../lib/report/index.js';
import { decodePng, encodeGrayPng, pngSize } from '../lib/report/png.js';
import { svgToPng } from '../lib/report/raster.js';

const FIX = 'fixtures/rundir-sample';
const OPTIMIZERS = ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam'];
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
// The study's tables 1 and 5 (seed/project3-report.md), typed in here as the reference.
const STUDY_FCNN = [84.64, 89.63, 80.95, 74.04, 88.65, 89.74, 89.28];
const STUDY_VAE1 = [25.46, 23.56, 26.66, 37.61, 24.15, 24.6, 23.45];
const TEST_SET = 10_000;
const EPOCHS = 3;

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const source = (name: string): ReportSource => right(readRunDir(join(FIX, name)));
const rawRuns = (name: string): RunRecord[] =>
  readdirSync(join(FIX, name, 'runs')).flatMap((f) => {
    try {
      return [JSON.parse(readFileSync(join(FIX, name, 'runs', f), 'utf8')) as RunRecord];
    } catch {
      return [];
    }
  });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type El = any;
const parse = (svg: string): El => new D3Node({ container: `<div id="root">${svg}</div>` }).document.body;
const all = (root: El, sel: string): El[] => Array.from(root.querySelectorAll(sel));
const pointsOf = (d: string): number => (d.match(/[ML]/g) ?? []).length;
const fig = (figs: readonly Figure[], name: string): Figure => {
  const f = figs.find((x) => x.name === name);
  assert.ok(f, `figure ${name} missing; have ${figs.map((x) => x.name).join(', ')}`);
  return f;
};
const tmp = (): string => mkdtempSync(join(tmpdir(), 'optbench-report-'));

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

describe('report: readRunDir', () => {
  it('reads a finished run directory: grid and every run record', () => {
    const s = source('single');
    assert.equal(s.runs.length, 14);
    assert.deepEqual(s.warnings, []);
    assert.equal(s.grid?.specs.length, 14);
  });

  it('reads a directory still being written: keeps running runs, skips a half-written file with a warning', () => {
    const s = source('partial');
    const running = s.runs.filter((r) => r.status === 'running');
    assert.equal(running.length, 2);
    assert.equal(s.runs.length, 5);
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, /fcnn-adamax-s0-.*\.json.*(incomplete|invalid) JSON/);
  });

  it('refuses a path that is not a run directory with a typed error', () => {
    const missing = readRunDir(join(tmp(), 'nope'));
    assert.ok(E.isLeft(missing) && missing.left._tag === 'IoError' && /does not exist/.test(missing.left.message));
    const empty = readRunDir(tmp());
    assert.ok(E.isLeft(empty) && /not a run directory/.test(empty.left.message));
  });

  it('skips a record of the wrong shape with a warning naming the field', () => {
    const dir = tmp();
    cpSync(join(FIX, 'partial'), dir, { recursive: true });
    writeFileSync(join(dir, 'runs', 'bogus.json'), JSON.stringify({ runId: 'x', spec: { model: 'fcnn' }, status: 'done', epochs: [] }));
    const s = right(readRunDir(dir));
    assert.equal(s.runs.length, 5);
    assert.ok(
      s.warnings.some((w) => w.startsWith('Skipped runs/bogus.json: Invalid run record: runId must be a run id (16 hex digits), got "x".')),
      s.warnings.join('\n'),
    );
  });

  it('skips a record whose status is not a run status, naming the statuses it accepts', () => {
    const dir = tmp();
    cpSync(join(FIX, 'partial'), dir, { recursive: true });
    const name = readdirSync(join(dir, 'runs')).find((n) => n.endsWith('.json') && !n.includes('adamax'))!;
    const file = join(dir, 'runs', name);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), status: 'paused' }));
    const s = right(readRunDir(dir));
    assert.equal(s.runs.length, 4);
    assert.ok(s.warnings.some((w) => w.includes(name) && w.includes('status must be one of running, done, failed, interrupted')), s.warnings.join('\n'));
  });
});

describe('report: buildReport', () => {
  const report = buildReport(source('single'));
  const raw = rawRuns('single');

  it('has one section per model, in the study order, with the right kind', () => {
    assert.deepEqual(
      report.models.map((m) => [m.model, m.kind, m.metric]),
      [
        ['fcnn', 'classifier', 'accuracy'],
        ['vae1', 'vae', 'loss'],
      ],
    );
    assert.deepEqual(report.labels, OPTIMIZERS);
    assert.equal(report.partial, false);
  });

  it('gives each cell the final value, the study value and their difference; the best is marked', () => {
    const fcnn = report.models[0]!;
    const acc = OPTIMIZERS.map((o) => 100 * raw.find((r) => r.spec.model === 'fcnn' && r.spec.optimizer.name === o)!.final!.testAccuracy!);
    fcnn.series.forEach((s, i) => {
      assert.equal(s.label, OPTIMIZERS[i]);
      assert.ok(Math.abs(s.cell.value!.mean - acc[i]!) < 1e-9);
      assert.equal(s.cell.value!.n, 1);
      assert.equal(s.cell.study, STUDY_FCNN[i]);
      assert.ok(Math.abs(s.cell.diff! - (acc[i]! - STUDY_FCNN[i]!)) < 1e-9);
      assert.equal(s.cell.status, 'done');
    });
    const best = OPTIMIZERS[acc.indexOf(Math.max(...acc))];
    assert.equal(fcnn.best, best);
    assert.deepEqual(fcnn.series.filter((s) => s.cell.best).map((s) => s.label), [best]);
    const vae = report.models[1]!;
    const loss = OPTIMIZERS.map((o) => raw.find((r) => r.spec.model === 'vae1' && r.spec.optimizer.name === o)!.final!.testLoss);
    assert.equal(vae.best, OPTIMIZERS[loss.indexOf(Math.min(...loss))]);
    vae.series.forEach((s, i) => assert.equal(s.cell.study, STUDY_VAE1[i]));
  });

  it("keeps the best classifier's confusion matrix and the best VAE's grids", () => {
    const fcnn = report.models[0]!;
    const run = raw.find((r) => r.spec.model === 'fcnn' && r.spec.optimizer.name === fcnn.best)!;
    assert.deepEqual(fcnn.confusion?.matrix, run.confusion);
    assert.deepEqual(fcnn.confusion?.classNames, CLASSES);
    const vae = report.models[1]!;
    const vrun = raw.find((r) => r.spec.model === 'vae1' && r.spec.optimizer.name === vae.best)!;
    assert.deepEqual(vae.vae?.grids, vrun.vae);
    assert.equal(vae.confusion, null);
  });

  it('curves: cumulative training seconds and per-epoch metrics', () => {
    const s = report.models[0]!.series[0]!;
    const run = raw.find((r) => r.spec.model === 'fcnn' && r.spec.optimizer.name === 'sgd')!;
    assert.equal(s.curve.length, EPOCHS);
    let secs = 0;
    s.curve.forEach((p, i) => {
      secs += run.epochs[i]!.trainMs / 1000;
      assert.ok(Math.abs(p.seconds.mean - secs) < 1e-9);
      assert.ok(Math.abs(p.testAccuracy!.mean - 100 * run.epochs[i]!.test!.accuracy!) < 1e-9);
      assert.equal(p.trainLoss.mean, run.epochs[i]!.train.loss);
    });
  });

  it('several seeds: mean, sample std, min and max per cell and per epoch', () => {
    const r = buildReport(source('seeds'));
    const raw3 = rawRuns('seeds');
    for (const s of r.models[0]!.series) {
      const runs = raw3.filter((x) => x.spec.optimizer.name === s.label);
      assert.equal(runs.length, 3);
      const finals = runs.map((x) => 100 * x.final!.testAccuracy!);
      assert.ok(Math.abs(s.cell.value!.mean - mean(finals)) < 1e-9);
      assert.ok(Math.abs(s.cell.value!.std - sampleStd(finals)) < 1e-9);
      assert.equal(s.cell.value!.n, 3);
      const e2 = runs.map((x) => x.epochs[1]!.test!.loss);
      assert.equal(s.curve[1]!.testLoss!.min, Math.min(...e2));
      assert.equal(s.curve[1]!.testLoss!.max, Math.max(...e2));
    }
  });

  it('a partial directory: partial flag, running cells use their latest epoch, unstarted ones are pending', () => {
    const r = buildReport(source('partial'));
    assert.equal(r.partial, true);
    const m = r.models[0]!;
    assert.equal(m.partial, true);
    const by = Object.fromEntries(m.series.map((s) => [s.label, s]));
    const adadelta = rawRuns('partial').find((x) => x.spec.optimizer.name === 'adadelta')!;
    assert.equal(by['adadelta']!.cell.status, 'partial');
    assert.ok(Math.abs(by['adadelta']!.cell.value!.mean - 100 * adadelta.epochs[0]!.test!.accuracy!) < 1e-9);
    assert.equal(by['adam']!.cell.status, 'pending');
    assert.equal(by['adamax']!.cell.status, 'pending');
    assert.equal(by['nadam']!.runs[0]!.status, 'pending');
    assert.equal(by['sgd']!.cell.status, 'done');
    // The ★ of a partial table is only the best so far; a complete table's note does not say so.
    assert.match(toMarkdown(r), /marked ★ \(max accuracy, min loss\): in a partial report, the best of the values so far/);
    assert.doesNotMatch(toMarkdown(buildReport(source('single'))), /so far/);
  });
});

describe('report: figures', () => {
  const report = buildReport(source('single'));
  const figs = reportFigures(report);

  it('draws the study figures for each model', () => {
    assert.deepEqual(
      figs.map((f) => f.name),
      ['fcnn-loss-epoch', 'fcnn-accuracy-epoch', 'fcnn-loss-time', 'fcnn-confusion', 'vae1-loss-epoch', 'vae1-loss-time', 'vae1-traversal', 'vae1-samples'],
    );
  });

  for (const name of ['fcnn-loss-epoch', 'fcnn-accuracy-epoch', 'fcnn-loss-time', 'vae1-loss-epoch', 'vae1-loss-time']) {
    it(`${name}: one line per optimizer and split, a point per epoch, axis titles, legend entries`, () => {
      const root = parse(fig(figs, name).svg);
      const lines = all(root, 'path.line');
      assert.equal(lines.length, OPTIMIZERS.length * 2);
      for (const split of ['train', 'test']) {
        const ls = lines.filter((l) => l.getAttribute('data-split') === split);
        assert.deepEqual(ls.map((l) => l.getAttribute('data-label')).sort(), [...OPTIMIZERS].sort());
        const dash = ls.map((l) => l.getAttribute('stroke-dasharray'));
        assert.ok(dash.every((d) => (split === 'train' ? d !== null : d === null)), `${split} dashes: ${dash.join()}`);
      }
      for (const l of lines) assert.equal(pointsOf(l.getAttribute('d')), EPOCHS);
      const x = all(root, 'text.x-title')[0].textContent as string;
      const y = all(root, 'text.y-title')[0].textContent as string;
      assert.match(x, name.endsWith('time') ? /time \(s/ : /^Epoch$/);
      assert.match(y, name.includes('accuracy') ? /Accuracy \(%\)/ : /Loss/);
      assert.deepEqual(all(root, 'g.legend-entry').map((g) => g.getAttribute('data-label')), OPTIMIZERS);
      assert.equal(all(root, 'path.band').length, 0);
    });
  }

  it('legends sit outside the plot area', () => {
    const svg = parse(fig(figs, 'fcnn-loss-epoch').svg).querySelector('svg');
    const width = Number(svg.getAttribute('width'));
    const rect = svg.querySelector('clipPath rect');
    const clip = Number(rect.getAttribute('x')) + Number(rect.getAttribute('width'));
    const plotX = Number(/translate\(([\d.]+)/.exec(svg.querySelector('g.plot').getAttribute('transform'))![1]);
    const legendX = Number(/translate\(([\d.]+)/.exec(svg.querySelector('g.legend').getAttribute('transform'))![1]);
    assert.ok(legendX > plotX + clip && legendX < width);
  });

  it('a legend with many entries makes the chart taller instead of running off it', () => {
    const base = report.models[0]!;
    const many = Array.from({ length: 24 }, (_, i) => ({ ...base.series[i % 7]!, label: `config ${i}` }));
    const f = reportFigures({ ...report, models: [{ ...base, series: many, confusion: null }] })[0]!;
    const svg = parse(f.svg).querySelector('svg');
    const legendY = Number(/translate\([\d.]+,([\d.]+)/.exec(svg.querySelector('g.legend').getAttribute('transform'))![1]);
    const lastY = Number(/translate\(0,([\d.]+)/.exec(all(svg, 'g.legend-entry')[23].getAttribute('transform'))![1]);
    assert.ok(legendY + lastY + 10 < Number(svg.getAttribute('height')));
  });

  it('one colour per optimizer, the same in every figure, all distinct', () => {
    const seen = new Map<string, string>();
    for (const f of figs.filter((x) => /loss|accuracy/.test(x.name))) {
      const root = parse(f.svg);
      const marks = [
        ...all(root, 'path.line').map((l) => [l.getAttribute('data-label'), l.getAttribute('stroke')]),
        ...all(root, 'g.legend-entry').map((g) => [g.getAttribute('data-label'), g.querySelector('line').getAttribute('stroke')]),
      ] as [string, string][];
      for (const [label, colour] of marks) {
        if (!seen.has(label)) seen.set(label, colour);
        assert.equal(colour, seen.get(label), `${label} in ${f.name}`);
      }
    }
    const seeds = reportFigures(buildReport(source('seeds')));
    for (const l of all(parse(fig(seeds, 'fcnn-loss-epoch').svg), 'path.line'))
      assert.equal(l.getAttribute('stroke'), seen.get(l.getAttribute('data-label')));
    assert.equal(new Set(seen.values()).size, OPTIMIZERS.length);
  });

  it('confusion matrix: cells sum to the test-set size, class names on both axes, rows predicted', () => {
    const root = parse(fig(figs, 'fcnn-confusion').svg);
    const cells = all(root, 'g.cell');
    assert.equal(cells.length, 100);
    assert.equal(cells.reduce((a, c) => a + Number(c.getAttribute('data-count')), 0), TEST_SET);
    const m = report.models[0]!.confusion!.matrix;
    for (const c of cells) {
      const i = Number(c.getAttribute('data-row'));
      const j = Number(c.getAttribute('data-col'));
      assert.equal(Number(c.querySelector('text').textContent), m[i]![j]);
    }
    assert.deepEqual(all(root, 'g.row-labels text').map((t) => t.textContent), CLASSES);
    assert.deepEqual(all(root, 'g.col-labels text').map((t) => t.textContent), CLASSES);
    assert.equal(all(root, 'g.cell.diagonal').length, 10);
    assert.match(all(root, 'text.y-title')[0].textContent, /Predicted/);
    assert.match(all(root, 'text.x-title')[0].textContent, /True/);
  });

  it('VAE traversal: one row per latent dimension, 11 columns labelled -3..3, the decoded pixels', () => {
    const root = parse(fig(figs, 'vae1-traversal').svg);
    const grids = report.models[1]!.vae!.grids;
    const tiles = all(root, 'image.tile');
    assert.equal(tiles.length, grids.traversal.length * 11);
    assert.equal(grids.traversal.length, 5);
    const labels = all(root, 'text.col-label').map((t) => Number(String(t.textContent).replace('−', '-')));
    assert.deepEqual(labels, Array.from({ length: 11 }, (_, i) => Math.round((-3 + 0.6 * i) * 100) / 100));
    const tile = tiles.find((t) => t.getAttribute('data-row') === '2' && t.getAttribute('data-col') === '7');
    const png = Buffer.from(String(tile.getAttribute('href')).replace('data:image/png;base64,', ''), 'base64');
    const img = right(decodePng(png));
    const expected = Buffer.from(grids.traversal[2]!, 'base64').subarray(7 * 784, 8 * 784);
    assert.deepEqual([img.width, img.height, img.channels], [28, 28, 1]);
    assert.deepEqual(Buffer.from(img.data), expected);
    assert.equal(all(parse(fig(figs, 'vae1-samples').svg), 'image.tile').length, 11);
  });

  it('several seeds: a min-max band per optimizer and split, and a legend key for it', () => {
    const root = parse(fig(reportFigures(buildReport(source('seeds'))), 'fcnn-accuracy-epoch').svg);
    assert.equal(all(root, 'path.band').length, OPTIMIZERS.length * 2);
    assert.equal(all(root, 'path.line').length, OPTIMIZERS.length * 2);
    assert.equal(all(root, 'g.legend-band').length, 1);
  });

  it('a partial run draws the epochs it has', () => {
    const root = parse(fig(reportFigures(buildReport(source('partial'))), 'fcnn-loss-epoch').svg);
    const byLabel = (l: string) => all(root, 'path.line').filter((p) => p.getAttribute('data-label') === l);
    assert.equal(pointsOf(byLabel('sgd')[0].getAttribute('d')), EPOCHS);
    assert.equal(pointsOf(byLabel('adadelta')[0].getAttribute('d')), 1);
    assert.equal(byLabel('adam').length, 0);
  });
});

describe('report: PNG', () => {
  it('encodes and decodes a greyscale PNG (round trip)', () => {
    const px = Uint8Array.from({ length: 28 * 28 }, (_, i) => (i * 37) % 256);
    const png = encodeGrayPng(28, 28, px);
    assert.deepEqual(right(pngSize(png)), { width: 28, height: 28 });
    assert.deepEqual(right(decodePng(png)).data, px);
    assert.ok(E.isLeft(pngSize(Buffer.from('not a png at all, really not'))));
  });

  it('renders a figure to a PNG of twice the SVG size, with text and colour', async () => {
    const f = reportFigures(buildReport(source('single')))[0]!;
    const root = parse(f.svg).querySelector('svg');
    const png = await svgToPng(f.svg, 2);
    const size = right(pngSize(png));
    assert.deepEqual(size, { width: 2 * Number(root.getAttribute('width')), height: 2 * Number(root.getAttribute('height')) });
    const img = right(decodePng(png));
    const colours = new Set<number>();
    for (let i = 0; i < img.data.length; i += img.channels) colours.add((img.data[i]! << 16) | (img.data[i + 1]! << 8) | img.data[i + 2]!);
    assert.ok(colours.size > 50, `only ${colours.size} colours`);
  });
});

describe('report: tables', () => {
  const report = buildReport(source('single'));

  it('Markdown: a column per optimizer, a row per model, best marked, study and difference beside', () => {
    const md = toMarkdown(report);
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(rows.length, 2 + report.models.length);
    const cols = (l: string) => l.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    for (const r of rows) assert.equal(cols(r).length, 2 + OPTIMIZERS.length);
    assert.deepEqual(cols(rows[0]!).slice(2), OPTIMIZERS);
    const fcnn = cols(rows[2]!);
    const bestCol = 2 + OPTIMIZERS.indexOf(report.models[0]!.best!);
    fcnn.forEach((c, i) => assert.equal(c.includes('★'), i === bestCol));
    assert.match(fcnn[2]!, /study 84\.64, Δ [+-]\d+\.\d\d/);
  });

  it('CSV: parses, one row per model and optimizer, numbers as computed', () => {
    const rows = csvParseRows(toCsv(report));
    const [head, ...body] = rows;
    assert.equal(body.length, 14);
    for (const r of body) assert.equal(r.length, head!.length);
    const col = (name: string) => head!.indexOf(name);
    const raw = rawRuns('single');
    for (const r of body) {
      const run = raw.find((x) => x.spec.model === r[col('model')] && x.spec.optimizer.name === r[col('optimizer')])!;
      const expected = r[col('kind')] === 'vae' ? run.final!.testLoss : 100 * run.final!.testAccuracy!;
      assert.ok(Math.abs(Number(r[col('mean')]) - expected) < 1e-9);
      assert.ok(Math.abs(Number(r[col('diff')]) - (expected - Number(r[col('study')]))) < 1e-9);
    }
    assert.equal(body.filter((r) => r[col('best')] === 'true').length, 2);
  });

  it('CSV quotes fields with commas and quotes', () => {
    // The preset is part of the runs' protocol: grid.json and the runs say the same one.
    const oddPreset = <S extends { optimizer: { preset: string } }>(s: S): S => ({ ...s, optimizer: { ...s.optimizer, preset: 'a,"b"' } });
    const partial = source('partial');
    const odd = buildReport({
      ...partial,
      grid: partial.grid === null ? null : { ...partial.grid, specs: partial.grid.specs.map(oddPreset) },
      runs: partial.runs.map((r) => ({ ...r, spec: oddPreset(r.spec) })),
    });
    const rows = csvParseRows(toCsv(odd));
    assert.ok(rows.slice(1).some((r) => r[rows[0]!.indexOf('preset')] === 'a,"b"'), 'no row has the quoted preset');
  });

  it('LaTeX: booktabs rules, a row per model plus the study row, names escaped', () => {
    const tex = toLatex(report);
    for (const rule of ['\\toprule', '\\midrule', '\\bottomrule', '\\begin{tabular}', '\\end{tabular}']) assert.ok(tex.includes(rule), rule);
    const body = tex.split('\\midrule')[1]!.split('\\bottomrule')[0]!;
    assert.equal(body.split('\\\\').filter((l) => l.trim() !== '').length, 4);
    assert.ok(tex.includes('\\textbf{'));
    const odd = toLatex({ ...report, labels: ['a_b&c%'] } as Report);
    assert.ok(odd.includes('a\\_b\\&c\\%'));
  });

  it("another data set than Fashion-MNIST gets no study reference: no study values, no Δ, no study note", () => {
    const src = source('single');
    const digits = (spec: RunRecord['spec']) => ({ ...spec, dataset: 'digits' });
    const other: ReportSource = {
      ...src,
      grid: src.grid && { ...src.grid, specs: src.grid.specs.map(digits) },
      runs: src.runs.map((r) => ({ ...r, spec: digits(r.spec) })),
    };
    const r = buildReport(other);
    assert.ok(r.models.every((m) => m.series.every((x) => x.cell.study === null && x.cell.diff === null)));
    const md = toMarkdown(r);
    assert.doesNotMatch(md, /study|Δ/i);
    assert.doesNotMatch(renderHtml(r, []), /study's winner|study \d/);
    // The same runs on Fashion-MNIST do carry the reference.
    assert.match(toMarkdown(buildReport(src)), /study 89\.74/);
  });

  it('seeds: mean ± std (n) in the table', () => {
    const md = toMarkdown(buildReport(source('seeds')));
    assert.match(md, /\d+\.\d\d ± \d+\.\d\d \(n=3\)/);
  });
});

describe('report: renderD3 and writeReport', () => {
  it('renderD3 emits an artifact per file written, in the chosen formats only', async () => {
    const out = tmp();
    const report = buildReport(source('partial'));
    const arts = await lastValueFrom(of(report).pipe(renderD3(out, { formats: ['svg', 'md', 'html'] }), toArray()));
    assert.deepEqual([...new Set(arts.map((a) => a.kind))].sort(), ['html', 'md', 'svg']);
    // Loss and accuracy per epoch, loss over time, and the confusion matrix of the best (finished) run.
    assert.deepEqual(
      arts.filter((a) => a.kind === 'svg').map((a) => a.path.slice(out.length + 1)),
      ['report/fcnn-loss-epoch.svg', 'report/fcnn-accuracy-epoch.svg', 'report/fcnn-loss-time.svg', 'report/fcnn-confusion.svg'],
    );
    for (const a of arts) assert.equal(statSync(a.path).size, a.bytes);
    assert.ok(arts.some((a) => a.path === join(out, 'report.html')));
    assert.ok(arts.filter((a) => a.kind !== 'html').every((a) => a.path.startsWith(join(out, 'report'))));
  });

  it('renderD3 into a path that cannot be a directory fails with an IoError, not a bare exception', async () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    const err = await lastValueFrom(of(source('partial')).pipe(toReport(), renderD3(join(file, 'out'), { formats: ['md'] }))).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as { _tag: string; message: string },
    );
    assert.equal(err._tag, 'IoError');
    assert.match(err.message, /a-file/);
  });

  it('writeReport writes every format by default, PNGs decode to twice the SVG size', async () => {
    const out = tmp();
    const arts = right(await writeReport(join(FIX, 'partial'), { out }));
    assert.deepEqual([...new Set(arts.map((a) => a.kind))].sort(), ['csv', 'html', 'md', 'png', 'svg', 'tex']);
    for (const a of arts.filter((x) => x.kind === 'png')) {
      const svg = readFileSync(a.path.replace(/\.png$/, '.svg'), 'utf8');
      const w = Number(/width="(\d+)"/.exec(svg)![1]);
      const h = Number(/height="(\d+)"/.exec(svg)![1]);
      assert.deepEqual(right(pngSize(readFileSync(a.path))), { width: 2 * w, height: 2 * h });
    }
  });

  it('the sweep page is the same self-contained page: policy, escaping, figures, link to the full report', () => {
    const title = 'Sweep <script>alert(1)</script>';
    const figure = { name: 'fcnn-lr', model: 'fcnn', title: 'lr', caption: 'accuracy vs <lr>', svg: '<svg id="s"></svg>' };
    const html = sweepHtml({ kind: 'sweep', title, model: 'fcnn', classifier: true, searches: [], finals: [] }, [figure]);
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`));
    assert.ok(!/<script/i.test(html), 'the title stays text');
    assert.ok(html.includes('<title>Sweep &lt;script&gt;alert(1)&lt;/script&gt;</title>'));
    assert.ok(html.includes('<figure id="fig-fcnn-lr"><svg id="s"></svg><figcaption>accuracy vs &lt;lr&gt;</figcaption></figure>'));
    assert.ok(html.includes('<a href="report.html">'));
    // One page skeleton for every optbench page: the run report's head is the sweep page's head.
    const head = (h: string) => h.slice(h.indexOf('<meta charset'), h.indexOf('<title>'));
    assert.equal(head(html), head(renderHtml(buildReport(source('single')), [])));
  });

  it('the HTML of a partial directory says so', () => {
    const html = renderHtml(buildReport(source('partial')), []);
    assert.match(html, /Partial report/);
    assert.match(html, /still training/);
    assert.match(html, /2 not started/);
    assert.match(html, /could not be read/);
    // With runs still to come, the best so far has not won: the summary says it leads so far.
    assert.match(html, /FCNN: \w+ leads so far with a final test accuracy of [\d.]+ %/);
    assert.doesNotMatch(html, / won with /);
  });

  it('the HTML summary names the winner per model and the margin', () => {
    const report = buildReport(source('single'));
    const html = renderHtml(report, reportFigures(report));
    const fcnn = report.models[0]!;
    const vals = fcnn.series.map((s) => s.cell.value!.mean).sort((a, b) => b - a);
    assert.ok(html.includes(`FCNN: ${fcnn.best} won with a final test accuracy of ${vals[0]!.toFixed(2)} %, ${(vals[0]! - vals[1]!).toFixed(2)} percentage points ahead`));
    assert.ok(!/<script/i.test(html));
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html));
  });

  it('escapes names from run files and configs: a <script> in a title or optimizer name stays text', async () => {
    const dir = tmp();
    cpSync(join(FIX, 'partial'), dir, { recursive: true });
    const gridFile = join(dir, 'grid.json');
    const grid = JSON.parse(readFileSync(gridFile, 'utf8')) as { title: string };
    writeFileSync(gridFile, JSON.stringify({ ...grid, title: '<script>alert(1)</script>' }));
    const runFile = readdirSync(join(dir, 'runs')).find((f) => f.startsWith('fcnn-sgd'))!;
    const rec = JSON.parse(readFileSync(join(dir, 'runs', runFile), 'utf8')) as RunRecord;
    writeFileSync(
      join(dir, 'runs', runFile),
      JSON.stringify({ ...rec, spec: { ...rec.spec, optimizer: { ...rec.spec.optimizer, name: '<script>x()</script>' } } }),
    );
    const out = join(dir, 'out');
    mkdirSync(out);
    const arts = right(await writeReport(dir, { out, formats: ['html', 'svg', 'md'] }));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(!/<script/i.test(html), 'a literal <script> in report.html');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('&lt;script&gt;x()&lt;/script&gt;'));
    for (const a of arts) assert.ok(!/<script/i.test(readFileSync(a.path, 'utf8')), a.path);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a diverged run: the table says failed with the reason, its curve stops before the NaN epoch', async () => {
    const dir = tmp();
    cpSync(join(FIX, 'single'), dir, { recursive: true });
    const file = readdirSync(join(dir, 'runs')).find((f) => f.startsWith('fcnn-rmsprop'))!;
    const rec = JSON.parse(readFileSync(join(dir, 'runs', file), 'utf8')) as RunRecord;
    const epochs = rec.epochs.map((e, i) => (i === 2 ? { ...e, train: { ...e.train, loss: Number.NaN }, test: { ...e.test, loss: Number.NaN } } : e));
    const message = 'Training diverged at epoch 3, step 17 (loss NaN): lower the learning rate.';
    writeFileSync(
      join(dir, 'runs', file),
      JSON.stringify({ ...rec, status: 'failed', epochs, final: null, confusion: null, error: { _tag: 'Diverged', message, epoch: 3, step: 17, loss: null } }),
    );
    const r = buildReport(right(readRunDir(dir)));
    const s = r.models[0]!.series.find((x) => x.label === 'rmsprop')!;
    assert.equal(s.cell.status, 'failed');
    assert.equal(s.cell.value, null);
    assert.equal(s.cell.best, false);
    assert.equal(s.curve.length, 2);
    assert.ok(renderHtml(r, []).includes(message.replace(/\(/g, '(')));
    assert.match(toMarkdown(r), /\| failed \(study 89\.63\)/);
  });

  it('an interrupted run counts as unfinished (partial), not failed', () => {
    const s = source('single');
    const runs = s.runs.map((r) => (r.spec.model === 'fcnn' && r.spec.optimizer.name === 'sgd' ? { ...r, status: 'interrupted' as const, final: null, epochs: r.epochs.slice(0, 2) } : r));
    const r = buildReport({ ...s, runs });
    const sgd = r.models[0]!.series[0]!;
    assert.equal(sgd.cell.status, 'partial');
    assert.ok(Math.abs(sgd.cell.value!.mean - 100 * s.runs.find((x) => x.spec.model === 'fcnn' && x.spec.optimizer.name === 'sgd')!.epochs[1]!.test!.accuracy!) < 1e-9);
    assert.equal(r.partial, true);
    assert.match(renderHtml(r, []), /1 interrupted/);
  });

  it('format names are checked: an unknown one is an UnknownName error listing the valid ones', async () => {
    assert.deepEqual(right(parseFormats(['html,png', 'svg'])), ['html', 'png', 'svg']);
    const bad = parseFormats(['xlsx']);
    assert.ok(E.isLeft(bad) && bad.left._tag === 'UnknownName');
    assert.equal(bad.left.message, "Unknown report format 'xlsx'. Valid report formats: html, md, png, svg, csv, tex.");
    const r = await writeReport(join(FIX, 'single'), { formats: ['svgz'] });
    assert.ok(E.isLeft(r) && r.left._tag === 'UnknownName' && r.left.message.includes("'svg'"));
    const missing = await writeReport(join(tmp(), 'none'));
    assert.ok(E.isLeft(missing) && missing.left._tag === 'IoError');
  });
});
