/**
 * bench/bf16-vs-fp32.ts pairs fp32 and bf16 runs by (model, optimizer, seed) and summarises bf16 - fp32
 * with a t interval; checked here on made-up records against a hand computation.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bf16Table, pairRuns } from '../bench/bf16-vs-fp32.js';
import { FIXTURE, ROOT, cli } from './support/cli.js';
import type { RunSpec } from '../lib/config/spec.js';
import type { RunRecord } from '../lib/train/record.js';

const record = (model: string, seed: number, precision: 'fp32' | 'bf16', final: RunRecord['final'], status: RunRecord['status'] = 'done'): RunRecord => {
  const spec: RunSpec = {
    dataset: 'fashion-mnist',
    model,
    optimizer: { name: 'adamax', preset: 'tfkeras2', overrides: {} },
    seed,
    epochs: 10,
    batchSize: 200,
    backend: 'native',
    ...(precision === 'bf16' ? { precision } : {}),
  };
  return { runId: `${model}${seed}${precision}`, spec, status, backend: 'native', parameters: 1, startedAt: '', updatedAt: '', epochs: [], final, confusion: null, vae: null, error: null };
};

describe('bf16 vs fp32 pairing (bench/bf16-vs-fp32.ts)', function () {
  it('pairs by seed, differences bf16 - fp32, and gives the t interval', () => {
    const acc = { fp32: [0.9, 0.8, 0.85], bf16: [0.91, 0.79, 0.87] };
    const fp32 = [0, 1, 2].map((s) => record('fcnn', s, 'fp32', { testLoss: 0.3, testAccuracy: acc.fp32[s]! }));
    // Seed 3 only in bf16 and a failed bf16 run of seed 4: neither is paired.
    const bf16 = [2, 0, 1].map((s) => record('fcnn', s, 'bf16', { testLoss: 0.3, testAccuracy: acc.bf16[s]! }));
    bf16.push(record('fcnn', 3, 'bf16', { testLoss: 0.3, testAccuracy: 0.5 }));
    fp32.push(record('fcnn', 4, 'fp32', { testLoss: 0.3, testAccuracy: 0.5 }));
    bf16.push(record('fcnn', 4, 'bf16', null, 'failed'));
    fp32.push(record('vae1', 0, 'fp32', { testLoss: 30, testAccuracy: null }), record('vae1', 1, 'fp32', { testLoss: 31, testAccuracy: null }));
    bf16.push(record('vae1', 0, 'bf16', { testLoss: 30.5, testAccuracy: null }), record('vae1', 1, 'bf16', { testLoss: 30.5, testAccuracy: null }));
    const rows = pairRuns(fp32, bf16);
    assert.deepEqual(rows.map((r) => [r.model, r.metric, r.seeds]), [
      ['fcnn', 'test accuracy (points)', [0, 1, 2]],
      ['vae1', 'test loss', [0, 1]],
    ]);
    const d = [1, -1, 2]; // points
    rows[0]!.diff.forEach((x, i) => assert.ok(Math.abs(x - d[i]!) < 1e-9));
    const mean = 2 / 3;
    const sd = Math.sqrt(((1 - mean) ** 2 + (-1 - mean) ** 2 + (2 - mean) ** 2) / 2);
    const half = 4.302652729749464 * (sd / Math.sqrt(3)); // t quantile 0.975, 2 degrees of freedom
    assert.ok(Math.abs(rows[0]!.mean - mean) < 1e-9);
    assert.ok(Math.abs(rows[0]!.interval[0] - (mean - half)) < 1e-6 && Math.abs(rows[0]!.interval[1] - (mean + half)) < 1e-6);
    assert.deepEqual(rows[1]!.diff, [0.5, -0.5]);
    assert.ok(rows[0]!.p > 0 && rows[0]!.p < 1);
    assert.match(bf16Table(rows), /\| fcnn \| adamax \| test accuracy \(points\) \| 3 \| 85\.000 \| 85\.667 \| 0\.667 \|/);
  });

  it('ignores runs of the wrong precision in each directory', () => {
    const fp32 = [record('fcnn', 0, 'bf16', { testLoss: 1, testAccuracy: 0.5 })];
    const bf16 = [record('fcnn', 0, 'bf16', { testLoss: 1, testAccuracy: 0.5 })];
    assert.deepEqual(pairRuns(fp32, bf16), []);
  });
});

/**
 * docs/results/bf16-vs-fp32/README.md's commands, scaled down to the fixture data (one epoch, 2 seeds of
 * FCNN): both run directories are trained on native and the script writes its table from them.
 */
describe('docs/results/bf16-vs-fp32: its commands, scaled down', function () {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-bf16-doc-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('node --import tsx bench/bf16-vs-fp32.ts pairs an fp32 and a bf16 run directory into results.md', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'results', 'bf16-vs-fp32', 'README.md'), 'utf8');
    assert.match(doc, /node --import tsx bench\/bf16-vs-fp32\.ts runs\/bf16-vs-fp32\/fp32 runs\/bf16-vs-fp32\/bf16 --out docs\/results\/bf16-vs-fp32/);
    const grid = ['run', '--models', 'fcnn', '--optimizers', 'adamax', '--seeds', '2', '--epochs', '1', '--subset', '100', '--test-subset', '50'];
    const data = ['--data-dir', FIXTURE, '--dataset', 'fashion-mini', '--backend', 'native', '--no-report'];
    for (const [dir, extra] of [['fp32', []], ['bf16', ['--precision', 'bf16']]] as const) {
      const ran = await cli([...grid, ...data, ...extra, '--out', join(tmp, dir)]);
      assert.equal(ran.code, 0, ran.stderr);
    }
    const out = join(tmp, 'doc');
    const script = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bf16-vs-fp32.ts', join(tmp, 'fp32'), join(tmp, 'bf16'), '--out', out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(script.status, 0, script.stderr);
    const table = readFileSync(join(out, 'results.md'), 'utf8');
    // One row for fcnn/adamax, paired over both seeds.
    assert.match(table, /^\| fcnn \| adamax \| test accuracy \(points\) \| 2 \|/m);
  });
});
