/**
 * What `optbench serve` refuses and keeps (the server in this process, as the command starts it): it
 * answers only the paths the page shows, GET and HEAD only, pages of this machine only, with a
 * Content-Security-Policy for a page with nothing from elsewhere; and it writes nothing, not even beside
 * the store. The command's own refusals (a port in use, another machine's address): bad-input-serve.spec.ts.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Serving } from '../lib/serve/index.js';
import { storePath } from '../lib/store/index.js';
import { bundlePageScript } from '../lib/serve/page-script.js';
import { ROOT, sleep } from './support/cli.js';
import { DONE_RUNS as DONE, idOf, request, serveHere, writeRuns } from './support/serve.js';

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

describe('optbench serve: confined and read-only', function () {
  this.timeout(120_000);
  let tmp = '';
  const T = (...p: string[]) => join(tmp, ...p);
  let served: Serving;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-serve-confined-'));
    writeRuns(T('done'), DONE);
    served = await serveHere([T('done')]);
  });
  after(async () => {
    await served?.close();
    rmSync(tmp, { recursive: true, force: true });
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
    // The script is lib/serve/page's TypeScript, bundled (from the sources here, as the specs run them).
    const script = await request(served.url, '/app.js');
    assert.equal(script.body, await bundlePageScript(join(ROOT, 'lib', 'serve', 'page', 'app.ts')));
  });

  it('is read-only: the store keeps its bytes and mtime, and no -wal or -shm file appears beside it', async () => {
    const dir = T('ro');
    writeRuns(dir, DONE);
    const before = snapshot(dir);
    const s = await serveHere([dir]);
    try {
      const t0 = Date.now();
      while (Date.now() - t0 < 3000) {
        for (const path of ['/', '/d/0/runs', '/d/0/report', `/d/0/report?only=${idOf(DONE[0]!)}`]) assert.equal((await request(s.url, path)).status, 200);
        assert.ok(!existsSync(`${storePath(dir)}-wal`) && !existsSync(`${storePath(dir)}-shm`), 'a -wal or -shm file appeared');
        await sleep(100);
      }
    } finally {
      await s.close();
    }
    assert.deepEqual(snapshot(dir), before);
  });
});
