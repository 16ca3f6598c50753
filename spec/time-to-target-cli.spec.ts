import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvParse } from 'd3-dsv';
import * as E from 'fp-ts/lib/Either.js';
import { STUDY_RESULTS } from '../lib/report/study.js';
import { writeReport } from '../lib/report/render.js';
import { PINNED } from '../lib/data/identity.js';
import { fitPlanToData, type GridPlan } from '../lib/train/plan.js';
import { openStore, storePath } from '../lib/store/store.js';
import type { GridRecord, RunRecord } from '../lib/train/record.js';
import { DEFAULT_TARGETS, parseTargets } from '../lib/train/targets.js';
import { FIXTURE, cli } from './support/cli.js';

// `--target` from the command line to the report, on the fixture data: what each run records, which
// images judge it, and the report's table, CSV columns and profile figure; the default targets' derivation;
// the grammar's refusals.

describe('--target: time to a held-out target, end to end', function () {
  let tmp = '';
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'optbench-ttt-cli-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** The fixture grid, with `over` replacing or adding options (`--x: null` drops one). */
  const grid = (out: string, over: Readonly<Record<string, string | null>> = {}): string[] => {
    const options: Record<string, string | null> = {
      '--models': 'fcnn',
      '--optimizers': 'adam,sgd',
      '--seeds': '2',
      '--epochs': '2',
      '--subset': '60',
      '--test-subset': '50',
      '--batch-size': '20',
      '--data-dir': FIXTURE,
      '--dataset': 'fashion-mini',
      '--backend': 'cpu',
      '--out': out,
      ...over,
    };
    return ['run', ...Object.entries(options).flatMap(([k, v]) => (v === null ? [] : v === '' ? [k] : [k, v]))];
  };
  it('records when each run first reaches its target on the held-out images, keeps the test set for the test metrics, and reports it', async () => {
    const out = join(tmp, 'reached');
    // Accuracy 0.02 on the held-out images: reached after epoch 1 by any model that gets one image in 40 right.
    const ran = await cli(grid(out, { '--target': 'accuracy=0.02', '--holdout': '40', '--no-report': '' }));
    assert.equal(ran.code, 0, ran.stderr);
    const store = E.getOrElseW(() => assert.fail('store'))(openStore(storePath(out), { readonly: true }));
    const records = E.getOrElseW(() => assert.fail('records'))(store.toRunRecords());
    store.close();
    assert.equal(records.length, 4);
    for (const r of records) {
      assert.equal(r.spec.holdout, 40, 'the holdout is part of what trains, so of the spec and its id');
      assert.equal(r.status, 'done');
      for (const e of r.epochs) assert.ok(e.validation != null && e.test !== null && e.validation.loss !== e.test.loss, 'held-out and test metrics, apart');
      // The final test accuracy is the last epoch's test metric: the test set's, as the study reports it.
      assert.equal(r.final?.testAccuracy, r.epochs[1]!.test!.accuracy);
      const first = r.epochs.find((e) => e.validation!.accuracy! >= 0.02);
      assert.ok(first !== undefined);
      assert.deepEqual(
        { ...r.reached, seconds: Number(r.reached!.seconds.toFixed(9)) },
        {
          metric: 'accuracy',
          goal: 0.02,
          value: first.validation!.accuracy,
          epoch: first.epoch,
          // 60 training images in batches of 20: 3 steps per epoch.
          step: 3 * first.epoch,
          seconds: Number((r.epochs.filter((e) => e.epoch <= first.epoch).reduce((s, e) => s + e.trainMs, 0) / 1000).toFixed(9)),
        },
      );
    }
    const files = readdirSync(join(out, 'runs'));
    const fromFile = JSON.parse(readFileSync(join(out, 'runs', files[0]!), 'utf8')) as RunRecord;
    assert.deepEqual(fromFile.reached, records.find((r) => r.runId === fromFile.runId)!.reached);
    assert.deepEqual((JSON.parse(readFileSync(join(out, 'grid.json'), 'utf8')) as GridRecord).targets, { fcnn: { metric: 'accuracy', goal: 0.02 } });
    // The report, drawn from the run directory (in this process: the figures' PNGs are the report specs' business).
    const written = await writeReport(out, { formats: ['csv', 'md', 'svg', 'html'] });
    assert.ok(E.isRight(written), E.isLeft(written) ? written.left.message : '');
    const csv = csvParse(readFileSync(join(out, 'report', 'table.csv'), 'utf8'));
    assert.deepEqual(csv.map((row) => [row['optimizer'], row['target'], row['holdout'], row['ttt_reached'], row['ttt_seeds'], row['profile_ratio_s'] !== '']), [
      ['sgd', '0.02', '40', '2', '2', true],
      ['adam', '0.02', '40', '2', '2', true],
    ]);
    assert.match(readFileSync(join(out, 'report', 'table.md'), 'utf8'), /## Time to target\n\n\| optimizer \| FCNN: accuracy ≥ 0\.02 \|/);
    assert.ok(existsSync(join(out, 'report', 'performance-profile-seconds.svg')));
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /id="time-to-target"/);
  });

  it('without --holdout, 10,000 images are held out, or a sixth of a smaller data set, with a note', () => {
    const plan: GridPlan = { dataset: 'fashion-mini', models: ['fcnn'], optimizers: [{ name: 'adam' }], preset: 'tfkeras2', seeds: 1, epochs: 1, batchSize: 450, backend: 'cpu', holdout: 10_000 };
    const data = { name: 'fashion-mini', md5: PINNED['fashion-mini']!, train: { count: 500 }, test: { count: 150 } };
    const fitted = fitPlanToData(plan, data);
    assert.equal(fitted.plan.holdout, 83);
    assert.deepEqual(fitted.notes, [
      "--holdout 10,000 leaves none of the 500 training images of fashion-mini to train on: every run holds out a sixth of them, as 10,000 is of Fashion-MNIST's 60,000 (recorded as holdout 83).",
      // The batch is fitted to the images left to train on.
      '--batch-size 450 is more than the 417 training images: each epoch is one step of all of them (recorded as batch size 417).',
    ]);
    assert.equal(fitPlanToData({ ...plan, batchSize: 20 }, { ...data, train: { count: 60_000 } }).plan.holdout, 10_000);
  });
});

describe('--target: the grammar and the default targets', () => {
  const kinds = { fcnn: 'classifier', scnn: 'classifier', vae1: 'vae' } as const;

  it('the default targets are the medians of the study\'s seven final values, rounded towards the easier side', () => {
    for (const [model, values] of Object.entries(STUDY_RESULTS)) {
      const v = Object.values(values).sort((a, b) => a - b);
      const median = v[3]!;
      const vae = model.startsWith('vae');
      assert.deepEqual(DEFAULT_TARGETS[model], vae ? { metric: 'loss', goal: Math.ceil(median) } : { metric: 'accuracy', goal: Math.floor(median) / 100 }, model);
    }
  });

  it('a model takes its own entry, else its kind\'s, else its default', () => {
    assert.deepEqual(E.getOrElseW(() => assert.fail())(parseTargets('accuracy=0.8,scnn:accuracy=0.9', kinds)), {
      fcnn: { metric: 'accuracy', goal: 0.8 },
      scnn: { metric: 'accuracy', goal: 0.9 },
      vae1: { metric: 'loss', goal: 25 },
    });
    assert.deepEqual(E.getOrElseW(() => assert.fail())(parseTargets('default,scnn:loss=0.3', kinds)), {
      fcnn: DEFAULT_TARGETS['fcnn'],
      scnn: { metric: 'loss', goal: 0.3 },
      vae1: DEFAULT_TARGETS['vae1'],
    });
  });

  const refusals: ReadonlyArray<readonly [string, RegExp]> = [
    ['acc=0.9', /'acc' is not a metric a target can judge/],
    ['accuracy=88', /accuracy is a fraction from 0 to 1, got 88 \(for 88 %, write accuracy=0\.88\)/],
    ['loss=-1', /the loss goal must be a positive number, got '-1'/],
    ['accuracy=x', /the accuracy goal must be a positive number, got 'x'/],
    ['mcnn:accuracy=0.9', /'mcnn' is not a model of this grid \(fcnn, scnn, vae1\)/],
    ['vae1:accuracy=0.9', /vae1 is a VAE, which has no accuracy/],
    ['accuracy=0.8,accuracy=0.9', /accuracy= is given twice/],
    ['fast', /'fast' is not a target/],
    ['', /give a target/],
  ];
  for (const [text, says] of refusals)
    it(`refuses '${text}'`, () => {
      const r = parseTargets(text, kinds);
      assert.ok(E.isLeft(r));
      assert.equal(r.left._tag === 'InvalidConfig' && r.left.path, 'target');
      assert.match(r.left.message, says);
    });

  it('refuses a model left without a target, and a kind the grid does not train', () => {
    const mine = { mine: 'classifier' } as const;
    const r = parseTargets('default', mine);
    assert.ok(E.isLeft(r) && /mine has no default target: give it one \(mine:accuracy=0\.9\)/.test(r.left.message));
    const v = parseTargets('loss=30', { fcnn: 'classifier' });
    assert.ok(E.isLeft(v) && /loss=30 applies to VAEs, and this grid trains none/.test(v.left.message));
  });
});
