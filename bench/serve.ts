/**
 * How `optbench serve` copes with a big run directory: it builds one of `--runs` runs (default 1,000: FCNN
 * with Adam at 100 learning rates x 10 seeds, `--epochs` each, the shape of a large sweep's retraining)
 * through the store's own writer (persist, with synthetic events from lib/testing), starts the server on
 * it, and times the page's first load: over HTTP (the whole page, and one run's report), and in Chromium
 * to its load event (with --browser, the default where /usr/bin/chromium exists). Then this process
 * trains `--live` runs at a time, synthetically, committing an epoch every `--every-ms`, for
 * `--live-epochs` epochs, while a page follows the events and fetches each new report; it times each
 * epoch's way from its commit to the page, and samples the server's resident memory (RSS) as it goes: bounded memory means the last samples are no higher than the
 * first ones after warm-up. Figures depend on what else runs: the header prints the CPU and the load.
 *
 *   node --import tsx bench/serve.ts [--runs 1000] [--epochs 10] [--live 4] [--live-epochs 1500] [--every-ms 100] [--json] [--no-browser]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { from, lastValueFrom } from 'rxjs';
import { runId, type RunSpec } from '../lib/config/spec.js';
import { openStore, persist, storePath, type Store } from '../lib/store/index.js';
import { ended, epochEnded, spec, started } from '../lib/testing/events.js';
import type { RunEvent } from '../lib/train/events.js';
import { MAIN, startNode, type Child } from '../spec/support/cli.js';
import { cpuInfo } from './torch.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    epochs: { type: 'string', default: '10' },
    live: { type: 'string', default: '4' },
    'live-epochs': { type: 'string', default: '1500' },
    'every-ms': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const EPOCHS = Number(args.epochs);
const LIVE = Number(args.live);
const LIVE_EPOCHS = Number(args['live-epochs']);
const EVERY_MS = Number(args['every-ms']);
const CHROMIUM = '/usr/bin/chromium';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The n-th run of the directory: 100 learning rates, then the next seed. */
const specOf = (n: number, epochs: number): RunSpec =>
  spec('adam', { seed: Math.floor(n / 100), epochs, optimizer: { name: 'adam', preset: 'tfkeras2', overrides: { lr: Number((1e-4 * 1.07 ** (n % 100)).toPrecision(6)) } } });

/** Synthetic metrics: a curve per run that improves with its epochs, distinct per run. */
const epochOf = (s: RunSpec, k: number): RunEvent => {
  const lr = s.optimizer.overrides.lr as number;
  const q = Math.abs(Math.log10(lr) + 2.5) / 2 + s.seed / 100;
  return epochEnded(s, k, { loss: 0.3 + q + 1 / k, accuracy: Math.min(0.95, 0.6 + 0.3 * (1 - 1 / k) - q / 5) });
};

const runEvents = (s: RunSpec, upTo: number): RunEvent[] => [
  started(s),
  ...Array.from({ length: upTo }, (_, i) => epochOf(s, i + 1)),
  ...(upTo === s.epochs ? [ended(s, { testLoss: 0.5, testAccuracy: (epochOf(s, s.epochs) as { test: { accuracy: number } }).test.accuracy })] : []),
];

const write = (store: Store, events: readonly RunEvent[]): Promise<unknown> => lastValueFrom(from(events).pipe(persist(store)), { defaultValue: null });

const get = (url: string): Promise<{ ms: number; bytes: number; status: number }> =>
  new Promise((done, failed) => {
    const t0 = performance.now();
    request(url, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => done({ ms: performance.now() - t0, bytes, status: res.statusCode ?? 0 }));
    })
      .on('error', failed)
      .end();
  });

/** Resident memory of a process, in MB (Linux). */
const rssMb = (pid: number): number => {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
};

/**
 * Follows /events as a page does: on each change of the report, fetches the report of every run again.
 * `seen` is told each run row the server pushes (its id and HTML), when it arrives.
 */
const follow = (url: string, seen: (runId: string, html: string, at: number) => void): { readonly changes: () => number; readonly close: () => void } => {
  let changes = 0;
  let fetching = false;
  const req = request(`${url}events`, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (!block.startsWith('event: dir')) continue;
        changes++;
        const at = performance.now();
        const data = /^data: (.*)$/m.exec(block)?.[1];
        const rows = data === undefined ? [] : ((JSON.parse(data) as { rows?: [string, string][] }).rows ?? []);
        for (const [id, html] of rows) seen(id, html, at);
        if (block.includes('"report":true') && !fetching) {
          fetching = true;
          void get(`${url}d/0/report`).finally(() => (fetching = false));
        }
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { changes: () => changes, close: () => req.destroy() };
};

/** Milliseconds from an epoch's commit to the page's receiving its row with `epoch k/N`. */
const latencies = () => {
  const committed = new Map<string, number>();
  const ms: number[] = [];
  return {
    committed: (runId: string, epoch: number, epochs: number) => committed.set(`${runId} epoch ${epoch}/${epochs}`, performance.now()),
    seen: (runId: string, html: string, at: number) => {
      const k = /epoch (\d+)\/(\d+)/.exec(html);
      const key = k === null ? '' : `${runId} ${k[0]}`;
      const t = committed.get(key);
      if (t === undefined) return;
      committed.delete(key);
      ms.push(at - t);
    },
    ms: () => ms,
    missed: () => committed.size,
  };
};

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const browserLoad = async (url: string): Promise<{ loadMs: number; rows: number } | { why: string }> => {
  if (args['no-browser'] || !existsSync(CHROMIUM)) return { why: args['no-browser'] ? '--no-browser' : `${CHROMIUM} not found` };
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // Warm Chromium itself up on another page first, so that the time is the page's, not the browser's start.
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(url, { waitUntil: 'load' });
    const loadMs = performance.now() - t0;
    const rows = await page.locator('table.runs tbody tr').count();
    return { loadMs, rows };
  } finally {
    await browser.close();
  }
};

const main = async (): Promise<void> => {
  const cpu = cpuInfo();
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`bench/serve: ${RUNS} runs x ${EPOCHS} epochs; then ${LIVE_EPOCHS} live epochs (${LIVE} runs at a time, one every ${EVERY_MS} ms)`);
  log(`CPU: ${cpu.model}; load average ${load0}; node ${process.version}`);
  const dir = mkdtempSync(join(tmpdir(), 'optbench-bench-serve-'));
  let server: Child | undefined;
  try {
    const opened = openStore(storePath(dir));
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const store = opened.right;
    const t0 = performance.now();
    for (let n = 0; n < RUNS; n++) await write(store, runEvents(specOf(n, EPOCHS), EPOCHS));
    const buildS = (performance.now() - t0) / 1000;
    log(`built ${RUNS} runs in ${buildS.toFixed(1)} s (${dir})`);

    const s0 = performance.now();
    server = startNode(MAIN, ['serve', dir, '--port', '0']);
    while (!/^http:\/\/\S+\/\n/.test(server.stdout)) {
      if (server.proc.exitCode !== null) throw new Error(`the server ended: ${server.stderr}`);
      await sleep(20);
    }
    const startS = (performance.now() - s0) / 1000;
    const url = server.stdout.split('\n')[0]!;
    const pid = server.proc.pid!;
    const first = await get(url);
    const again = await get(url);
    const one = await get(`${url}d/0/report?only=${runId(specOf(0, EPOCHS))}`);
    const browser = await browserLoad(url);
    log(`server up in ${startS.toFixed(2)} s; first page ${first.ms.toFixed(0)} ms (${(first.bytes / 1e6).toFixed(2)} MB), again ${again.ms.toFixed(0)} ms; one run's report ${one.ms.toFixed(0)} ms`);
    log('loadMs' in browser ? `Chromium: page loaded in ${browser.loadMs.toFixed(0)} ms, ${browser.rows} rows` : `Chromium: not timed (${browser.why})`);

    // Live: LIVE runs train at once, one epoch committed every EVERY_MS; a page follows and redraws.
    const lat = latencies();
    const page = follow(url, lat.seen);
    const samples: { epochs: number; s: number; rssMb: number }[] = [{ epochs: 0, s: 0, rssMb: rssMb(pid) }];
    const l0 = performance.now();
    let next = RUNS;
    const training: { spec: RunSpec; epoch: number }[] = [];
    for (let done = 0; done < LIVE_EPOCHS; done++) {
      while (training.length < LIVE) {
        const s = specOf(next++, EPOCHS);
        await write(store, [started(s)]);
        training.push({ spec: s, epoch: 0 });
      }
      const t = training[done % training.length]!;
      t.epoch++;
      await write(store, t.epoch < t.spec.epochs ? [epochOf(t.spec, t.epoch)] : [epochOf(t.spec, t.epoch), ...runEvents(t.spec, t.spec.epochs).slice(-1)]);
      lat.committed(runId(t.spec), t.epoch, t.spec.epochs);
      if (t.epoch === t.spec.epochs) training.splice(training.indexOf(t), 1);
      await sleep(EVERY_MS);
      if ((done + 1) % Math.max(1, Math.floor(LIVE_EPOCHS / 10)) === 0) {
        samples.push({ epochs: done + 1, s: (performance.now() - l0) / 1000, rssMb: rssMb(pid) });
        log(`  ${done + 1} epochs, ${next} runs, ${samples.at(-1)!.s.toFixed(0)} s: server RSS ${samples.at(-1)!.rssMb.toFixed(0)} MB, ${page.changes()} changes pushed`);
      }
    }
    await sleep(2000);
    const last = await get(url);
    page.close();
    store.close();
    const figures = {
      cpu: cpu.model,
      loadAverage: load0,
      runs: RUNS,
      epochs: EPOCHS,
      buildS,
      serverStartS: startS,
      firstPageMs: first.ms,
      pageBytes: first.bytes,
      pageAgainMs: again.ms,
      oneRunReportMs: one.ms,
      chromiumLoadMs: 'loadMs' in browser ? browser.loadMs : null,
      liveEpochs: LIVE_EPOCHS,
      runsAtEnd: next,
      changesPushed: page.changes(),
      epochToPageMs: { median: quantile(lat.ms(), 0.5), p95: quantile(lat.ms(), 0.95), max: Math.max(...lat.ms()), seen: lat.ms().length, missed: lat.missed() },
      rssMb: samples.map((x) => ({ epochs: x.epochs, rssMb: Number(x.rssMb.toFixed(1)) })),
      lastPageMs: last.ms,
    };
    if (args.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else {
      const rss = samples.map((x) => x.rssMb);
      process.stdout.write(
        [
          `CPU: ${cpu.model} (load average at start ${load0})`,
          `${RUNS} runs x ${EPOCHS} epochs: server up ${startS.toFixed(2)} s, first page ${first.ms.toFixed(0)} ms (${(first.bytes / 1e6).toFixed(2)} MB), then ${again.ms.toFixed(0)} ms`,
          `Chromium, to the load event: ${'loadMs' in browser ? `${browser.loadMs.toFixed(0)} ms` : 'not timed'}`,
          `server RSS over ${LIVE_EPOCHS} live epochs (${next - RUNS} runs added): ${rss.map((x) => x.toFixed(0)).join(' ')} MB (min ${Math.min(...rss).toFixed(0)}, max ${Math.max(...rss).toFixed(0)})`,
          `an epoch's commit to its row on the page: median ${quantile(lat.ms(), 0.5).toFixed(0)} ms, 95th percentile ${quantile(lat.ms(), 0.95).toFixed(0)} ms, max ${Math.max(...lat.ms()).toFixed(0)} ms (${lat.ms().length} epochs; ${lat.missed()} not seen on their own: a later one came in the same read)`,
          `page after them: ${last.ms.toFixed(0)} ms`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    server?.proc.kill('SIGINT');
    if (server !== undefined) await server.exit;
    rmSync(dir, { recursive: true, force: true });
  }
};

await main();
