/**
 * A spec is checked against what trains: its data set (name, and contents where the name does not pin
 * them) and its backend. Before these checks a plan saying fashion-mnist trained on the fixture without a
 * word (its records said fashion-mnist, the report compared 49 % with the study's 88.65 %, and a later real
 * run skipped it as finished), `backend: 'cpu'` trained on native, and two data sets loaded one after the
 * other through one grid gave their trainings the same run id.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, concatMap, from, lastValueFrom, of, toArray, type Observable } from 'rxjs';
import { useBackend } from '../lib/backend/index.js';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { dataDigest, isPinned, PINNED } from '../lib/data/identity.js';
import { loadDataset, loadFashion$ } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import type { OptbenchError } from '../lib/errors.js';
import type { GridEvent, RunEvent } from '../lib/train/events.js';
import { runFit } from '../lib/train/fit.js';
import type { GridPlan } from '../lib/train/plan.js';
import { createRuntime } from '../lib/train/runtime.js';
import { trainGrid } from '../lib/train/train-grid.js';
import type { RunTrainer } from '../lib/train/trainer.js';
import { loadFixture } from './support/fixture.js';
import { requireNative } from './support/native.js';

const FIXTURE = 'fixtures/fashion-mini';
const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** A directory holding the fixture's files, under another data set's name, with one training label changed if `alter`. */
const copyOfFixture = (alter: boolean): string => {
  const dir = mkdtempSync(join(tmpdir(), 'optbench-data-'));
  for (const f of FILES) copyFileSync(join(FIXTURE, f), join(dir, f));
  if (alter) {
    const labels = gunzipSync(readFileSync(join(FIXTURE, FILES[1]!)));
    labels[8] = (labels[8]! + 1) % 10; // the first label, after the 8-byte header
    writeFileSync(join(dir, FILES[1]!), gzipSync(labels));
  }
  return dir;
};

const plan = (over: Partial<GridPlan> = {}): GridPlan => ({
  dataset: 'fashion-mnist',
  models: ['fcnn'],
  optimizers: [{ name: 'sgd' }],
  preset: 'tfkeras2',
  seeds: 1,
  epochs: 1,
  batchSize: 50,
  backend: 'cpu',
  subset: 50,
  testSubset: 50,
  ...over,
});

/** A trainer that records what it was asked to train and trains nothing. */
const recording = (): { trainer: RunTrainer; asked: RunSpec[] } => {
  const asked: RunSpec[] = [];
  return { asked, trainer: (spec) => (asked.push(spec), EMPTY) };
};

const outcome = <T>(o: Observable<T>): Promise<E.Either<OptbenchError, T[]>> =>
  lastValueFrom(o.pipe(toArray())).then(E.right, (e: OptbenchError) => E.left(e));

describe('a spec is checked against what trains', function () {
  let mini: Dataset;
  const dirs: string[] = [];
  before(async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    mini = await loadFixture();
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("trainGrid refuses a plan naming fashion-mnist fed the fixture, naming both, before a run starts", async () => {
    const { trainer, asked } = recording();
    const r = await outcome(of(mini).pipe(trainGrid(plan(), { trainer })));
    assert.ok(E.isLeft(r), 'refused');
    assert.equal(r.left._tag, 'InvalidConfig');
    assert.equal((r.left as { path: string }).path, 'dataset');
    assert.match(r.left.message, /says dataset 'fashion-mnist' but the data it is given is 'fashion-mini'/);
    assert.equal(asked.length, 0, 'nothing trained');
  });

  it('runFit refuses a hand-built data set that claims a pinned name its contents are not', async () => {
    const fake: Dataset = { ...mini, name: 'fashion-mnist' };
    const spec: RunSpec = { dataset: 'fashion-mnist', model: 'fcnn', optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} }, seed: 0, epochs: 1, batchSize: 50, backend: 'cpu', subset: 50 };
    const r = await outcome(runFit(spec, fake));
    assert.ok(E.isLeft(r) && r.left._tag === 'InvalidConfig' && /is not it: train-images-idx3-ubyte/.test(r.left.message), JSON.stringify(r));
  });

  it('two data sets under one unpinned name: a plan gives each its own digest and run ids; a spec for one refuses the other', async () => {
    const a = copyOfFixture(false);
    const b = copyOfFixture(true);
    dirs.push(a, b);
    assert.ok(!isPinned('my-set'));
    const { trainer } = recording();
    const p = plan({ dataset: 'my-set' });
    const events = await lastValueFrom(
      from([{ dir: a, dataset: 'my-set' }, { dir: b, dataset: 'my-set' }]).pipe(
        concatMap((cfg) => loadFashion$(cfg)),
        trainGrid(p, { trainer }),
        toArray(),
      ),
    );
    const grids = events.filter((e): e is Extract<GridEvent, { type: 'GridStarted' }> => e.type === 'GridStarted');
    assert.equal(grids.length, 2);
    const [sa, sb] = grids.map((g) => g.specs[0]!);
    assert.ok(sa!.data !== undefined && sb!.data !== undefined && sa!.data !== sb!.data, `digests ${sa!.data} and ${sb!.data}`);
    assert.notEqual(runId(sa!), runId(sb!), 'two data sets, two run ids');
    // Specs planned on A, fed B: refused, naming both digests.
    const dataB = E.getOrElseW((e: OptbenchError) => assert.fail(e.message))(await loadDataset({ dir: b, dataset: 'my-set' }));
    const r = await outcome(of(dataB).pipe(trainGrid([sa!], { trainer })));
    assert.ok(E.isLeft(r) && (r.left as { path: string }).path === 'data', JSON.stringify(r));
    assert.ok(r.left.message.includes(sa!.data!) && r.left.message.includes(dataDigest(dataB.md5)), r.left.message);
    // The fixture's own name pins it: its specs carry no digest, and keep the ids they always had.
    const g = await lastValueFrom(of(mini).pipe(trainGrid(plan({ dataset: 'fashion-mini' }), { trainer }), toArray()));
    const s = (g[0] as Extract<GridEvent, { type: 'GridStarted' }>).specs[0]!;
    assert.ok(!('data' in s));
    assert.deepEqual(mini.md5, PINNED['fashion-mini']);
  });

  describe('the backend', function () {
    let previous: string;
    before(async () => {
      previous = await requireNative();
    });
    after(async () => {
      await tf.setBackend(previous);
    });

    const spec = (backend: string): RunSpec => ({
      dataset: 'fashion-mini',
      model: 'fcnn',
      optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} },
      seed: 0,
      epochs: 1,
      batchSize: 50,
      backend,
      subset: 50,
    });

    it("runFit refuses a spec saying 'cpu' while native would train it, naming both", async () => {
      assert.ok(E.isRight(await useBackend('native')));
      const r = await outcome(runFit(spec('cpu'), mini));
      assert.ok(E.isLeft(r) && r.left._tag === 'InvalidConfig' && (r.left as { path: string }).path === 'backend', JSON.stringify(r));
      assert.match(r.left.message, /says backend 'cpu' but it would be computed by 'native'/);
    });

    it('runFit refuses a runtime made for another backend than the active one', async () => {
      assert.ok(E.isRight(await useBackend('native')));
      const runtime = E.getOrElseW(() => assert.fail('runtime'))(createRuntime());
      assert.equal(runtime.backend, 'native');
      assert.ok(E.isRight(await useBackend('cpu')));
      const r = await outcome(runFit(spec('cpu'), mini, { runtime }));
      assert.ok(E.isLeft(r) && (r.left as { path: string }).path === 'runtime.backend', JSON.stringify(r));
      const ok = await outcome(runFit(spec('cpu'), mini, { runtime: E.getOrElseW(() => assert.fail('runtime'))(createRuntime()) }));
      assert.ok(E.isRight(ok) && ok.right.some((e: RunEvent) => e.type === 'RunEnded'), 'a runtime made for cpu trains it');
    });
  });
});
