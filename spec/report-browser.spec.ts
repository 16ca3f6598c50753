import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { chromium, type Browser } from 'playwright-core';
import { writeReport } from '../lib/report/index.js';
import { decodePng } from '../lib/report/png.js';

const CHROMIUM = '/usr/bin/chromium';

describe('report.html in headless Chromium', function () {
  let browser: Browser;
  let dir: string;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optbench-report-browser-'));
    const written = await writeReport('fixtures/rundir-sample/single', { out: dir, formats: ['html'] });
    assert.ok(E.isRight(written), E.isLeft(written) ? written.left.message : '');
    url = pathToFileURL(join(dir, 'report.html')).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (viewport: { width: number; height: number }) => {
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    return { page, problems, requests };
  };

  it('loads with no console errors, no failed requests and no request but the file itself', async () => {
    const { page, problems, requests } = await open({ width: 1280, height: 900 });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      requests.filter((u) => u !== url && !u.startsWith('data:')),
      [],
    );
    assert.equal(await page.locator('section.model').count(), 2);
    assert.equal(await page.locator('figure svg').count(), 8);
    // Every embedded image decoded (a broken data URI would leave it without a bounding box).
    const images = await page.locator('image.tile').count();
    assert.equal(images, 5 * 11 + 11);
    await page.close();
  });

  it('renders something: the screenshot has many distinct colours', async () => {
    const { page } = await open({ width: 1280, height: 900 });
    await page.locator('#model-fcnn figure').first().scrollIntoViewIfNeeded();
    const shot = await page.screenshot({ type: 'png' });
    const img = decodePng(shot);
    assert.ok(E.isRight(img));
    const { data, channels, width, height } = img.right;
    assert.deepEqual([width, height], [1280, 900]);
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += channels) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    assert.ok(colours.size > 100, `only ${colours.size} distinct colours: blank page?`);
    await page.close();
  });

  it('fits a phone screen: no horizontal scrolling of the page', async () => {
    const { page, problems } = await open({ width: 390, height: 844 });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(Number(overflow) <= 1, `page is ${String(overflow)} px wider than the phone`);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
