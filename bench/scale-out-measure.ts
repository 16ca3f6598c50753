/**
 * What the queue costs and gives on one machine: the same grid trained locally, through the queue by
 * 1 worker x 2 threads, and by 2 workers x 1 thread each; the coordinator's overhead per epoch. Needs a
 * quiet machine (figures mean nothing while other work runs): it prints the load average with them.
 *
 *   node --import tsx bench/scale-out-measure.ts [--json] [--grid "task quick --backend native"]
 *
 * Each configuration: wall time of the grid command (workers already waiting, so their start-up is not
 * counted), and the training + evaluation time the runs themselves recorded; wall minus that is the
 * overhead (process start, data loading, and for the queue: submitting, Redis, following the events).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { openStore, storePath } from '../lib/store/store.js';
import { MAIN, startNode, type Child } from '../spec/support/cli.js';
import { startRedis } from '../spec/support/redis.js';

interface Figure {
  readonly config: string;
  readonly wallS: number;
  readonly computeS: number;
  readonly epochs: number;
  readonly overheadPerEpochS: number;
  /** Wall time per epoch beyond the local run's (the queue's cost, when it trains on one process). */
  readonly vsLocalPerEpochS: number;
  readonly epochsPerMinute: number;
}

const run = async (argv: string[], env: Record<string, string> = {}): Promise<number> => {
  const t0 = performance.now();
  const c = startNode(MAIN, argv, { env: { ...process.env, ...env } });
  const { code } = await c.exit;
  if (code !== 0) throw new Error(`optbench ${argv.join(' ')} failed:\n${c.stderr}`);
  return (performance.now() - t0) / 1000;
};

/** Training + evaluation seconds the store recorded, and how many epochs. */
const compute = (out: string): { s: number; epochs: number } => {
  const store = openStore(storePath(out), { mustExist: true });
  if (E.isLeft(store)) throw new Error(store.left.message);
  try {
    const runs = store.right.listRuns();
    if (E.isLeft(runs)) throw new Error(runs.left.message);
    let ms = 0;
    let epochs = 0;
    for (const r of runs.right) {
      const es = store.right.runEpochs(r.runId);
      if (E.isLeft(es)) throw new Error(es.left.message);
      for (const e of es.right) ms += e.trainMs + e.evalMs;
      epochs += es.right.length;
    }
    return { s: ms / 1000, epochs };
  } finally {
    store.right.close();
  }
};

const figure = (config: string, wallS: number, out: string, localWallS: number = wallS): Figure => {
  const c = compute(out);
  return {
    config,
    wallS,
    computeS: c.s,
    epochs: c.epochs,
    overheadPerEpochS: (wallS - c.s) / c.epochs,
    vsLocalPerEpochS: (wallS - localWallS) / c.epochs,
    epochsPerMinute: (60 * c.epochs) / wallS,
  };
};

const stopAll = async (workers: Child[]): Promise<void> => {
  for (const w of workers) w.proc.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exit));
};

export const measure = async (grid: string[]): Promise<{ load: number[]; figures: Figure[] }> => {
  const dir = mkdtempSync(join(tmpdir(), 'optbench-scale-out-'));
  const redis = await startRedis({ aof: true });
  const load = loadavg();
  const figures: Figure[] = [];
  try {
    const local = join(dir, 'local');
    figures.push(figure('local, 2 threads', await run([...grid, '--out', local, '--no-report'], { OPTBENCH_THREADS: '2' }), local));
    for (const [config, workers, threads] of [
      ['queue, 1 worker x 2 threads', 1, 2],
      ['queue, 2 workers x 1 thread', 2, 1],
    ] as const) {
      const ws = Array.from({ length: workers }, (_, i) =>
        startNode(MAIN, ['worker', '--queue', redis.url, '--threads', String(threads), '--name', `w${i + 1}`, ...dataArgs(grid)]),
      );
      // Let the workers start (load TF.js, connect) before the clock starts.
      await Promise.all(ws.map((w) => waitFor(() => /waiting for runs/.test(w.stderr))));
      const out = join(dir, `queue-${workers}x${threads}`);
      const wall = await run([...grid, '--out', out, '--no-report', '--queue', redis.url]);
      figures.push(figure(config, wall, out, figures[0]!.wallS));
      await stopAll(ws);
      // A fresh queue for the next configuration.
      const clean = startNode(MAIN, ['queue', 'clean', '--queue', redis.url]);
      await clean.exit;
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { load, figures };
};

const dataArgs = (grid: readonly string[]): string[] => {
  const i = grid.indexOf('--data-dir');
  return i >= 0 ? ['--data-dir', grid[i + 1]!] : [];
};

const waitFor = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 100));
};

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''));
if (isMain) {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, grid: { type: 'string' } } });
  const grid = (typeof values.grid === 'string' ? values.grid : 'task quick --backend native').split(/\s+/);
  const { load, figures } = await measure(grid);
  if (values.json) process.stdout.write(`${JSON.stringify({ grid: grid.join(' '), load, figures })}\n`);
  else {
    process.stdout.write(`grid: optbench ${grid.join(' ')}; load average before: ${load.map((l) => l.toFixed(2)).join(' ')}\n`);
    process.stdout.write(
      '| configuration | wall (s) | epochs per minute | runs\' training + evaluation (s) | epochs | wall minus that, per epoch (s) | wall beyond local, per epoch (s) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n',
    );
    for (const f of figures)
      process.stdout.write(
        `| ${f.config} | ${f.wallS.toFixed(1)} | ${f.epochsPerMinute.toFixed(1)} | ${f.computeS.toFixed(1)} | ${f.epochs} | ${f.overheadPerEpochS.toFixed(2)} | ${f.vsLocalPerEpochS.toFixed(2)} |\n`,
      );
  }
}
