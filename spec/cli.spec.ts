/**
 * End to end: the optbench command as a user runs it (child processes, cpu backend, the fixture data set).
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { readRunDir } from '../lib/report/read.js';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { FIXTURE, cli, fixtureGridArgs, type Ran } from './support/cli.js';

const gridArgs = (out: string, optimizers: string, extra: readonly string[] = []): string[] =>
  fixtureGridArgs(out, { optimizers, epochs: 2, subset: 50, testSubset: 50, batchSize: 50 }, ['--json', ...extra]);

/** Keras parameter counts, from the layer shapes of spec/study-protocol.md. */
const dense = (i: number, o: number) => i * o + o;
const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + cout;
const batchNorm = (n: number) => 4 * n;
const vae = (f1: number, f2: number, k: number, latent: number) =>
  conv(k, 1, f1) + conv(k, f1, f2) + dense(7 * 7 * f2, 16) + 2 * dense(16, latent) +
  dense(latent, 7 * 7 * f2) + conv(k, f2, f2) + conv(k, f2, f1) + conv(k, f1, 1);
const EXPECTED_PARAMETERS: Record<string, number> = {
  fcnn: dense(784, 784) + dense(784, 512) + dense(512, 100) + dense(100, 10),
  scnn: conv(5, 1, 40) + dense(12 * 12 * 40, 100) + dense(100, 10),
  bcnn: conv(3, 1, 48) + conv(3, 48, 96) + dense(5 * 5 * 96, 100) + dense(100, 10),
  mcnn: conv(5, 1, 32) + conv(5, 32, 32) + conv(3, 32, 64) + conv(3, 64, 64) + dense(7 * 7 * 64, 512) + batchNorm(512) + dense(512, 10),
  vae1: vae(32, 64, 3, 5),
  vae2: vae(64, 128, 5, 10),
};

interface RunFile {
  runId: string;
  status: string;
  spec: { model: string; optimizer: { name: string } };
  epochs: { epoch: number; train: { loss: number; accuracy: number }; test: { loss: number; accuracy: number } }[];
  final: { testLoss: number; testAccuracy: number };
}

describe('optbench CLI (end to end, cpu)', () => {
  let tmp = '';
  let out = '';
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-cli-'));
    out = join(tmp, 'grid');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the study has the parameter counts of its paper, and every preset the study\'s seven optimizers and the modern six', async () => {
    assert.deepEqual(EXPECTED_PARAMETERS, { fcnn: 1_069_670, scnn: 578_150, bcnn: 283_158, mcnn: 1_695_210, vae1: 143_675, vae2: 992_485 });
    const [list, data] = await Promise.all([cli(['list', '--json']), cli(['data', 'check', '--data-dir', FIXTURE, '--dataset', 'fashion-mini'])]);
    assert.equal(list.code, 0, list.stderr);
    const l = JSON.parse(list.stdout) as {
      models: { name: string; parameters: number }[];
      optimizers: { name: string; preset: string; defaults: Record<string, number | boolean> }[];
    };
    assert.deepEqual(Object.fromEntries(l.models.map((m) => [m.name, m.parameters])), EXPECTED_PARAMETERS);
    const presets = [...new Set(l.optimizers.map((o) => o.preset))];
    assert.deepEqual(presets, ['tfkeras2', 'keras231', 'torch', 'paper', 'modern']);
    for (const p of presets)
      assert.deepEqual(
        l.optimizers.filter((o) => o.preset === p).map((o) => o.name).sort(),
        ['adabelief', 'adadelta', 'adagrad', 'adam', 'adamax', 'adamw', 'adamw-schedulefree', 'lion', 'muon', 'nadam', 'radam', 'rmsprop', 'sgd'],
        `preset ${p}`,
      );
    const adadelta = l.optimizers.find((o) => o.preset === 'tfkeras2' && o.name === 'adadelta')!;
    assert.equal(adadelta.defaults['lr'], 0.001);
    assert.equal(adadelta.defaults['rho'], 0.95);
    assert.equal(adadelta.defaults['eps'], 1e-7);
    assert.equal(data.code, 0, data.stderr + data.stdout);
    assert.match(data.stdout, /OK: the data verifies/);
  });

  it('`run` writes runs/*.json, grid.json, results.md, report.html and the store, and --json summarises it', async () => {
    const ran = await cli(gridArgs(out, 'sgd,adam'));
    assert.equal(ran.code, 0, ran.stderr);
    for (const f of ['grid.json', 'results.md', 'report.html', 'optbench.sqlite']) assert.ok(statSync(join(out, f)).size > 0, f);
    const files = readdirSync(join(out, 'runs')).sort();
    assert.equal(files.length, 2);
    const records = files.map((f) => JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')) as RunFile);
    const summary = JSON.parse(ran.stdout) as { runs: Record<string, unknown>[] };
    assert.equal(summary.runs.length, 2);
    for (const r of summary.runs) {
      assert.deepEqual(Object.keys(r).sort(), ['final', 'label', 'model', 'optimizer', 'overrides', 'preset', 'runId', 'seed', 'status']);
      assert.equal(r['runId'], runId(records.find((x) => x.spec.optimizer.name === r['optimizer'])!.spec as unknown as RunSpec));
      assert.deepEqual(r['overrides'], {});
      assert.equal(r['label'], `fcnn/${String(r['optimizer'])}/s0`);
      assert.deepEqual(Object.keys(r['final'] as object).sort(), ['testAccuracy', 'testLoss']);
      assert.equal(r['model'], 'fcnn');
      assert.equal(r['preset'], 'tfkeras2');
      assert.equal(r['seed'], 0);
      assert.equal(r['status'], 'done');
      // The summary's final metrics are the last epoch's test metrics in the run's file.
      const rec = records.find((x) => x.spec.optimizer.name === r['optimizer'])!;
      assert.equal(rec.status, 'done');
      assert.equal(rec.epochs.length, 2);
      assert.deepEqual(r['final'], { testAccuracy: rec.epochs[1]!.test.accuracy, testLoss: rec.epochs[1]!.test.loss });
      // Accuracy over 50 test images is a count of 50.
      const acc = rec.epochs[1]!.test.accuracy;
      assert.ok(Math.abs(acc * 50 - Math.round(acc * 50)) < 1e-9, `accuracy ${acc} is not k/50`);
    }
    // The store holds the same epochs as the files.
    const db = new Database(join(out, 'optbench.sqlite'), { readonly: true });
    const epochs = db.prepare('SELECT run_id, epoch, train_loss, test_loss, test_accuracy FROM epochs ORDER BY run_id, epoch').all() as {
      run_id: string;
      epoch: number;
      train_loss: number;
      test_loss: number;
      test_accuracy: number;
    }[];
    db.close();
    const fromFiles = records
      .flatMap((r) => r.epochs.map((e) => ({ run_id: r.runId, epoch: e.epoch, train_loss: e.train.loss, test_loss: e.test.loss, test_accuracy: e.test.accuracy })))
      .sort((a, b) => (a.run_id === b.run_id ? a.epoch - b.epoch : a.run_id < b.run_id ? -1 : 1));
    assert.deepEqual(epochs, fromFiles);
    // The store records every file the report wrote, with what it held when written.
    const artifacts = new Database(join(out, 'optbench.sqlite'), { readonly: true }).prepare('SELECT path, bytes, sha256 FROM artifacts').all() as {
      path: string;
      bytes: number;
      sha256: string;
    }[];
    const recorded = new Map(artifacts.map((a) => [a.path, a]));
    for (const f of ['results.md', 'report.html', join('report', 'table.csv')]) {
      const a = recorded.get(join(out, f));
      assert.ok(a !== undefined, `${f} is in the artifacts table (${[...recorded.keys()].join(', ')})`);
      const content = readFileSync(join(out, f));
      assert.equal(a.bytes, content.length, f);
      assert.equal(a.sha256, createHash('sha256').update(content).digest('hex'), f);
    }
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /SGD|sgd/);
    assert.match(md, /Adam|adam/);
  });

  it('`runs`, `export` and `report` read the store and never train', async () => {
    const db = () => new Database(join(out, 'optbench.sqlite'), { readonly: true });
    const snapshot = () => {
      const d = db();
      const s = { runs: d.prepare('SELECT * FROM runs ORDER BY id').all(), epochs: d.prepare('SELECT * FROM epochs ORDER BY run_id, epoch').all() };
      d.close();
      return s;
    };
    const before = snapshot();
    const again = join(tmp, 'report-again');
    const [runs, runsText, csv, json, report] = await Promise.all([
      cli(['runs', out, '--json']),
      cli(['runs', out]),
      cli(['export', out, '--format', 'csv']),
      cli(['export', out, '--format', 'json', '--out', join(tmp, 'export.json')]),
      cli(['report', out, '--out', again]),
    ]);
    for (const r of [runs, runsText, csv, json, report]) assert.equal(r.code, 0, r.stderr);
    const records = readdirSync(join(out, 'runs')).map((f) => JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')) as RunFile);

    const listed = (JSON.parse(runs.stdout) as { runs: { label: string; status: string; epochsDone: number; epochs: number; final: { testAccuracy: number } }[] }).runs;
    assert.deepEqual(listed.map((r) => [r.label, r.status, r.epochsDone, r.epochs]).sort(), [
      ['fcnn/adam/s0', 'done', 2, 2],
      ['fcnn/sgd/s0', 'done', 2, 2],
    ]);
    assert.match(runsText.stdout, /fcnn\/sgd\/s0\s+done\s+2\/2/);
    assert.match(runsText.stdout, /2 runs: 2 done/);

    // CSV: one row per run and epoch, numbers that read back to the run files' doubles.
    const lines = csv.stdout.trimEnd().split('\n');
    const head = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i]!, v])));
    assert.equal(rows.length, 4);
    for (const rec of records)
      for (const e of rec.epochs) {
        const row = rows.find((r) => r['run_id'] === rec.runId && Number(r['epoch']) === e.epoch)!;
        assert.equal(Number(row['train_loss']), e.train.loss);
        assert.equal(Number(row['test_accuracy']), e.test.accuracy);
        assert.equal(row['status'], 'done');
      }
    const exported = JSON.parse(readFileSync(join(tmp, 'export.json'), 'utf8')) as { runId: string; epochs: unknown[] }[];
    assert.deepEqual(exported.map((r) => r.runId).sort(), records.map((r) => r.runId).sort());
    assert.deepEqual(
      exported.map((r) => r.epochs.length),
      [2, 2],
    );

    // The report was regenerated into another directory, without training anything.
    assert.ok(existsSync(join(again, 'report.html')));
    assert.doesNotMatch(report.stderr, /epoch \d\/\d/);
    const html = readFileSync(join(again, 'report.html'), 'utf8');
    assert.match(html, /fcnn/i);
    assert.deepEqual(snapshot(), before);

    // A report reads the store first: a directory with only the store (no runs/*.json) has every run and epoch.
    const storeOnly = join(tmp, 'store-only');
    mkdirSync(storeOnly);
    copyFileSync(join(out, 'grid.json'), join(storeOnly, 'grid.json'));
    copyFileSync(join(out, 'optbench.sqlite'), join(storeOnly, 'optbench.sqlite'));
    const source = readRunDir(storeOnly);
    if (E.isLeft(source)) throw new Error(source.left.message);
    assert.deepEqual(
      source.right.runs.map((r) => [r.runId, r.status, r.epochs.map((e) => [e.epoch, e.train.loss, e.test?.loss])]).sort(),
      records.map((r) => [r.runId, r.status, r.epochs.map((e) => [e.epoch, e.train.loss, e.test?.loss])]).sort(),
    );
  });

  it('`report --format` takes names in any case, and refuses an unknown one before it writes anything', async () => {
    const upper = join(tmp, 'report-upper');
    const refused = join(tmp, 'report-refused');
    const [ok, bad] = await Promise.all([
      cli(['report', out, '--out', upper, '--format', 'HTML, Md,html']),
      cli(['report', out, '--out', refused, '--format', 'md,htm']),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const written = ok.stdout.trimEnd().split('\n');
    assert.ok(written.some((f) => f.endsWith('report.html')) && written.some((f) => f.endsWith('.md')), ok.stdout);
    assert.deepEqual(written.filter((f) => !/\.(html|md)$/.test(f)), [], 'only the formats asked for');
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "optbench: Unknown report format 'htm'. Did you mean 'html'? Valid report formats: html, md, png, svg, csv, tex.\n");
    assert.equal(bad.stdout, '');
    assert.equal(existsSync(refused), false, 'nothing written for a refused format');
  });

  it('two processes on one store never train the same run', async () => {
    const shared = join(tmp, 'shared');
    const args = gridArgs(shared, 'sgd,adam,adamax', ['--no-report']).map((a) => (a === '2' ? '1' : a));
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const trained = (r: Ran) => [...r.stderr.matchAll(/run \d\/3 (\S+) on cpu/g)].map((m) => m[1]!);
    const ta = trained(a);
    const tb = trained(b);
    assert.deepEqual(ta.filter((x) => tb.includes(x)), [], `both trained a run: ${ta} / ${tb}`);
    assert.deepEqual([...ta, ...tb].sort(), ['fcnn/adam/s0', 'fcnn/adamax/s0', 'fcnn/sgd/s0']);
    const db = new Database(join(shared, 'optbench.sqlite'), { readonly: true });
    const runs = db.prepare('SELECT label, status FROM runs ORDER BY label').all();
    const epochs = db.prepare('SELECT count(*) AS n FROM epochs').get() as { n: number };
    db.close();
    assert.deepEqual(runs, [
      { label: 'fcnn/adam/s0', status: 'done' },
      { label: 'fcnn/adamax/s0', status: 'done' },
      { label: 'fcnn/sgd/s0', status: 'done' },
    ]);
    assert.equal(epochs.n, 3);
  });
});
