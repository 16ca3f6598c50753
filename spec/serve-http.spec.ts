/**
 * `optbench serve` over HTTP, as a child process: what the page shows of finished, failed, sweeping and
 * still-written run directories, that it follows them through server-sent events, that it is read-only
 * and confined to what it shows, and the CLI's errors (spec/serve-browser.spec.ts drives it in Chromium).
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { runId } from '../lib/config/spec.js';
import { buildReport, readRunDir, reportFigures } from '../lib/report/index.js';
import { openStore, storePath } from '../lib/store/index.js';
import { cli, sleep, startNode } from './support/cli.js';
import { eventually, followEvents, request, specOf, startServe, stopServe, writeRuns, writeSweep, type Served, type SyntheticRun } from './support/serve.js';

const DONE: readonly SyntheticRun[] = [
  { optimizer: 'adam', seed: 0 },
  { optimizer: 'adam', seed: 1 },
  { optimizer: 'sgd', seed: 0 },
  { optimizer: 'sgd', seed: 1 },
  { optimizer: 'rmsprop', seed: 0, upTo: 1, fails: true },
  { optimizer: 'adam', model: 'vae1', seed: 0 },
];

const idOf = (r: SyntheticRun): string => runId(specOf(r));

/** The text of a run's row in the page (tags dropped). */
const rowText = (html: string, id: string): string => {
  const m = new RegExp(`<tr data-run="${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html);
  assert.ok(m, `no row for run ${id}`);
  return m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
};

/** Every file of a directory with its size, mtime and SHA-256. */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true })
      .map(String)
      .sort()
      .filter((f) => statSync(join(dir, f)).isFile())
      .map((f) => {
        const st = statSync(join(dir, f));
        return [f, `${st.size} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}`];
      }),
  );

describe('optbench serve (HTTP)', function () {
  this.timeout(180_000);
  let tmp = '';
  const T = (...p: string[]) => join(tmp, ...p);
  let served: Served;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-serve-'));
    writeRuns(T('done'), DONE);
    served = await startServe([T('done')]);
  });
  after(async () => {
    if (served !== undefined) await stopServe(served);
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

  it('answers only the paths it shows: traversal (plain, %2e, %252e, a symlink out of the directory) is 4xx, never a file', async () => {
    symlinkSync('/etc/passwd', T('done', 'passwd'));
    const targets = [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%252e%252e/%252e%252e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/d/0/../../../../etc/passwd',
      '/d/0/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/d/0/passwd',
      '/d/0/optbench.sqlite',
      '/d/0/runs/../passwd',
      '/passwd',
      '/optbench.sqlite',
      `/${T('done', 'passwd')}`,
      '//etc/passwd',
      '/\\..\\..\\etc\\passwd',
      '/d/1/runs',
      '/d/00/runs',
      'http://127.0.0.1/etc/passwd',
      '/app.js?x=1',
    ];
    for (const t of targets) {
      const r = await request(served.url, t);
      assert.ok(r.status >= 400 && r.status < 500, `${t}: ${r.status}`);
      assert.doesNotMatch(r.body, /root:|SQLite format/, t);
    }
    assert.equal((await request(served.url, '/nothing-here')).status, 404);
    assert.equal((await request(served.url, '/d/0/passwd')).status, 404);
    assert.equal((await request(served.url, '/%2e%2e/x')).status, 400);
  });

  it('allows GET and HEAD only (405 with Allow), and refuses a Host other than this machine (DNS rebinding)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await request(served.url, '/', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const head = await request(served.url, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const rebound = await request(served.url, '/', { headers: { Host: `evil.example:${served.port}` } });
    assert.equal(rebound.status, 403);
    assert.equal((await request(served.url, '/', { headers: { Host: `localhost:${served.port}` } })).status, 200);
  });

  it('sends a Content-Security-Policy for a page with no external resources and no inline script', async () => {
    const page = await request(served.url, '/');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /^default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-hashes'( 'sha256-[A-Za-z0-9+/=]+')+; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    // Every script is a file of the server; no inline handler; every stylesheet and icon is local.
    assert.deepEqual([...page.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]), [' src="/app.js" defer']);
    assert.doesNotMatch(page.body, /\son[a-z]+="/);
    assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//);
    for (const [path, type] of [['/app.js', /^text\/javascript/], ['/style.css', /^text\/css/]] as const) {
      const r = await request(served.url, path);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), type);
      assert.equal(r.headers['content-security-policy'], csp);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
  });

  it("shows a sweep's trials and ASHA rungs", async () => {
    const dir = T('sweep');
    const record = writeSweep(dir, 4);
    writeRuns(dir, record.searches[0]!.trials.map((t) => ({ optimizer: 'adam', overrides: t.point as Record<string, number>, holdout: 10, upTo: t.metrics.length })));
    const s = await startServe([dir]);
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
      await stopServe(s);
    }
  });

  it('follows a store another process writes: each epoch within 2 s, new runs, a failure, the grid finished', async () => {
    const dir = T('live');
    const created = openStore(storePath(dir));
    assert.ok(E.isRight(created));
    created.right.close();
    const s = await startServe([dir]);
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
      for (const c of commits.filter((x) => x.type === 'EpochEnded')) {
        const seen = sse.events.find((e) => e.event === 'dir' && e.at >= c.at && rowsOf(e.data).some(([id, html]) => id === c.id && html.includes(`epoch ${c.epoch}/3`)));
        assert.ok(seen, `epoch ${c.epoch} of ${c.id} never reached the page`);
        assert.ok(seen.at - c.at < 2000, `epoch ${c.epoch} of ${c.id} took ${seen.at - c.at} ms to reach the page`);
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
      await stopServe(s);
    }
  });

  it('a run directory removed while served: says so, serves the others, and follows it again when it is back', async () => {
    const a = T('keep');
    const b = T('gone');
    cpSync(T('done'), a, { recursive: true });
    cpSync(T('done'), b, { recursive: true });
    rmSync(join(a, 'passwd'), { force: true });
    rmSync(join(b, 'passwd'), { force: true });
    const s = await startServe([a, b]);
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
      await stopServe(s);
    }
  });

  it('is read-only: the store keeps its bytes and mtime, and no -wal or -shm file appears beside it', async () => {
    const dir = T('ro');
    cpSync(T('done'), dir, { recursive: true });
    rmSync(join(dir, 'passwd'), { force: true });
    const before = snapshot(dir);
    const s = await startServe([dir]);
    try {
      const t0 = Date.now();
      while (Date.now() - t0 < 3000) {
        for (const path of ['/', '/d/0/runs', '/d/0/report', `/d/0/report?only=${idOf(DONE[0]!)}`]) assert.equal((await request(s.url, path)).status, 200);
        assert.ok(!existsSync(`${storePath(dir)}-wal`) && !existsSync(`${storePath(dir)}-shm`), 'a -wal or -shm file appeared');
        await sleep(100);
      }
    } finally {
      assert.equal(await stopServe(s), 130);
    }
    assert.deepEqual(snapshot(dir), before);
  });

  it('a missing or invalid run directory is the error `optbench runs` gives; bad options are exit 2', async () => {
    for (const dir of [T('nowhere'), T('done', 'runs')]) {
      const [serve, runs] = await Promise.all([cli(['serve', dir, '--port', '0']), cli(['runs', dir])]);
      assert.equal(serve.code, 1);
      assert.equal(serve.stderr, runs.stderr);
      assert.equal(runs.code, 1);
      assert.equal(serve.stdout, '');
    }
    const cases: [string[], RegExp][] = [
      [['serve'], /Usage: optbench serve <run-dir>\.\.\./],
      [['serve', T('done'), '--port', '70000'], /--port must be a whole number from 0 to 65535/],
      [['serve', T('done'), '--port', 'http'], /--port must be a whole number/],
      [['serve', T('done'), '--host', ''], /--host '' is empty/],
      [['serve', T('done'), '--portt', '1'], /Unknown option '--portt'\. Did you mean '--port'\?/],
      [['serve', T('done'), resolve(T('done'))], /is given twice/],
    ];
    const ran = await Promise.all(cases.map(([argv]) => cli(argv)));
    for (const [i, [argv, says]] of cases.entries()) {
      const r = ran[i]!;
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, says);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    }
  });

  it('a port in use is a clear error naming the port (exit 1)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await cli(['serve', T('done'), '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `optbench: Port ${port} on 127.0.0.1 is in use (another optbench serve, or another program): choose another with --port N (--port 0 takes any free one).\n`);
    } finally {
      blocker.close();
    }
  });

  it('--host other than loopback warns on stderr that the page is reachable from other machines; SIGTERM stops it (143)', async () => {
    const s = await startServe([T('done'), '--host', '0.0.0.0']);
    try {
      assert.match(s.child.stderr, /^optbench: warning: listening on 0\.0\.0\.0: the page \(every run's spec and metrics\) is reachable from other machines, with no password\./);
      const r = await request(s.url.replace('0.0.0.0', '127.0.0.1'), '/', { headers: { Host: `optbench.example:${s.port}` } });
      assert.equal(r.status, 200, 'any Host, once it listens for other machines');
    } finally {
      s.child.proc.kill('SIGTERM');
      assert.equal((await s.child.exit).code, 143);
    }
    assert.doesNotMatch(served.child.stderr, /warning/);
  });
});
