/**
 * Runs across processes through the queue, end to end, each test on a redis-server of its own: a
 * coordinator and two workers with one SIGKILLed mid-epoch, Redis killed and restarted mid-grid (AOF), a
 * coordinator interrupted and re-run, a worker stopped by SIGTERM mid-run. In each, the runs' epochs must equal those of the same grid trained
 * locally (same backend), with no epoch stored twice. Also: a worker with other data files refuses, a
 * malformed job is rejected, a wrong password is a clear error, and a step far longer than the lock
 * does not get a healthy worker declared stalled (while a blocked event loop does).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, copyFileSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { Queue, QueueEvents, Worker } from 'bullmq';
import * as E from 'fp-ts/lib/Either.js';
import { Redis } from 'ioredis';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { connectQueue } from '../lib/queue/client.js';
import { dataIdentity } from '../lib/queue/data-identity.js';
import { jobFor } from '../lib/queue/job.js';
import { PREFIX, QUEUE_NAME, runKeys, startAttempt } from '../lib/queue/records.js';
import { queueTrainer, submitRuns } from '../lib/queue/trainer.js';
import type { Dataset } from '../lib/data/types.js';
import { lastValueFrom, toArray } from 'rxjs';
import { startWorker } from '../lib/queue/worker.js';
import { openStore, storePath } from '../lib/store/store.js';
import { planGrid } from '../lib/train/plan.js';
import { FIXTURE, cli, sleep, start, type Child } from './support/cli.js';
import { startRedis, type TestRedis } from './support/redis.js';

const OPTIMIZERS = ['adam', 'sgd'];
const EPOCHS = 3;
/** 500 fixture images in batches of 10: 50 native steps per epoch, long enough to be killed inside one. */
const gridArgs = (out: string, queue?: string): string[] => [
  'run', '--models', 'fcnn', '--optimizers', OPTIMIZERS.join(','), '--epochs', String(EPOCHS),
  '--subset', '500', '--test-subset', '150', '--batch-size', '10',
  '--data-dir', FIXTURE, '--dataset', 'fashion-mini', '--backend', 'native', '--out', out, '--no-report',
  ...(queue !== undefined ? ['--queue', queue] : []),
];
const specs: RunSpec[] = E.getOrElseW((e: { message: string }) => assert.fail(e.message))(planGrid({
  dataset: 'fashion-mini', models: ['fcnn'], optimizers: OPTIMIZERS.map((name) => ({ name })), preset: 'tfkeras2',
  seeds: 1, epochs: EPOCHS, batchSize: 10, backend: 'native', subset: 500, testSubset: 150,
}));
const ids = specs.map(runId);

/** A dead worker's run moves on within seconds here (30 s by default). */
const FAST_LOCKS = { OPTBENCH_QUEUE_LOCK_MS: '2000', OPTBENCH_QUEUE_STALLED_MS: '1000' };
const worker = (url: string, name: string, dataDir = FIXTURE): Child =>
  start(['worker', '--queue', url, '--data-dir', dataDir, '--name', name], FAST_LOCKS);

type Metrics = { epoch: number; train: unknown; test: unknown }[];
/** Every run's epochs (metrics only, not timings), and a check that none is stored twice. */
const storedEpochs = (out: string): Map<string, Metrics> => {
  const db = new Database(storePath(out), { readonly: true });
  try {
    const dup = db.prepare('SELECT run_id, epoch, COUNT(*) AS n FROM epochs GROUP BY run_id, epoch HAVING n > 1').all();
    assert.deepEqual(dup, [], 'an epoch is stored twice');
  } finally {
    db.close();
  }
  const store = openStore(storePath(out), { mustExist: true });
  assert.ok(E.isRight(store));
  try {
    const runs = E.getOrElseW(() => assert.fail('cannot list runs'))(store.right.listRuns());
    const m = new Map<string, Metrics>();
    for (const r of runs) {
      assert.equal(r.status, 'done', `${r.label}: ${r.error?.message ?? r.status}`);
      const epochs = E.getOrElseW(() => assert.fail('cannot read epochs'))(store.right.runEpochs(r.runId));
      m.set(r.runId, epochs.map((e) => ({ epoch: e.epoch, train: e.train, test: e.test })));
    }
    return m;
  } finally {
    store.right.close();
  }
};

/** A run's recorded events in Redis: each epoch once, one end. */
const recorded = async (redis: Redis, id: string) => {
  const entries = await redis.xrange(runKeys(id).events, '-', '+');
  const events = entries.map(([, f]) => JSON.parse(f[1]!) as { type: string; epoch?: number; fromEpoch?: number });
  const epochs = events.filter((e) => e.type === 'EpochEnded').map((e) => e.epoch);
  assert.deepEqual(epochs, Array.from({ length: EPOCHS }, (_, i) => i + 1), `run ${id}: epochs recorded ${epochs.join(',')}`);
  assert.equal(events.filter((e) => e.type === 'RunEnded' || e.type === 'RunFailed').length, 1, `run ${id} ended more than once`);
  return events;
};

const waitFor = async (what: string, cond: () => Promise<boolean>, timeoutMs = 240_000, children: Child[] = []): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    for (const c of children)
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) throw new Error(`a process ended before ${what}:\n${c.stderr}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(30);
  }
};

/** The first run whose first epoch is committed while it trains on: a worker holding it is inside epoch 2. */
const runInSecondEpoch = async (r: Redis, children: Child[]): Promise<string> => {
  let found = '';
  await waitFor(
    'a run in its second epoch',
    async () => {
      for (const id of ids) {
        const m = await r.hgetall(runKeys(id).meta);
        if (m.epochs === '1' && m.terminal === undefined && m.worker) {
          found = id;
          return true;
        }
      }
      return false;
    },
    240_000,
    children,
  );
  return found;
};

const stopWorker = async (w: Child): Promise<void> => {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  w.proc.kill('SIGTERM');
  const { code } = await w.exit;
  assert.equal(code, 0, `a worker asked to stop exits 0:\n${w.stderr}`);
};

describe('the queue, across processes', function () {
  this.timeout(600_000);
  let tmp: string;
  let local: Map<string, Metrics>;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-queue-'));
    // The reference: the same grid trained in one process.
    const r = await cli(gridArgs(join(tmp, 'local')));
    assert.equal(r.code, 0, r.stderr);
    local = storedEpochs(join(tmp, 'local'));
    assert.equal(local.size, specs.length);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a worker SIGKILLed mid-epoch loses only that epoch: another resumes, and every run equals the local grid', async () => {
    const redis = await startRedis();
    const r = new Redis(redis.url);
    const w1 = worker(redis.url, 'w1');
    const w2 = worker(redis.url, 'w2');
    try {
      const out = join(tmp, 'killed');
      const coord = start(gridArgs(out, redis.url));
      // The first run to commit its first epoch is inside its second: kill its worker there.
      const victim = await runInSecondEpoch(r, [coord, w1, w2]);
      const holder = (await r.hget(runKeys(victim).meta, 'worker')) === 'w1' ? w1 : w2;
      const survivor = holder === w1 ? w2 : w1;
      holder.proc.kill('SIGKILL');
      await holder.exit;
      const done = await coord.exit;
      assert.equal(done.code, 0, coord.stderr);
      assert.deepEqual(storedEpochs(out), local);
      for (const id of ids) await recorded(r, id);
      // The victim was resumed after its first epoch by the other worker, not restarted.
      const events = await recorded(r, victim);
      const starts = events.filter((e) => e.type === 'RunStarted').map((e) => e.fromEpoch);
      assert.deepEqual(starts, [0, 1], `RunStarted of the killed run: ${starts.join(',')}`);
      assert.equal(await r.hget(runKeys(victim).meta, 'worker'), survivor === w1 ? 'w1' : 'w2');
      // The killed worker's training process did not outlive it.
      const pid = Number(new RegExp(`\\(${victim}\\): starting in training process (\\d+)`).exec(holder.stderr)?.[1]);
      assert.ok(pid > 0, holder.stderr);
      await waitFor('the orphaned training process to exit', async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 60_000);
      await stopWorker(survivor);
    } finally {
      for (const w of [w1, w2]) w.proc.kill('SIGKILL');
      r.disconnect();
      await redis.stop();
    }
  });

  it('a worker asked to stop (SIGTERM) mid-epoch hands its run back at once and exits 0; another continues it from the last epoch', async () => {
    const redis = await startRedis();
    const r = new Redis(redis.url);
    // Locks far longer than the test: if the run went back to the queue only when its lock expired, the
    // second worker could not get it in time. It goes back because the stopping worker moves it back.
    const SLOW_LOCKS = { OPTBENCH_QUEUE_LOCK_MS: '600000', OPTBENCH_QUEUE_STALLED_MS: '600000' };
    const w1 = start(['worker', '--queue', redis.url, '--data-dir', FIXTURE, '--name', 'w1'], SLOW_LOCKS);
    let w2: Child | undefined;
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection, prefix: PREFIX });
    try {
      const out = join(tmp, 'stopped');
      const coord = start(gridArgs(out, redis.url));
      const victim = await runInSecondEpoch(r, [coord, w1]);
      assert.equal(await r.hget(runKeys(victim).meta, 'worker'), 'w1');
      w1.proc.kill('SIGTERM');
      const stopped = await w1.exit;
      assert.equal(stopped.code, 0, `a worker stopped by SIGTERM exits 0:\n${w1.stderr}`);
      assert.match(w1.stderr, /stopping after the current step/);
      const job = await queue.getJob(victim);
      assert.ok(job !== undefined, 'the run is still on the queue');
      const state = await job.getState();
      assert.ok(['waiting', 'prioritized'].includes(state), `the stopped run is back on the queue, not ${state}`);
      w2 = start(['worker', '--queue', redis.url, '--data-dir', FIXTURE, '--name', 'w2'], SLOW_LOCKS);
      const done = await coord.exit;
      assert.equal(done.code, 0, coord.stderr);
      assert.deepEqual(storedEpochs(out), local);
      // Resumed from the checkpoint of its first epoch, not restarted, and its first epoch not trained twice.
      const events = await recorded(r, victim);
      const starts = events.filter((e) => e.type === 'RunStarted').map((e) => e.fromEpoch);
      assert.deepEqual(starts, [0, 1], `RunStarted of the stopped run: ${starts.join(',')}`);
      await stopWorker(w2);
    } finally {
      w1.proc.kill('SIGKILL');
      w2?.proc.kill('SIGKILL');
      await queue.close();
      // BullMQ leaves a connection it was given open.
      connection.disconnect();
      r.disconnect();
      await redis.stop();
    }
  });

  it('Redis killed and restarted mid-grid (append-only file on): the grid completes, nothing lost or doubled', async () => {
    const redis = await startRedis({ aof: true });
    const r = new Redis(redis.url, { retryStrategy: () => 200, maxRetriesPerRequest: null });
    r.on('error', () => undefined);
    const w1 = worker(redis.url, 'w1');
    try {
      const out = join(tmp, 'restarted');
      const coord = start(gridArgs(out, redis.url));
      await waitFor('the first epoch', async () => (await r.hget(runKeys(ids[0]!).meta, 'epochs')) !== null, 240_000, [coord, w1]);
      await redis.kill();
      await sleep(1500);
      await redis.restart();
      const done = await coord.exit;
      assert.equal(done.code, 0, coord.stderr);
      assert.match(coord.stderr, /lost the connection to Redis/);
      assert.deepEqual(storedEpochs(out), local);
      for (const id of ids) await recorded(r, id);
      await stopWorker(w1);
    } finally {
      w1.proc.kill('SIGKILL');
      r.disconnect();
      await redis.stop();
    }
  });

  it('a coordinator interrupted and run again collects the runs: nothing is trained twice', async () => {
    const redis = await startRedis();
    const r = new Redis(redis.url);
    const w1 = worker(redis.url, 'w1');
    try {
      const out = join(tmp, 'reattached');
      const first = start(gridArgs(out, redis.url));
      await waitFor('the coordinator to follow a run', async () => /epoch 1\/3/.test(first.stderr), 240_000, [first, w1]);
      first.proc.kill('SIGINT');
      const stopped = await first.exit;
      assert.equal(stopped.code, 130, first.stderr);
      // The runs stay on the queue; the worker goes on with them meanwhile.
      const again = await cli(gridArgs(out, redis.url));
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(storedEpochs(out), local);
      for (const id of ids) {
        const events = await recorded(r, id);
        assert.equal(events.filter((e) => e.type === 'RunStarted').length, 1, `run ${id} was trained more than once`);
        assert.equal(await r.hget(runKeys(id).meta, 'attempt'), '1');
      }
      await stopWorker(w1);
    } finally {
      w1.proc.kill('SIGKILL');
      r.disconnect();
      await redis.stop();
    }
  });

  it('a plan larger than the data is fitted before any run is submitted: one job per run, with the sizes it records', async () => {
    const redis = await startRedis();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: conn, prefix: PREFIX });
    const w1 = worker(redis.url, 'w1');
    try {
      const out = join(tmp, 'fitted');
      // 500 training images in the fixture: --subset 100000 is fitted down to them.
      const args = gridArgs(out, redis.url).map((a, i, all) =>
        all[i - 1] === '--subset' ? '100000' : all[i - 1] === '--epochs' ? '1' : a,
      );
      const r = await cli(args);
      assert.equal(r.code, 0, r.stderr);
      const store = openStore(storePath(out), { mustExist: true });
      assert.ok(E.isRight(store));
      const runs = E.getOrElseW(() => assert.fail('cannot list runs'))(store.right.listRuns());
      store.right.close();
      assert.equal(runs.length, OPTIMIZERS.length);
      const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized']);
      assert.deepEqual(
        jobs.map((j) => j.id).sort(),
        runs.map((run) => run.runId).sort(),
        'the queue holds exactly the runs the store recorded, no job with the unfitted plan',
      );
      for (const j of jobs) assert.ok((j.data as { spec: RunSpec }).spec.subset !== 100000, `job ${j.id} carries the unfitted subset`);
      await stopWorker(w1);
    } finally {
      w1.proc.kill('SIGKILL');
      await queue.close();
      conn.disconnect();
      await redis.stop();
    }
  });
});

describe('ASHA over the queue', function () {
  this.timeout(600_000);

  it("trains a rung's trials on two workers at once, promotes from the coordinator, and chooses as a local sweep does", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'optbench-queue-asha-'));
    const redis = await startRedis();
    const sweep = (out: string, queue?: string): string[] => [
      'sweep', '--model', 'fcnn', '--optimizer', 'adam', '--space', 'lr=log(1e-3,1e-1)', '--strategy', 'asha', '--trials', '4',
      '--eta', '2', '--min-epochs', '1', '--epochs', '2', '--seeds', '1', '--holdout', '50', '--subset', '200', '--test-subset', '50',
      '--batch-size', '20', '--backend', 'native', '--dataset', 'fashion-mini', '--data-dir', FIXTURE, '--out', out, '--json', '--no-report',
      ...(queue !== undefined ? ['--queue', queue] : []),
    ];
    const w1 = worker(redis.url, 'w1');
    const w2 = worker(redis.url, 'w2');
    try {
      const local = await cli(sweep(join(tmp, 'local')));
      assert.equal(local.code, 0, local.stderr);
      const queued = await cli(sweep(join(tmp, 'queued'), redis.url));
      assert.equal(queued.code, 0, queued.stderr);
      // The same trials, the same validation metrics, the same choice and final run.
      assert.deepEqual(JSON.parse(queued.stdout), JSON.parse(local.stdout));
      // The first rung's four trials were spread over both workers, and promoted trials resumed after it.
      for (const w of [w1, w2]) assert.match(w.stderr, /paused after epoch 1/, w.stderr);
      assert.match(w1.stderr + w2.stderr, /resuming after epoch 1/);
      await stopWorker(w1);
      await stopWorker(w2);
    } finally {
      for (const w of [w1, w2]) w.proc.kill('SIGKILL');
      await redis.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('the queue refuses', function () {
  this.timeout(300_000);
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis({ password: 'correct horse' });
  });
  after(async () => redis.stop());

  it('a wrong password or none, with a clear error that does not print it', async () => {
    const url = redis.url.replace(encodeURIComponent('correct horse'), 'wrong');
    const r = await cli(['queue', 'status', '--queue', url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the password in --queue redis:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong/);
    const none = await connectQueue(`redis://127.0.0.1:${redis.port}`, { persistent: false });
    assert.ok(E.isLeft(none));
    assert.match(none.left.message, /needs a password/);
    const ok = await cli(['queue', 'status', '--queue', redis.url, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).counts, { waiting: 0, active: 0, completed: 0, failed: 0 });
  });

  it('a job, in a worker whose data files differ: handed back untouched, and the worker stops', async () => {
    const other = mkdtempSync(join(tmpdir(), 'optbench-otherdata-'));
    const client = await connectQueue(redis.url, { persistent: false });
    assert.ok(E.isRight(client));
    try {
      for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join(FIXTURE, f), join(other, f));
      const labels = gunzipSync(readFileSync(join(FIXTURE, 'train-labels-idx1-ubyte.gz')));
      labels[8] = (labels[8]! + 1) % 10;
      writeFileSync(join(other, 'train-labels-idx1-ubyte'), labels);
      const identity = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
      assert.ok(E.isRight(identity));
      await submitRuns(client.right, [specs[0]!], identity.right.identity);
      const w = worker(redis.url, 'wrong-data', other);
      const { code } = await w.exit;
      assert.equal(code, 1, w.stderr);
      assert.match(w.stderr, /differs from the coordinator's: .*train-labels-idx1-ubyte/);
      const job = await client.right.queue.getJob(ids[0]!);
      assert.ok(job);
      assert.match(await job.getState(), /waiting|prioritized/);
      assert.deepEqual(await client.right.redis.hgetall(runKeys(ids[0]!).meta), {}, 'the refused run was started');
      assert.equal(await client.right.redis.exists(runKeys(ids[0]!).events), 0);
      const status = await cli(['queue', 'status', '--queue', redis.url, '--json']);
      const s = JSON.parse(status.stdout) as { refusals: { worker: string; message: string }[] };
      assert.equal(s.refusals.at(-1)?.worker, 'wrong-data');
      const cleaned = await cli(['queue', 'clean', '--queue', redis.url, '--json']);
      assert.equal(cleaned.code, 0, cleaned.stderr);
    } finally {
      await client.right.queue.obliterate({ force: true });
      await client.right.close();
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a job naming a data set no worker has fails alone, with the reason in queue status, and the worker goes on serving', async () => {
    const client = await connectQueue(redis.url, { persistent: false });
    assert.ok(E.isRight(client));
    const out = mkdtempSync(join(tmpdir(), 'optbench-queue-missing-'));
    try {
      const identity = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
      assert.ok(E.isRight(identity));
      // A run of a data set this worker has no files of, then a good run.
      const missing: RunSpec = { ...specs[0]!, dataset: 'no-such-set', data: '0123456789abcdef', epochs: 1 };
      // (A spec no other test trains: a run's record outlives the queue's jobs, and the test of lost runs
      // below must find its run untrained.)
      const good: RunSpec = { ...specs[1]!, epochs: 1, subset: 50, batchSize: 25 };
      await submitRuns(client.right, [missing], { ...identity.right.identity, name: 'no-such-set' });
      await submitRuns(client.right, [good], identity.right.identity);
      // The worker finds its data sets by name (no --data-dir): fashion-mini in its cache, no-such-set nowhere.
      const cache = join(out, 'cache');
      mkdirSync(join(cache, 'optbench', 'fashion-mini'), { recursive: true });
      for (const f of readdirSync(FIXTURE)) copyFileSync(join(FIXTURE, f), join(cache, 'optbench', 'fashion-mini', f));
      const w = start(['worker', '--queue', redis.url, '--name', 'serves-on'], { ...FAST_LOCKS, XDG_CACHE_HOME: cache, OPTBENCH_DATA: '' });
      const data = { name: 'fashion-mini', dir: FIXTURE } as Dataset;
      const bad = await lastValueFrom(queueTrainer(client.right)(missing, { ...data, name: 'no-such-set' }, { index: 1, total: 2, evaluation: {}, untilEpoch: 1 }).pipe(toArray()));
      const fine = await lastValueFrom(queueTrainer(client.right)(good, data, { index: 2, total: 2, evaluation: {}, untilEpoch: 1 }).pipe(toArray()));
      const last = bad.at(-1);
      assert.ok(last?.type === 'RunFailed', JSON.stringify(bad));
      assert.match(last.error.message, /no-such-set/);
      assert.equal(fine.at(-1)?.type, 'RunEnded', 'the same worker trained the next run');
      assert.equal(w.proc.exitCode, null, `the worker is still serving:\n${w.stderr}`);
      const status = await cli(['queue', 'status', '--queue', redis.url, '--json']);
      const st = JSON.parse(status.stdout) as { refusals: { worker: string; outcome?: string; message: string }[]; failed: { runId: string; reason?: string }[] };
      assert.deepEqual([st.refusals.at(-1)?.worker, st.refusals.at(-1)?.outcome], ['serves-on', 'failed']);
      assert.ok(st.failed.some((f) => f.runId === runId(missing) && /no-such-set/.test(f.reason ?? '')), JSON.stringify(st.failed));
      await stopWorker(w);
    } finally {
      await client.right.queue.obliterate({ force: true });
      await client.right.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('optbench run --precision bf16 --queue: the job carries the precision and the worker trains it in bf16', async () => {
    const out = mkdtempSync(join(tmpdir(), 'optbench-queue-bf16-'));
    const w = worker(redis.url, 'bf16');
    try {
      const r = await cli([
        'run', '--models', 'fcnn', '--optimizers', 'sgd', '--epochs', '1', '--subset', '50', '--test-subset', '50', '--batch-size', '25',
        '--data-dir', FIXTURE, '--dataset', 'fashion-mini', '--backend', 'native', '--precision', 'bf16', '--out', out, '--no-report',
        '--queue', redis.url, '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { runs: { status: string }[] };
      assert.deepEqual(summary.runs.map((x) => x.status), ['done'], r.stderr);
      const grid = JSON.parse(readFileSync(join(out, 'grid.json'), 'utf8')) as { specs: RunSpec[] };
      assert.equal(grid.specs[0]!.precision, 'bf16');
    } finally {
      await stopWorker(w);
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('a run lost by too many workers: RunFailed{WorkerLost} with the count, reported once to the coordinator', async () => {
    const client = await connectQueue(redis.url, { persistent: false });
    assert.ok(E.isRight(client));
    const spec = { ...specs[1]!, epochs: 1, subset: 50, batchSize: 50 };
    const id = runId(spec);
    const identity = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
    assert.ok(E.isRight(identity));
    try {
      await submitRuns(client.right, [spec], identity.right.identity);
      // Three workers took the run and died without a word (as a SIGKILL leaves it).
      for (let i = 0; i < 3; i++) await startAttempt(client.right.redis, id, `ghost-${i}`);
      const w = await startWorker({ url: redis.url, dataDir: FIXTURE, name: 'fourth', maxLost: 3, log: () => undefined });
      assert.ok(E.isRight(w));
      const data = { name: 'fashion-mini', dir: FIXTURE } as Dataset;
      const events = await lastValueFrom(queueTrainer(client.right)(spec, data, { index: 1, total: 1, evaluation: {}, untilEpoch: 1 }).pipe(toArray()));
      await w.right.stop();
      assert.equal(events.length, 1, JSON.stringify(events));
      const failed = events[0]!;
      assert.ok(failed.type === 'RunFailed' && failed.error._tag === 'WorkerLost', JSON.stringify(failed));
      assert.equal(failed.error.attempts, 3);
      assert.match(failed.error.message, /lost by 3 workers/);
      // Nothing was trained by the fourth worker.
      assert.equal(await client.right.redis.hget(runKeys(id).meta, 'epochs'), '0');
    } finally {
      await client.right.queue.obliterate({ force: true });
      await client.right.close();
    }
  });

  it('malformed and hostile jobs, without effect, and goes on with good ones', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: conn, prefix: PREFIX });
    const identity = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
    assert.ok(E.isRight(identity));
    const good = jobFor({ ...specs[0]!, epochs: 1, subset: 50, batchSize: 50 }, identity.right.identity);
    const hostile: Record<string, unknown> = {
      'bad-path': { ...good, data: { ...good.data, name: '../../../../tmp/optbench-hostile' } },
      'bad-code': { ...good, spec: { ...good.spec, model: 'require("child_process").execSync("touch /tmp/optbench-hostile")' } },
      'bad-shape': { hello: 'world' },
      // A well-formed job under another run's id: it could overwrite that run's records.
      [ids[1]!]: good,
    };
    for (const [jobId, data] of Object.entries(hostile)) await queue.add('run', data, { jobId });
    await queue.add('run', good, { jobId: runId(good.spec) });
    const w = await startWorker({ url: redis.url, dataDir: FIXTURE, name: 'careful', log: () => undefined });
    assert.ok(E.isRight(w));
    try {
      await waitFor('every job to be judged', async () => {
        const c = await queue.getJobCounts('failed', 'completed');
        return (c.failed ?? 0) + (c.completed ?? 0) === 5;
      });
      for (const jobId of Object.keys(hostile)) {
        const job = await queue.getJob(jobId);
        assert.equal(await job!.getState(), 'failed', jobId);
        assert.match(job!.failedReason, /Invalid job|Refused job/, job!.failedReason);
        assert.equal(job!.attemptsMade, 1, 'a malformed job is not retried');
        assert.deepEqual(await conn.hgetall(runKeys(jobId).meta), {});
      }
      const ok = await queue.getJob(runId(good.spec));
      assert.equal(await ok!.getState(), 'completed');
      assert.throws(() => readFileSync('/tmp/optbench-hostile'));
    } finally {
      await w.right.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      conn.disconnect();
    }
  });
});

describe('locks and long steps', function () {
  this.timeout(300_000);
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis.stop());

  /** BullMQ's verdict on one job under a 500 ms lock checked every 250 ms, with no second chance. */
  const TIGHT = { lockDurationMs: 500, stalledIntervalMs: 250 };

  it('a blocked event loop loses its lock under these settings (the control)', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('control', { connection: conn, prefix: PREFIX });
    const eventsConn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const workerConn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const events = new QueueEvents('control', { connection: eventsConn, prefix: PREFIX });
    await events.waitUntilReady();
    let stalled = false;
    events.on('stalled', () => (stalled = true));
    const w = new Worker(
      'control',
      async () => {
        const t0 = Date.now();
        while (Date.now() - t0 < 2000); // a kernel holding this thread
        return 'done';
      },
      { connection: workerConn, prefix: PREFIX, lockDuration: TIGHT.lockDurationMs, stalledInterval: TIGHT.stalledIntervalMs, maxStalledCount: 0 },
    );
    w.on('error', () => undefined);
    try {
      await queue.add('x', {}, { jobId: 'blocked' });
      await waitFor('the blocked job to be judged stalled', async () => stalled || (await queue.getJob('blocked'))?.failedReason?.includes('stalled') === true, 60_000);
    } finally {
      await w.close(true);
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      for (const c of [conn, eventsConn, workerConn]) c.disconnect();
    }
  });

  it('a healthy worker on a step far longer than its lock is never declared stalled', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: conn, prefix: PREFIX });
    const eventsConn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsConn, prefix: PREFIX });
    await events.waitUntilReady();
    let stalled = 0;
    events.on('stalled', () => stalled++);
    const identity = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
    assert.ok(E.isRight(identity));
    // BCNN on the JavaScript cpu backend: one step over 100 images takes seconds, all in one kernel call chain.
    const spec: RunSpec = {
      dataset: 'fashion-mini', model: 'bcnn', optimizer: { name: 'adam', preset: 'tfkeras2', overrides: {} },
      seed: 0, epochs: 1, batchSize: 100, backend: 'cpu', subset: 100, testSubset: 10,
    };
    const w = await startWorker({ url: redis.url, dataDir: FIXTURE, name: 'long-steps', ...TIGHT, log: () => undefined });
    assert.ok(E.isRight(w));
    try {
      await queue.add('run', jobFor(spec, identity.right.identity), { jobId: runId(spec) });
      await waitFor('the long run to end', async () => /completed|failed/.test(await (await queue.getJob(runId(spec)))!.getState()), 240_000);
      const job = await queue.getJob(runId(spec));
      assert.equal(await job!.getState(), 'completed', job!.failedReason);
      const recordedEvents = (await conn.xrange(runKeys(runId(spec)).events, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { type: string; trainMs?: number });
      const epoch = recordedEvents.find((e) => e.type === 'EpochEnded');
      assert.ok(epoch, JSON.stringify(recordedEvents));
      // The premise: the step really held its process for several lock periods.
      assert.ok(epoch.trainMs! > 4 * TIGHT.lockDurationMs, `the step took only ${epoch.trainMs} ms`);
      assert.equal(stalled, 0, 'the worker was declared stalled');
      assert.equal(await conn.hget(runKeys(runId(spec)).meta, 'attempt'), '1', 'the run was taken from its worker');
    } finally {
      await w.right.stop();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      conn.disconnect();
      eventsConn.disconnect();
    }
  });
});
