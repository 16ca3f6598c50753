/**
 * Bad input around training (imported by spec/bad-input.spec.ts, which writes the rows these tests
 * observe into docs/bad-inputs.md): SIGTERM ends a grid as Ctrl-C does; values larger than the data are
 * recorded as used and said on stderr; `data check` says which models the data can feed; and the
 * divergence bound stays far above every loss of the committed real runs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadDataset } from '../lib/data/load.js';
import { BUILT_IN_MODELS } from '../lib/models/registry.js';
import { disposeModel } from '../lib/models/weights.js';
import { STUDY_RESULTS } from '../lib/report/study.js';
import { DIVERGENCE_FACTOR, divergenceBound, referenceLoss } from '../lib/train/divergence.js';
import { runFit } from '../lib/train/fit.js';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { requireNative } from './support/native.js';
import { fixtureGridArgs, start, until } from './support/cli.js';
import {
  behaviourRows,
  cli,
  FIXTURE,
  fixtureCopy,
  grid,
  normaliser,
  testRef,
  relabelled,
  resized,
  ROOT,
  withOpt,
} from './support/bad-input.js';

let tmp = '';
const T = (...p: string[]) => join(tmp, ...p);
const norm = normaliser(() => tmp);

interface Loss {
  readonly report: string;
  readonly model: string;
  readonly max: number;
}

/**
 * The largest loss plotted in each "loss per epoch" chart of a committed report: every point of every
 * line (train and test, per optimizer) and of every min-max band over seeds, read back from the SVG's
 * pixel coordinates through its y axis (whose ticks are checked to be linear).
 */
const plottedLosses = (report: string): Loss[] => {
  const html = readFileSync(join(ROOT, 'docs', 'results', report, 'report.html'), 'utf8');
  const out: Loss[] = [];
  for (const m of html.matchAll(/<title>([^<:]+): loss per epoch<\/title>/g)) {
    const body = html.slice(m.index! + m[0].length, html.indexOf('</svg>', m.index!));
    const axis = body.slice(body.indexOf('axis y-axis'), body.indexOf('<path class="line"'));
    const ticks = [...axis.matchAll(/translate\(0,([\d.]+)\)"><line[^>]*\/><text[^>]*>([^<]+)<\/text>/g)].map((t) => ({
      y: Number(t[1]),
      v: Number(t[2]!.replace(/,/g, '').replace('−', '-')),
    }));
    assert.ok(ticks.length >= 3, `${report} ${m[1]}: no y axis found`);
    const a = ticks[0]!;
    const b = ticks.at(-1)!;
    const value = (y: number) => a.v + ((y - a.y) * (b.v - a.v)) / (b.y - a.y);
    for (const t of ticks) assert.ok(Math.abs(value(t.y) - t.v) < 1e-6 * Math.max(1, Math.abs(t.v)), `${report} ${m[1]}: the y axis is not linear`);
    const ys = [...body.matchAll(/<path class="(?:line|band)"[^>]* d="([^"]+)"/g)].flatMap((p) =>
      [...p[1]!.matchAll(/[ML]?(-?[\d.]+),(-?[\d.]+)/g)].map((c) => Number(c[2])),
    );
    assert.ok(ys.length > 0, `${report} ${m[1]}: no curve found`);
    out.push({ report, model: m[1]!.toLowerCase(), max: value(Math.min(...ys)) });
  }
  return out;
};

describe('bad input: training', function () {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-training-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('SIGTERM ends a grid as Ctrl-C does: after the step, with the summary, results.md and the report, exit 143', async function () {
    const out = T('term');
    const argv = fixtureGridArgs(out, { optimizers: 'sgd,adam', epochs: 3, subset: 100, testSubset: 50, batchSize: 25 }, ['--json']);
    const child = start(argv, { OPTBENCH_DEBUG: '' });
    await until('the first epoch', () => /epoch 1\/3/.test(child.stderr), child);
    child.proc.kill('SIGTERM');
    const gone = await child.exit;
    assert.equal(gone.code, 143, child.stderr);
    assert.equal(gone.signal, null, 'killed by the signal instead of handling it');
    assert.match(child.stderr, /Stopping after the current step \(SIGTERM; send it again to quit at once\)/);
    assert.ok(child.stderr.includes(`Interrupted. Finished epochs are kept in ${out}; run the same command with --out ${out} to continue.`), child.stderr);
    const summary = JSON.parse(child.stdout) as { runs: { optimizer: string; status: string }[] };
    assert.deepEqual(summary.runs.map((r) => [r.optimizer, r.status]), [['sgd', 'interrupted']]);
    assert.ok(existsSync(join(out, 'results.md')), 'results.md was not written');
    assert.ok(existsSync(join(out, 'report.html')), 'the report was not written');
    const record = JSON.parse(readFileSync(join(out, 'runs', readdirSync(join(out, 'runs'))[0]!), 'utf8')) as { status: string; epochs: unknown[] };
    assert.equal(record.status, 'interrupted');
    assert.ok(record.epochs.length >= 1, 'the finished epoch was lost');
    // A second SIGTERM does not wait for the step or the report.
    const twice = start(fixtureGridArgs(T('term-twice'), { optimizers: 'sgd,adam', epochs: 2, subset: 100, testSubset: 50, batchSize: 25 }), { OPTBENCH_DEBUG: '' });
    await until('the first run', () => /run 1\/2 fcnn\/sgd\/s0 on cpu/.test(twice.stderr), twice);
    twice.proc.kill('SIGTERM');
    await until('the first SIGTERM to be seen', () => /Stopping after the current step/.test(twice.stderr), twice);
    twice.proc.kill('SIGTERM');
    const quit = await twice.exit;
    assert.equal(quit.code, 143);
    assert.doesNotMatch(twice.stderr, /to continue/, 'it waited for the orderly stop');
    behaviourRows.push({
      input: 'SIGTERM during a grid (kill, a service manager, a CI timeout)',
      argv: argv.map(norm),
      exit: gone.code ?? -1,
      does: 'as Ctrl-C: stops after the current step, keeps every finished epoch, prints the summary (--json too), writes results.md and the report, says how to continue; a second SIGTERM quits at once',
      test: testRef(import.meta.filename, this.test),
    });
  });

  it('a subset and a batch larger than the data are recorded as used (grid.json, store) and said on stderr', async function () {
    const out = T('clamped');
    const argv = withOpt(withOpt(grid(out), '--subset', '10000000'), '--batch-size', '1000000');
    const ran = await cli(argv);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /^optbench: note: --subset 10,000,000 is more than the 500 training images of fashion-mini: every run trains on all of them \(recorded as subset 500\)\.$/m);
    assert.match(ran.stderr, /^optbench: note: --batch-size 1,000,000 is more than the 500 training images: each epoch is one step of all of them \(recorded as batch size 500\)\.$/m);
    const specs = (JSON.parse(readFileSync(join(out, 'grid.json'), 'utf8')) as { specs: { subset: number; batchSize: number }[] }).specs;
    assert.deepEqual(specs.map((s) => [s.subset, s.batchSize]), [[500, 500]]);
    const exported = await cli(['export', out, '--format', 'json']);
    const stored = JSON.parse(exported.stdout) as { spec: { subset: number; batchSize: number } }[];
    assert.deepEqual(stored.map((r) => [r.spec.subset, r.spec.batchSize]), [[500, 500]]);
    assert.match(ran.stderr, /1 steps per epoch/);
    behaviourRows.push({
      input: '--subset and --batch-size larger than the data (within their bounds)',
      argv: argv.map(norm),
      exit: ran.code ?? -1,
      does: 'uses all the images (one step per epoch), records the values used in grid.json and the store, and says so on stderr (optbench: note: ...)',
      test: testRef(import.meta.filename, this.test),
    });
  });

  it('`data check` says which models the data can feed: none for 32x32 images; only the VAEs for labels up to 255', async function () {
    const big = fixtureCopy(T('data', '32x32'), (d) => ['train', 't10k'].forEach((f) => resized(join(d, `${f}-images-idx3-ubyte.gz`), 32)), false);
    const wide = fixtureCopy(T('data', 'labels'), (d) => relabelled(join(d, 'train-labels-idx1-ubyte.gz'), { 3: 12, 7: 255 }), false);
    const [shape, labels, fashion] = await Promise.all([
      cli(['data', 'check', '--data-dir', big, '--dataset', 'my-32']),
      cli(['data', 'check', '--data-dir', wide, '--dataset', 'my-set']),
      cli(['data', 'check', '--data-dir', FIXTURE, '--dataset', 'fashion-mini']),
    ]);
    assert.equal(shape.code, 1, shape.stdout);
    assert.match(shape.stdout, /^Train: 500 images of 32x32$/m);
    assert.match(shape.stdout, /^Models it can feed: none$/m);
    for (const m of ['fcnn', 'scnn', 'bcnn', 'mcnn', 'vae1', 'vae2']) assert.match(shape.stdout, new RegExp(`^  not: ${m} needs 28x28x1 images but these are 32x32x1$`, 'm'));
    assert.match(shape.stdout, /NOT OK:\n {2}- no registered model can be trained on this data/);
    assert.equal(labels.code, 0, labels.stdout);
    assert.match(labels.stdout, /^Classes: not declared; labels seen 0\.\.255, so a classifier must output at least 256$/m);
    assert.match(labels.stdout, /^Models it can feed: vae1, vae2$/m);
    assert.match(labels.stdout, /^ {2}not: fcnn outputs 10 classes but the labels reach 255$/m);
    assert.equal(fashion.code, 0, fashion.stdout);
    assert.match(fashion.stdout, /^Classes: 10 \(declared by fashion-mini; labels seen 0\.\.9\)$/m);
    assert.match(fashion.stdout, /^Models it can feed: fcnn, scnn, bcnn, mcnn, vae1, vae2$/m);
    behaviourRows.push(
      {
        input: '`data check` of 32x32 images',
        argv: ['data', 'check', '--data-dir', norm(big), '--dataset', 'my-32'],
        exit: shape.code ?? -1,
        does: 'verifies the files, then says no model can be fed and why (fcnn needs 28x28x1 images but these are 32x32x1, ...): NOT OK',
        test: testRef(import.meta.filename, this.test),
      },
      {
        input: '`data check` of a data set that declares no classes, labels up to 255',
        argv: ['data', 'check', '--data-dir', norm(wide), '--dataset', 'my-set'],
        exit: labels.code ?? -1,
        does: 'says the classes are not declared and which models it can feed: vae1, vae2 (not fcnn: it outputs 10 classes but the labels reach 255); training a classifier on it is refused at load',
        test: testRef(import.meta.filename, this.test),
      },
    );
  });

  it('the divergence bound is far above every loss of the committed real runs and of the study, and a resumed run has the same', async function () {
    const previous = await requireNative();
    await tf.setBackend('native');
    try {
      const data = await loadDataset({ dir: FIXTURE, dataset: 'fashion-mini' });
      if (E.isLeft(data)) throw new Error(data.left.message);
      const spec = (model: string, seed: number) => ({
        dataset: 'fashion-mini',
        model,
        optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} },
        seed,
        epochs: 1,
        batchSize: 200,
        backend: 'native',
      });
      const reference = async (model: string, seed: number): Promise<number> => {
        const def = BUILT_IN_MODELS.get(model);
        if (E.isLeft(def)) throw new Error(def.left.message);
        const built = def.right.build(seed);
        try {
          return await referenceLoss(built, data.right.train, spec(model, seed));
        } finally {
          disposeModel(built);
        }
      };
      // What a resumed run computes is what the fresh run's first step computed: the same bound.
      const events = await lastValueFrom(runFit(spec('fcnn', 3), data.right, { progressEveryMs: 0 }).pipe(toArray()));
      const first = events.find((e) => e.type === 'BatchEnded');
      assert.ok(first?.type === 'BatchEnded' && first.step === 1);
      assert.equal(await reference('fcnn', 3), first.loss);
      /** The smallest reference over seeds 0-4 (task1-seeds5 ran those): the tightest bound any of them had. */
      const bounds = new Map<string, { reference: number; bound: number }>();
      for (const m of ['fcnn', 'vae1', 'vae2']) {
        let least = Infinity;
        for (let seed = 0; seed < 5; seed++) least = Math.min(least, await reference(m, seed));
        bounds.set(m, { reference: least, bound: divergenceBound(least) });
      }
      // The classifiers start near ln 10 and the VAEs in the hundreds (sum of squared errors + KL per image).
      assert.ok(Math.abs(bounds.get('fcnn')!.reference - Math.log(10)) < 1, `fcnn starts at ${bounds.get('fcnn')!.reference}`);
      for (const v of ['vae1', 'vae2']) assert.ok(bounds.get(v)!.reference > 100, `${v} starts at ${bounds.get(v)!.reference}`);
      const losses = ['quick', 'task1-fcnn', 'task1-seeds5'].flatMap(plottedLosses);
      assert.deepEqual([...new Set(losses.map((l) => `${l.report}/${l.model}`))].sort(), ['quick/fcnn', 'quick/vae1', 'task1-fcnn/fcnn', 'task1-seeds5/fcnn']);
      // An order of magnitude to spare at least: no real run came within a tenth of the bound.
      for (const l of losses) {
        const b = bounds.get(l.model)!;
        assert.ok(l.max < b.bound / 10, `${l.report} ${l.model}: a loss of ${l.max} is within 10x of the bound ${b.bound}`);
      }
      // The study's final VAE losses, SGD on VAE2 stalled at 97.39 among them, are below the VAEs' first loss.
      for (const v of ['vae1', 'vae2'] as const)
        for (const loss of Object.values(STUDY_RESULTS[v] ?? {})) assert.ok(loss < bounds.get(v)!.reference, `study ${v}: ${loss}`);
      assert.equal(DIVERGENCE_FACTOR, 1000);
      const worst = Math.max(...losses.map((l) => l.max / bounds.get(l.model)!.reference));
      this.test!.title += ` (the largest real loss is ${worst.toFixed(2)}x its model's first loss; the bound is ${DIVERGENCE_FACTOR}x)`;
    } finally {
      await tf.setBackend(previous);
    }
  });
});
