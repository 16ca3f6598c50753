/**
 * `optbench serve` in headless Chromium (playwright-core, Debian's /usr/bin/chromium), run as README's
 * "## Watching runs live" writes it (only the port and the directory changed): the page is opened on an
 * empty run directory, a small grid then trains into it (FCNN, Adam and SGD, 3 epochs of 60 fixture
 * images on the cpu backend, no report), and the page must follow it without a reload. OPTBENCH_WRITE_DOCS=1 also
 * saves its screenshots as docs/serve.png and docs/serve-figures.png.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decodePng } from '../lib/report/png.js';
import { openStore, storePath } from '../lib/store/index.js';
import { ROOT, fixtureGridArgs, sleep, start, until, type Child } from './support/cli.js';
import { stopServe, type Served } from './support/serve.js';

const CHROMIUM = '/usr/bin/chromium';

/**
 * What the predicates below touch in the page (the project compiles without DOM types). They are
 * functions, not strings: the page's CSP forbids eval, which Playwright uses for a string predicate.
 */
interface Doc {
  readonly document: {
    readonly body: { readonly dataset: Record<string, string | undefined> };
    querySelector(selector: string): { readonly textContent: string | null } | null;
    querySelectorAll(selector: string): ArrayLike<{ readonly textContent: string | null }>;
  };
}
const WRITE_DOCS = process.env.OPTBENCH_WRITE_DOCS === '1';

/** The one command of README's sh block under `heading`, as words. */
const readmeCommand = (heading: string): string[] => {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const from = md.indexOf(heading);
  assert.ok(from >= 0, `README has no '${heading}'`);
  const m = /```sh\n([\s\S]*?)```/.exec(md.slice(from));
  assert.ok(m, `no sh block under '${heading}'`);
  const lines = m[1]!.trim().split('\n');
  assert.equal(lines.length, 1, lines.join('\n'));
  return lines[0]!.split(/\s+/);
};

/** Distinct colours of a screenshot: a blank or broken page has few. */
const colours = (png: Buffer): number => {
  const img = decodePng(png);
  assert.ok(E.isRight(img));
  const { data, channels } = img.right;
  const set = new Set<number>();
  for (let i = 0; i < data.length; i += channels) set.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
  return set.size;
};

interface Row {
  readonly label: string;
  readonly status: string;
  readonly progress: string;
}

const rows = (page: Page): Promise<Row[]> =>
  page.$$eval('table.runs tbody tr', (trs) =>
    trs.map((tr) => ({
      label: tr.querySelector('th.label')?.textContent ?? '',
      status: tr.querySelector('td.status')?.textContent ?? '',
      progress: tr.querySelector('td.progress')?.textContent ?? '',
    })),
  );

/** The points of each test curve in the loss-per-epoch figure, by label. */
const testPoints = (page: Page): Promise<Record<string, number>> =>
  page.$$eval('#fig-d0-fcnn-loss-epoch path.line[data-split="test"]', (ps) =>
    Object.fromEntries(ps.map((p) => [p.getAttribute('data-label') ?? '', Number(p.getAttribute('data-points'))])),
  );

const legend = (page: Page): Promise<string[]> =>
  page.$$eval('#fig-d0-fcnn-loss-epoch .legend-entry', (es) => es.map((e) => e.getAttribute('data-label') ?? ''));

describe('optbench serve in headless Chromium', function () {
  this.timeout(600_000);
  let tmp = '';
  let out = '';
  let served: Served | undefined;
  let browser: Browser;
  let page: Page;
  let grid: Child | undefined;
  const problems: string[] = [];
  const requests: string[] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-serve-browser-'));
    out = join(tmp, 'grid');
    // An empty run directory (a store and nothing else): the grid's runs arrive while the page is open.
    const store = openStore(storePath(out));
    assert.ok(E.isRight(store));
    store.right.close();
    const argv = readmeCommand('## Watching runs live');
    assert.deepEqual(argv.slice(0, 3), ['npx', 'optbench', 'serve']);
    const adapted = argv.slice(2).map((w, i, all) => (w === 'runs/fcnn-queue' ? out : all[i - 1] === '--port' ? '0' : w));
    const child = start(adapted);
    await until('the server printed its URL', () => /^http:\/\/\S+\/\n/.test(child.stdout), child, 60_000);
    const url = child.stdout.split('\n')[0]!;
    served = { child, url, port: Number(new URL(url).port) };
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // The event stream is cut when the server stops at the end: that is no problem of the page.
      if (!r.url().endsWith('/events')) problems.push(`failed request: ${r.url()} ${r.failure()?.errorText ?? ''}`);
    });
    page.on('request', (r) => requests.push(r.url()));
  });

  after(async () => {
    grid?.proc.kill('SIGKILL');
    await browser?.close();
    if (served !== undefined) await stopServe(served);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("follows a grid as it trains: runs appear, a run's `epoch k/N` advances and its curve gains points, with no reload", async () => {
    await page.goto(served!.url, { waitUntil: 'load' });
    await page.waitForFunction(() => (globalThis as unknown as Doc).document.body.dataset.live === 'on');
    assert.match((await page.textContent('.dir-head')) ?? '', /0 runs/);
    await page.evaluate('window.sameDocument = 42');
    grid = start(fixtureGridArgs(out, { optimizers: 'adam,sgd', epochs: 3, subset: 60, testSubset: 60, batchSize: 20 }, ['--no-report']));
    const progress = new Map<string, string[]>();
    const points = new Map<string, number[]>();
    let shot: Buffer | undefined;
    /** What the page shows now, added to what it showed before where it changed. */
    const sample = async (): Promise<void> => {
      for (const r of await rows(page)) {
        const seen = progress.get(r.label) ?? [];
        if (seen.at(-1) !== r.progress) progress.set(r.label, [...seen, r.progress]);
        // The documentation's picture: one run done, the other part-way, its curve drawn so far.
        if (WRITE_DOCS && shot === undefined && r.label === 'fcnn/sgd/s0' && r.progress === 'epoch 2/3') {
          await sleep(500);
          shot = await page.screenshot({ type: 'png' });
        }
      }
      for (const [label, n] of Object.entries(await testPoints(page))) {
        const seen = points.get(label) ?? [];
        if (seen.at(-1) !== n) points.set(label, [...seen, n]);
      }
    };
    while (grid.proc.exitCode === null) {
      await sample();
      await sleep(100);
    }
    assert.equal((await grid.exit).code, 0, grid.stderr);
    await page.waitForFunction(
      () => Array.from((globalThis as unknown as Doc).document.querySelectorAll('table.runs tbody td.status'), (td) => td.textContent).join(',') === 'done,done',
      undefined,
      { timeout: 5000 },
    );
    // The last epoch's point may reach the figure after the grid has exited (a redraw follows a change by up
    // to a second): still without a reload, which is what is checked.
    await page.waitForFunction(
      () => (globalThis as unknown as Doc).document.querySelectorAll('#fig-d0-fcnn-loss-epoch path.line[data-split="test"][data-points="3"]').length === 2,
      undefined,
      { timeout: 5000 },
    );
    await sample();
    const final = await rows(page);
    assert.deepEqual(final.map((r) => [r.label, r.status, r.progress]), [
      ['fcnn/adam/s0', 'done', 'epoch 3/3'],
      ['fcnn/sgd/s0', 'done', 'epoch 3/3'],
    ]);
    assert.match((await page.textContent('.dir-head')) ?? '', /2 runs: 2 done/);
    // Seen on the way: each run's epochs went up one by one (a poll may miss one), and so did its curve.
    for (const label of ['fcnn/adam/s0', 'fcnn/sgd/s0']) {
      const seen = (progress.get(label) ?? []).filter((p) => /^epoch \d\/3$/.test(p)).map((p) => Number(p[6]));
      assert.ok(seen.length >= 2, `${label}: only ${JSON.stringify(progress.get(label))} seen`);
      assert.deepEqual(seen, [...seen].sort(), `${label}: ${JSON.stringify(seen)}`);
      assert.equal(seen.at(-1), 3);
    }
    const curve = points.get('sgd') ?? [];
    assert.ok(curve.length >= 2 && curve.at(-1) === 3, `sgd's test curve grew as ${JSON.stringify(curve)}`);
    assert.deepEqual(await testPoints(page), { adam: 3, sgd: 3 });
    assert.equal(await page.evaluate('window.sameDocument'), 42, 'the page was reloaded');
    if (WRITE_DOCS) {
      assert.ok(shot !== undefined, 'no moment with sgd at epoch 2/3 was seen');
      writeFileSync(join(ROOT, 'docs', 'serve.png'), shot);
    }
  });

  it('draws only the runs ticked: none, those matching a word, all', async () => {
    await page.click('button.draw-none');
    await page.waitForFunction(() => /No run is chosen/.test((globalThis as unknown as Doc).document.querySelector('.report')?.textContent ?? ''));
    assert.deepEqual(await page.$$eval('input.draw', (bs) => bs.map((b) => (b as unknown as { checked: boolean }).checked)), [false, false]);
    await page.fill('input.filter-text', 'sgd');
    await page.click('button.draw-matching');
    await page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelectorAll('#fig-d0-fcnn-loss-epoch .legend-entry').length === 1);
    assert.deepEqual(await legend(page), ['sgd']);
    await page.locator('input.draw').first().check();
    await page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelectorAll('#fig-d0-fcnn-loss-epoch .legend-entry').length === 2);
    assert.deepEqual((await legend(page)).sort(), ['adam', 'sgd']);
    await page.click('button.draw-none');
    await page.click('button.draw-all');
    await page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelectorAll('#fig-d0-fcnn-loss-epoch .legend-entry').length === 2);
  });

  it('renders, with no console error, no failed request and nothing from another origin', async () => {
    await page.locator('#fig-d0-fcnn-accuracy-epoch').scrollIntoViewIfNeeded();
    const shot = await page.screenshot({ type: 'png' });
    assert.ok(colours(shot) > 100, 'a blank page?');
    if (WRITE_DOCS) writeFileSync(join(ROOT, 'docs', 'serve-figures.png'), shot);
    assert.deepEqual(problems, []);
    const origin = new URL(served!.url).origin;
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:')), []);
    assert.ok(requests.includes(`${origin}/app.js`) && requests.includes(`${origin}/events`));
  });

  it('fits a phone screen: the page does not scroll sideways (the runs table scrolls in its box)', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(served!.url, { waitUntil: 'load' });
    const overflow = Number(await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than the phone`);
    await phone.close();
  });

  it('listened on 127.0.0.1 with no warning, as README says, and SIGTERM stops it (exit 143)', async () => {
    const s = served!;
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.doesNotMatch(s.child.stderr, /warning/);
    served = undefined;
    s.child.proc.kill('SIGTERM');
    assert.equal((await s.child.exit).code, 143);
  });
});
