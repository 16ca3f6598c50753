/**
 * What `optbench serve` shows over HTTP (the server in this process, as the command starts it): every
 * run's row and the report's own figures of finished, failed and sweeping run directories, and that it
 * follows directories another process writes, or removes, through server-sent events. Its confinement
 * is spec/serve-confined.spec.ts; the command's errors, spec/bad-input-serve.spec.ts; the page in a
 * browser, spec/serve-browser.spec.ts.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { buildReport, readRunDir, reportFigures } from '../lib/report/index.js';
import type { Serving } from '../lib/serve/index.js';
import { openStore, storePath } from '../lib/store/index.js';
import { startNode } from './support/cli.js';
import { DONE_RUNS as DONE, eventually, followEvents, idOf, request, rowText, serveHere, writeRuns, writeSweep, type SyntheticRun } from './support/serve.js';

describe('optbench serve (HTTP)', function () {
  this.timeout(180_000);
  let tmp = '';
  const T = (...p: string[]) => join(tmp, ...p);
  let served: Serving;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-serve-'));
    writeRuns(T('done'), DONE);
    served = await serveHere([T('done')]);
  });
  after(async () => {
    await served?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("lists every run with its status, `epoch k/N`, its spec, latest metrics and the study's value", async () => {
    const page = await request(served.url, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const adam = rowText(page.body, idOf(DONE[0]!));
    assert.match(adam, /^fcnn\/adam\/s0 fcnn adam 0 fp32 done epoch 3\/3 /);
    // The latest epoch's metrics (train loss, train acc, test loss, test acc), the final accuracy, the study's.
    assert.match(adam, / 0\.6667 30\.00 % 0\.5800 73\.00 % 73\.00 % 88\.65 %$/);
    assert.match(rowText(page.body, idOf(DONE[3]!)), /^fcnn\/sgd\/s1 .* done epoch 3\/3 .* 84\.64 %$/);
    const failed = rowText(page.body, idOf(DONE[4]!));
    assert.match(failed, /^fcnn\/rmsprop\/s0 .* failed epoch 1\/3 .*The training loss became NaN at epoch 2, step 2\.$/);
    // A VAE's metric is its loss, and the study has one for vae1 with adam.
    assert.match(rowText(page.body, idOf(DONE[5]!)), /^vae1\/adam\/s0 vae1 adam 0 fp32 done epoch 3\/3 .* 24\.15$/);
    assert.match(page.body, /6 runs: 5 done, 1 failed/);
  });

  it("draws the report's own figures: the same SVG as the static report, with mean and band over seeds", async () => {
    const page = (await request(served.url, '/')).body;
    const source = readRunDir(T('done'));
    assert.ok(E.isRight(source));
    const figures = reportFigures(buildReport(source.right), { accuracyOverTime: true, idPrefix: 'd0-' });
    assert.deepEqual(
      figures.map((f) => f.name),
      ['d0-fcnn-loss-epoch', 'd0-fcnn-accuracy-epoch', 'd0-fcnn-loss-time', 'd0-fcnn-accuracy-time', 'd0-fcnn-confusion', 'd0-vae1-loss-epoch', 'd0-vae1-loss-time', 'd0-vae1-traversal', 'd0-vae1-samples'],
    );
    for (const f of figures) assert.ok(page.includes(f.svg), `${f.name} is not the report's own`);
    // Two seeds per optimizer: the line is their mean, and a band spans them.
    assert.match(page, /<path class="band" data-label="adam" data-split="test"/);
    assert.match(page, /<image class="tile"/);
  });

  it('draws only the chosen runs (only=, except=), and refuses a query that is not a choice of runs (400)', async () => {
    const adam0 = idOf(DONE[0]!);
    const only = await request(served.url, `/d/0/report?only=${adam0}`);
    assert.equal(only.status, 200);
    assert.deepEqual([...new Set([...only.body.matchAll(/class="legend-entry" data-label="([^"]+)"/g)].map((m) => m[1]))], ['adam']);
    assert.doesNotMatch(only.body, /class="band"/, 'one seed: no band');
    const except = await request(served.url, `/d/0/report?except=${DONE.filter((r) => r.optimizer === 'adam').map(idOf).join(',')}`);
    assert.deepEqual([...new Set([...except.body.matchAll(/class="legend-entry" data-label="([^"]+)"/g)].map((m) => m[1]))].sort(), ['rmsprop', 'sgd']);
    const none = await request(served.url, '/d/0/report?only=');
    assert.match(none.body, /No run is chosen/);
    for (const q of ['only=xyz', 'foo=1', `only=${adam0}&only=${adam0}`, `only=${adam0}&except=${adam0}`, `only=${adam0.toUpperCase()}`]) {
      const r = await request(served.url, `/d/0/report?${q}`);
      assert.equal(r.status, 400, q);
    }
  });

  it("shows a sweep's trials and ASHA rungs", async () => {
    const dir = T('sweep');
    const record = writeSweep(dir, 4);
    writeRuns(dir, record.searches[0]!.trials.map((t) => ({ optimizer: 'adam', overrides: t.point as Record<string, number>, holdout: 10, upTo: t.metrics.length })));
    const s = await serveHere([dir]);
    try {
      const page = (await request(s.url, '/')).body;
      assert.match(page, /Sweep: sweep fcnn\/adam/);
      assert.match(page, /<h5>ASHA rungs<\/h5>/);
      assert.match(page, /<table class="rungs">.*<tr><td>0<\/td><td>1<\/td><td>4<\/td><td>0<\/td><td>60\.00<\/td><\/tr><tr><td>1<\/td><td>3<\/td><td>1<\/td><td>0<\/td><td>80\.00<\/td><\/tr>/s);
      assert.match(page, /Every trial \(4\)/);
      assert.equal([...page.matchAll(/<tr><td>\d<\/td><td>lr=/g)].length, 4);
      assert.match(page, /id="fig-d0-sweep-fcnn-adam-asha-rungs"/);
      // The trials are runs of the store too, marked as trials (held-out metrics, no test result).
      assert.match(page, /4 runs: 1 done, 3 interrupted/);
      assert.equal([...page.matchAll(/<small>trial<\/small>/g)].length, 4);
    } finally {
      await s.close();
    }
  });

  it('follows a store another process writes: each epoch, new runs, a failure, the grid finished', async () => {
    const dir = T('live');
    const created = openStore(storePath(dir));
    assert.ok(E.isRight(created));
    created.right.close();
    const s = await serveHere([dir]);
    const sse = followEvents(s.url);
    try {
      await eventually('the event stream to open', () => sse.events.some((e) => e.event === 'hello'));
      const runs: SyntheticRun[] = [
        { optimizer: 'adam', seed: 0 },
        { optimizer: 'sgd', seed: 0, upTo: 2, fails: true },
      ];
      const writer = startNode('spec/support/serve-writer.ts', [dir, JSON.stringify(runs), '600']);
      assert.equal((await writer.exit).code, 0, writer.stderr);
      const commits = writer.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([, id, type, epoch, at]) => ({ id: id!, type: type!, epoch: Number(epoch), at: Number(at) }));
      assert.equal(commits.length, 5 + 4);
      const rowsOf = (d: unknown): [string, string][] => ((d as { rows: [string, string][] }).rows ?? []);
      await eventually(
        'the last commit to reach the page',
        () => sse.events.some((e) => e.event === 'dir' && rowsOf(e.data).some(([id, html]) => / failed epoch 2\/3 /.test(rowText(html, id)))),
        5000,
      );
      // Each epoch on its own, not only the last: the page follows the runs, it does not catch up at the end.
      // (How soon is the watcher's to say, in virtual time: spec/serve-watch.spec.ts; bench/serve.ts measures it.)
      for (const c of commits.filter((x) => x.type === 'EpochEnded')) {
        const seen = sse.events.find((e) => e.event === 'dir' && e.at >= c.at && rowsOf(e.data).some(([id, html]) => id === c.id && html.includes(`epoch ${c.epoch}/3`)));
        assert.ok(seen, `epoch ${c.epoch} of ${c.id} never reached the page`);
      }
      // The second run was added to the page as a new row (the order changed), then failed.
      assert.ok(sse.events.some((e) => e.event === 'dir' && ((e.data as { order: string[] | null }).order ?? []).length === 2));
      const now = JSON.parse((await request(s.url, '/d/0/runs')).body) as { rows: string; head: string; version: number };
      assert.match(rowText(now.rows, idOf(runs[0]!)), / done epoch 3\/3 /);
      assert.match(rowText(now.rows, idOf(runs[1]!)), / failed epoch 2\/3 .*NaN/);
      assert.match(now.head, /2 runs: 1 done, 1 failed/);
      // Every change was announced, one version after another.
      const versions = sse.events.filter((e) => e.event === 'dir').map((e) => (e.data as { base: number; version: number }));
      const hello = (sse.events.find((e) => e.event === 'hello')!.data as { dirs: number[] }).dirs[0]!;
      versions.forEach((v, i) => assert.equal(v.base, i === 0 ? hello : versions[i - 1]!.version));
      assert.equal(now.version, versions.at(-1)!.version);
      // The report was redrawn with both runs.
      const report = (await request(s.url, '/d/0/report')).body;
      assert.match(report, /data-label="adam" data-split="test" data-points="3"/);
      assert.match(report, /data-label="sgd" data-split="test" data-points="2"/);
    } finally {
      sse.close();
      await s.close();
    }
  });

  it('shows the step inside an epoch of a run another process trains, from the heartbeats it writes to the store', async () => {
    const dir = T('steps');
    const created = openStore(storePath(dir));
    assert.ok(E.isRight(created));
    created.right.close();
    const s = await serveHere([dir], { intervalMs: 100 });
    const sse = followEvents(s.url);
    try {
      await eventually('the event stream to open', () => sse.events.some((e) => e.event === 'hello'));
      // Two epochs of 4 steps, an event every 600 ms: at most one heartbeat a second records the step, here
      // the 2nd and the 4th of each epoch, and the page shows it until the next one or the epoch's end.
      const run: SyntheticRun = { optimizer: 'adamax', seed: 0, epochs: 2, batches: true };
      const writer = startNode('spec/support/serve-writer.ts', [dir, JSON.stringify([run]), '600']);
      assert.equal((await writer.exit).code, 0, writer.stderr);
      const id = idOf(run);
      const shown = sse.events.flatMap((e) => (e.event === 'dir' ? ((e.data as { rows?: [string, string][] }).rows ?? []) : [])).filter(([r]) => r === id).map(([, html]) => rowText(html, id));
      const steps = shown.flatMap((t) => {
        const m = / running epoch (\d)\/2, step (\d)\/4 of epoch (\d) /.exec(t);
        return m === null ? [] : [[Number(m[1]), Number(m[2]), Number(m[3])]];
      });
      // How many of those moments a loaded machine lets the watcher see varies; one is enough, and every
      // one seen is a step of the epoch under way.
      assert.ok(steps.length >= 1, `the page showed no step:\n${shown.join('\n')}`);
      for (const [done, step, of] of steps) assert.ok(of === done! + 1 && step! >= 1 && step! <= 4, JSON.stringify([done, step, of]));
      // The run's end clears it.
      const row = async () => rowText((JSON.parse((await request(s.url, '/d/0/runs')).body) as { rows: string }).rows, id);
      await eventually('the run done', async () => / done /.test(await row()), 5000);
      assert.match(await row(), / done epoch 2\/2 \d/);
    } finally {
      sse.close();
      await s.close();
    }
  });

  it('a run directory removed while served: says so, serves the others, and follows it again when it is back', async () => {
    const a = T('keep');
    const b = T('gone');
    cpSync(T('done'), a, { recursive: true });
    cpSync(T('done'), b, { recursive: true });
    const s = await serveHere([a, b]);
    const sse = followEvents(s.url);
    try {
      await eventually('the event stream to open', () => sse.events.some((e) => e.event === 'hello'));
      rmSync(b, { recursive: true });
      await eventually('the page to say the directory is gone', () => sse.events.some((e) => e.event === 'dir' && (e.data as { dir: number; head?: string }).dir === 1 && /No optbench store at .*gone/.test((e.data as { head?: string }).head ?? '')), 5000);
      const page = await request(s.url, '/');
      assert.equal(page.status, 200);
      assert.match(page.body, /No optbench store at [^<]*gone\/optbench\.sqlite/);
      // What it read last stays on the page; the other directory is untouched.
      assert.equal([...page.body.matchAll(/done epoch 3\/3/g)].length, 0);
      assert.equal([...page.body.matchAll(/>epoch 3\/3</g)].length, 10);
      assert.equal((await request(s.url, '/d/0/report')).status, 200);
      cpSync(T('done'), b, { recursive: true });
      await eventually('the page to follow it again', async () => !/No optbench store/.test(JSON.parse((await request(s.url, '/d/1/runs')).body).head as string), 5000);
    } finally {
      sse.close();
      await s.close();
    }
  });
});
