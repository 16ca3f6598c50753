/**
 * The queue's pure parts: what a job may carry (io-ts, hostile input refused), queue URLs and what
 * Redis errors mean, the data identity, and the order the queue hands runs out in.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { compareIdentity, dataIdentity } from '../lib/queue/data-identity.js';
import { decodeJob, jobFor } from '../lib/queue/job.js';
import { explainRedisError, parseQueueUrl, redactUrl } from '../lib/queue/connection.js';
import { estimateRunSeconds, queuePriority } from '../lib/queue/cost.js';
import { FIXTURE } from './support/cli.js';

const spec: RunSpec = {
  dataset: 'fashion-mini',
  model: 'fcnn',
  optimizer: { name: 'adam', preset: 'tfkeras2', overrides: { lr: 0.001 } },
  seed: 3,
  epochs: 2,
  batchSize: 50,
  backend: 'native',
  subset: 100,
};
const md5 = { trainImages: 'a'.repeat(32), trainLabels: 'b'.repeat(32), testImages: 'c'.repeat(32), testLabels: 'd'.repeat(32) };
const good = jobFor(spec, { name: 'fashion-mini', md5 }, { evaluation: { batchSize: 100 } });

const refused = (id: string | undefined, data: unknown): string => {
  const d = decodeJob(id, data);
  assert.ok(E.isLeft(d), `expected the job to be refused: ${JSON.stringify(data)}`);
  return d.left.message;
};

describe('queue jobs', () => {
  it('decode to the same spec, under the run id', () => {
    const d = decodeJob(runId(spec), JSON.parse(JSON.stringify(good)));
    assert.ok(E.isRight(d));
    assert.deepEqual(d.right, good);
    assert.equal(runId(d.right.spec), runId(spec));
  });

  it('carry a learning-rate schedule whole, so that the worker trains (and ids) the run the coordinator planned', () => {
    const scheduled: RunSpec = { ...spec, optimizer: { ...spec.optimizer, schedule: { kind: 'cosine', warmupEpochs: 1 } } };
    const job = jobFor(scheduled, { name: 'fashion-mini', md5 }, { evaluation: null });
    const d = decodeJob(runId(scheduled), JSON.parse(JSON.stringify(job)));
    assert.ok(E.isRight(d), E.isLeft(d) ? d.left.message : '');
    assert.deepEqual(d.right.spec.optimizer.schedule, { kind: 'cosine', warmupEpochs: 1 });
    assert.notEqual(runId(d.right.spec), runId(spec));
    assert.match(refused(runId(scheduled), { ...job, spec: { ...job.spec, optimizer: { ...job.spec.optimizer, schedule: { kind: 'cyclic' } } } }), /spec\.optimizer\.schedule\.kind/);
  });

  it('refuse names that could be paths, and say which field', () => {
    for (const [field, value] of [
      ['dataset', '../../etc'],
      ['dataset', '/etc/passwd'],
      ['model', 'fcnn/../../x'],
      ['backend', '..'],
    ] as const) {
      const hostile = { ...good, spec: { ...good.spec, [field]: value } };
      const msg = refused(runId(hostile.spec as RunSpec), hostile);
      assert.match(msg, new RegExp(`spec\\.${field}`), msg);
    }
    assert.match(refused(runId(spec), { ...good, data: { ...good.data, name: '../x' } }), /data\.name/);
  });

  it('refuse a job under another run id, code instead of numbers, extra size or a wrong format', () => {
    assert.match(refused('0123456789abcdef', good), /not the run id of its spec/);
    assert.match(refused(undefined, good), /not the run id/);
    assert.match(refused(runId(spec), { ...good, spec: { ...spec, epochs: 'process.exit(1)' } }), /spec\.epochs/);
    assert.match(refused(runId(spec), { ...good, spec: { ...spec, optimizer: { ...spec.optimizer, overrides: { lr: 'require("fs")' } } } }), /overrides/);
    assert.match(refused(runId(spec), { ...good, spec: { ...spec, epochs: 1e9 } }), /spec\.epochs/);
    assert.match(refused(runId(spec), { ...good, format: 2 }), /format/);
    assert.match(refused(runId(spec), { ...good, data: { name: 'fashion-mini', md5: { ...md5, trainImages: 'zz' } } }), /md5/);
    assert.match(refused(runId(spec), { ...good, padding: 'x'.repeat(70_000) }), /bytes/);
    assert.match(refused(runId(spec), null), /job/);
  });

  it('refuse fields they do not know, in the job and in its spec, naming them, so a spec hashes as sent or is refused', () => {
    assert.equal(refused(runId(spec), { ...good, spec: { ...spec, evil: 1 } }).split(' is not one of its fields')[0], 'Invalid job: spec.evil');
    assert.equal(refused(runId(spec), { ...good, extra: true }).split(' is not one of its fields')[0], 'Invalid job: extra');
  });
});

describe('queue URLs', () => {
  it('take passwords and TLS, and never show a password', () => {
    const u = parseQueueUrl('rediss://:s3cret@cache.example:6380/2');
    assert.ok(E.isRight(u));
    assert.equal(u.right.tls, true);
    assert.equal(u.right.port, 6380);
    assert.equal(u.right.hasPassword, true);
    assert.doesNotMatch(u.right.shown, /s3cret/);
    assert.equal(redactUrl('redis://user:pw@h:1'), 'redis://user:***@h:1');
  });

  it('refuse what is not a Redis URL, saying how to write one', () => {
    for (const bad of ['localhost:6379', 'http://h:1', 'redis://h:1/x', 'redis://:pw@']) {
      const r = parseQueueUrl(bad);
      assert.ok(E.isLeft(r), bad);
      assert.match(r.left.message, /redis:\/\/HOST:PORT/);
    }
  });

  it('explain refused passwords and unreachable servers without the password', () => {
    const q = parseQueueUrl('redis://:wrong@127.0.0.1:1');
    assert.ok(E.isRight(q));
    const pw = explainRedisError(q.right, new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    assert.match(pw.message, /refused the password/);
    assert.doesNotMatch(pw.message, /wrong/);
    assert.match(explainRedisError(q.right, new Error('NOAUTH Authentication required.')).message, /needs a password/);
    assert.match(explainRedisError(q.right, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).message, /Cannot reach Redis at 127\.0\.0\.1:1/);
  });
});

describe('the data identity', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'optbench-otherdata-'));
    for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'])
      copyFileSync(join(FIXTURE, f), join(dir, f));
    // The same files but one label changed, stored uncompressed: another data set under the same name.
    const labels = gunzipSync(readFileSync(join(FIXTURE, 'train-labels-idx1-ubyte.gz')));
    labels[8] = (labels[8]! + 1) % 10;
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the MD5 of each file\'s contents, the same for a .gz and a plain copy', async () => {
    const a = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
    assert.ok(E.isRight(a));
    const plain = mkdtempSync(join(tmpdir(), 'optbench-plaindata-'));
    try {
      for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
        writeFileSync(join(plain, f), gunzipSync(readFileSync(join(FIXTURE, `${f}.gz`))));
      const b = await dataIdentity({ dataset: 'fashion-mini', dir: plain });
      assert.ok(E.isRight(b));
      assert.deepEqual(b.right.identity, a.right.identity);
      assert.equal(compareIdentity(a.right.identity, b.right), null);
      // And an independent reference: md5sum of the decompressed file.
      const { createHash } = await import('node:crypto');
      const ref = createHash('md5').update(gunzipSync(readFileSync(join(FIXTURE, 'train-images-idx3-ubyte.gz')))).digest('hex');
      assert.equal(a.right.identity.md5.trainImages, ref);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it('tells which file differs', async () => {
    const mine = await dataIdentity({ dataset: 'fashion-mini', dir: FIXTURE });
    const other = await dataIdentity({ dataset: 'fashion-mini', dir });
    assert.ok(E.isRight(mine) && E.isRight(other));
    const d = compareIdentity(mine.right.identity, other.right);
    assert.ok(d !== null);
    assert.equal(d.expected, mine.right.identity.md5.trainLabels);
    assert.match(d.message, /train-labels-idx1-ubyte/);
    assert.match(d.message, /trains nothing/);
    // Sanity of the fixture: gzip of the changed file differs too.
    assert.notDeepEqual(gzipSync(readFileSync(join(dir, 'train-labels-idx1-ubyte'))), readFileSync(join(FIXTURE, 'train-labels-idx1-ubyte.gz')));
  });
});

describe('the queue hands out the longest runs first', () => {
  it('ranks by estimated training time', () => {
    const vae2 = { ...spec, model: 'vae2', subset: undefined, epochs: 50, batchSize: 200 } as RunSpec;
    const fcnn = { ...spec, model: 'fcnn', subset: undefined, epochs: 50, batchSize: 200 } as RunSpec;
    // 50 epochs x 300 steps x 0.741 s: VAE2's full run is about three hours.
    assert.ok(Math.abs(estimateRunSeconds(vae2) - 50 * 300 * 0.741) < 1e-6);
    assert.ok(queuePriority(vae2) < queuePriority(fcnn), 'smaller number: served first');
    assert.ok(queuePriority(vae2) >= 1);
  });
});
