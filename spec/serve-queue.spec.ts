/**
 * `optbench serve --queue URL`: the queue's jobs and workers on the page, live, and the step of each run a
 * worker trains (the workers report it to the queue; the store keeps whole epochs only). A grid is
 * submitted to a redis-server of the test's own with no worker yet, then one worker trains it. The server
 * runs in this process (as the command starts it), reading the queue every 250 ms instead of every second.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { openStore, storePath } from '../lib/store/index.js';
import { FIXTURE, fixtureGridArgs, start, type Child } from './support/cli.js';
import { startRedis, type TestRedis } from './support/redis.js';
import type { Serving } from '../lib/serve/index.js';
import { eventually, followEvents, request, serveHere } from './support/serve.js';

const text = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

describe('optbench serve --queue', function () {
  this.timeout(600_000);
  let tmp = '';
  let redis: TestRedis;
  let served: Serving | undefined;
  let coordinator: Child | undefined;
  let worker: Child | undefined;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-serve-queue-'));
    redis = await startRedis();
  });
  after(async () => {
    coordinator?.proc.kill('SIGKILL');
    worker?.proc.kill('SIGKILL');
    await served?.close();
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("shows the queue's waiting runs, then its worker, each active run's step and the runs done, as they happen", async () => {
    const out = join(tmp, 'grid');
    const s = openStore(storePath(out));
    assert.ok(E.isRight(s));
    s.right.close();
    served = await serveHere([out], { queue: redis.url, queueEveryMs: 250 });
    const sse = followEvents(served.url);
    // The queue's part as the page got it: in the stream's hello, then in each change.
    const queueTexts = () =>
      sse.events.flatMap((e) =>
        e.event === 'queue' ? [text((e.data as { html: string }).html)] : e.event === 'hello' ? [text((e.data as { queue: { html: string } }).queue.html)] : [],
      );
    const rowTexts = () =>
      sse.events.filter((e) => e.event === 'dir').flatMap((e) => (e.data as { rows: [string, string][] }).rows.map(([, html]) => text(html)));
    try {
      const page = await request(served.url, '/');
      assert.match(page.body, /<section id="queue" class="queue"><h2>Queue<\/h2>/);
      await eventually('the queue read', () => queueTexts().some((t) => /^waiting 0, active 0, done 0, failed 0 No live worker\.$/.test(t)));
      coordinator = start(fixtureGridArgs(out, { optimizers: 'adam,sgd', epochs: 2, subset: 100, testSubset: 50, batchSize: 10 }, ['--queue', redis.url, '--no-report']));
      await eventually('the runs waiting in the queue', () => queueTexts().some((t) => /^waiting 2, active 0, done 0, failed 0 No live worker\. Waiting \(2\) run progress fcnn\/adam\/s0 0\/2 epochs done/.test(t)), 120_000);
      worker = start(['worker', '--queue', redis.url, '--data-dir', FIXTURE, '--name', 'w1']);
      await eventually('the worker', () => queueTexts().some((t) => /Workers \(1\): w1/.test(t)), 120_000);
      await eventually('an active run with its step', () => queueTexts().some((t) => /Active \(1\) run worker progress attempt fcnn\/\w+\/s0 w1 epoch \d\/2, step \d+\/10 of epoch \d/.test(t)), 120_000);
      const done = await coordinator.exit;
      assert.equal(done.code, 0, coordinator.stderr);
      await eventually('the queue to count both runs done', () => queueTexts().at(-1)?.startsWith('waiting 0, active 0, done 2, failed 0') === true, 10_000);
      // The runs table showed a queue-trained run's step too, and ends with both done.
      assert.ok(rowTexts().some((t) => /running epoch \d\/2, step \d+\/10 of epoch \d/.test(t)), rowTexts().join('\n'));
      const runs = JSON.parse((await request(served.url, '/d/0/runs')).body) as { rows: string; head: string };
      assert.match(text(runs.head), /^2 runs: 2 done/);
      assert.equal([...text(runs.rows).matchAll(/done epoch 2\/2/g)].length, 2);
    } finally {
      sse.close();
    }
    worker.proc.kill('SIGTERM');
    assert.equal((await worker.exit).code, 0, worker.stderr);
  });
});
