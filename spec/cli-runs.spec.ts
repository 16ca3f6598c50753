/**
 * What the command line says about runs must tell them apart and count them right, and a refusal must
 * leave nothing behind. Each of these was wrong: a command refused for its data left a new run directory,
 * `optbench runs` during a 3-run grid said "2 runs", progress lines and the CSV export's label showed
 * `fcnn/sgd/s0` for both `sgd` and `sgd:lr=1e9`, and the `--json` summary dropped the overrides.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { csvParse } from 'd3-dsv';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { FIXTURE, cli } from './support/cli.js';

const tiny = ['--models', 'fcnn', '--epochs', '1', '--subset', '50', '--test-subset', '50', '--batch-size', '25', '--backend', 'cpu', '--no-report'];
const fixtureData = ['--data-dir', FIXTURE, '--dataset', 'fashion-mini'];

describe('the command line about runs', function () {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'optbench-cli-runs-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a command refused for its data leaves no new run directory, and an empty one it was given as it was', async () => {
    // Training labels one short of the images: the data is refused when it loads.
    const data = join(root, 'short-labels');
    mkdirSync(data);
    for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join(FIXTURE, f), join(data, f));
    const labels = gunzipSync(readFileSync(join(FIXTURE, 'train-labels-idx1-ubyte.gz')));
    labels.writeUInt32BE(labels.readUInt32BE(4) - 1, 4);
    writeFileSync(join(data, 'train-labels-idx1-ubyte.gz'), gzipSync(labels.subarray(0, labels.length - 1)));
    const fresh = join(root, 'fresh');
    const r = await cli(['run', ...tiny, '--optimizers', 'sgd', '--data-dir', data, '--dataset', 'short-set', '--out', fresh]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /label/i);
    assert.equal(existsSync(fresh), false, `${fresh} is left behind: ${existsSync(fresh) ? readdirSync(fresh).join(', ') : ''}`);
    const given = join(root, 'given');
    mkdirSync(given);
    const again = await cli(['run', ...tiny, '--optimizers', 'sgd', '--data-dir', data, '--dataset', 'short-set', '--out', given]);
    assert.notEqual(again.code, 0);
    assert.ok(existsSync(given), 'the directory the user made is still there');
    assert.deepEqual(readdirSync(given), [], '... and holds nothing of this command');
  });

  it('sgd and sgd:lr=1e9 are told apart in progress lines, the --json summary and the CSV export; runs counts a grid under way', async () => {
    const out = join(root, 'two-sgds');
    const r = await cli(['run', ...tiny, '--optimizers', 'sgd,sgd:lr=1e9', ...fixtureData, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /run 1\/2 fcnn\/sgd\/s0 on cpu/);
    assert.match(r.stderr, /run 2\/2 fcnn\/sgd:lr=1e9\/s0 on cpu/);
    const summary = JSON.parse(r.stdout) as { runs: { optimizer: string; overrides: Record<string, number>; label: string; status: string }[] };
    assert.deepEqual(
      summary.runs.map((x) => [x.optimizer, x.overrides, x.label]),
      [
        ['sgd', {}, 'fcnn/sgd/s0'],
        ['sgd', { lr: 1e9 }, 'fcnn/sgd:lr=1e9/s0'],
      ],
    );
    const csv = await cli(['export', out, '--format', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.deepEqual([...new Set(csvParse(csv.stdout).map((row) => row['label']))].sort(), ['fcnn/sgd/s0', 'fcnn/sgd:lr=1e9/s0']);
    // A grid under way plans three runs (grid.json) while the store has seen two: runs counts three.
    const grid = JSON.parse(readFileSync(join(out, 'grid.json'), 'utf8')) as { specs: RunSpec[] };
    const third: RunSpec = { ...grid.specs[0]!, optimizer: { ...grid.specs[0]!.optimizer, name: 'adam' } };
    writeFileSync(join(out, 'grid.json'), JSON.stringify({ ...grid, specs: [...grid.specs, third] }));
    const runs = await cli(['runs', out]);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^3 runs: 1 done, 1 pending, 1 failed$/m);
    assert.match(runs.stdout, /fcnn\/adam\/s0\s+pending\s+0\/1.*not started/);
    const json = JSON.parse((await cli(['runs', out, '--json'])).stdout) as { runs: { runId: string; status: string }[] };
    assert.deepEqual(json.runs.find((x) => x.runId === runId(third))?.status, 'pending');
  });
});
