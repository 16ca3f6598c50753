/**
 * Does bf16 cost accuracy? Pairs the runs of two run directories, one trained in fp32 and one with
 * `--precision bf16` (same models, optimizer, seeds, epochs), by (model, optimizer, seed), and prints per
 * model and optimizer the paired difference bf16 - fp32 of the final test accuracy (classifiers, in
 * percentage points) or test loss (VAEs), its mean, 95 % t interval and paired t-test (lib/stats).
 *
 *   node --import tsx bench/bf16-vs-fp32.ts FP32_DIR BF16_DIR [--out DIR]
 *
 * With --out, also writes DIR/results.md. docs/results/bf16-vs-fp32/README.md has the commands that made
 * the run directories.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { readRunDir } from '../lib/report/read.js';
import { pairedDifferences, pairedTTest, tInterval, sampleMean } from '../lib/stats/index.js';
import type { RunRecord } from '../lib/train/record.js';

export interface Bf16Row {
  readonly model: string;
  readonly optimizer: string;
  readonly metric: 'test accuracy (points)' | 'test loss';
  readonly seeds: readonly number[];
  readonly fp32: readonly number[];
  readonly bf16: readonly number[];
  /** bf16 - fp32 per seed. */
  readonly diff: readonly number[];
  readonly mean: number;
  readonly interval: readonly [number, number];
  readonly p: number;
}

/** The paired rows: a (model, optimizer) with at least one seed done in both precisions. */
export const pairRuns = (fp32: readonly RunRecord[], bf16: readonly RunRecord[]): Bf16Row[] => {
  const done = (rs: readonly RunRecord[], precision: 'fp32' | 'bf16') =>
    rs.filter((r) => r.status === 'done' && r.final !== null && (r.spec.precision ?? 'fp32') === precision);
  const key = (r: RunRecord) => `${r.spec.model}\t${r.spec.optimizer.name}`;
  const byKey = new Map<string, Map<number, { a?: RunRecord; b?: RunRecord }>>();
  for (const [rs, side] of [[done(fp32, 'fp32'), 'a'], [done(bf16, 'bf16'), 'b']] as const)
    for (const r of rs) {
      const seeds = byKey.get(key(r)) ?? new Map<number, { a?: RunRecord; b?: RunRecord }>();
      byKey.set(key(r), seeds);
      seeds.set(r.spec.seed, { ...seeds.get(r.spec.seed), [side]: r });
    }
  const rows: Bf16Row[] = [];
  for (const [k, seeds] of [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const pairs = [...seeds.entries()].filter(([, p]) => p.a && p.b).sort(([x], [y]) => x - y);
    if (pairs.length === 0) continue;
    const [model, optimizer] = k.split('\t') as [string, string];
    const classifier = pairs[0]![1].a!.final!.testAccuracy !== null;
    const value = (r: RunRecord) => (classifier ? 100 * r.final!.testAccuracy! : r.final!.testLoss);
    const a = pairs.map(([, p]) => value(p.a!));
    const b = pairs.map(([, p]) => value(p.b!));
    const diff = E.getOrElse((): number[] => [])(pairedDifferences(b, a));
    rows.push({
      model,
      optimizer,
      metric: classifier ? 'test accuracy (points)' : 'test loss',
      seeds: pairs.map(([s]) => s),
      fp32: a,
      bf16: b,
      diff,
      mean: sampleMean(diff),
      interval: tInterval(diff),
      p: pairedTTest(diff).p,
    });
  }
  return rows;
};

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

export const bf16Table = (rows: readonly Bf16Row[]): string =>
  [
    '| model | optimizer | metric | seeds | fp32 (mean) | bf16 (mean) | bf16 - fp32 (mean) | 95 % interval | paired t p |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.optimizer} | ${r.metric} | ${r.seeds.length} | ${f(sampleMean(r.fp32))} | ${f(sampleMean(r.bf16))} | ` +
        `${f(r.mean)} | [${f(r.interval[0])}, ${f(r.interval[1])}] | ${f(r.p)} |`,
    ),
  ].join('\n');

const main = (argv: readonly string[]): number => {
  const [fp32Dir, bf16Dir] = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--out');
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : undefined;
  if (fp32Dir === undefined || bf16Dir === undefined) {
    process.stderr.write('usage: node --import tsx bench/bf16-vs-fp32.ts FP32_DIR BF16_DIR [--out DIR]\n');
    return 2;
  }
  const read = (dir: string) => {
    const r = readRunDir(dir);
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right.runs;
  };
  const rows = pairRuns(read(fp32Dir), read(bf16Dir));
  if (rows.length === 0) {
    process.stderr.write(`no (model, optimizer, seed) finished in both ${fp32Dir} (fp32) and ${bf16Dir} (bf16)\n`);
    return 1;
  }
  const table = bf16Table(rows);
  process.stdout.write(`${table}\n`);
  if (out !== undefined) {
    mkdirSync(out, { recursive: true });
    const perSeed = rows
      .map((r) => `- ${r.model}/${r.optimizer}: seeds ${r.seeds.join(', ')}; fp32 ${r.fp32.map(f).join(', ')}; bf16 ${r.bf16.map(f).join(', ')}`)
      .join('\n');
    writeFileSync(join(out, 'results.md'), `# bf16 vs fp32: final test metrics, paired by seed\n\n${table}\n\nPer seed:\n\n${perSeed}\n`);
  }
  return 0;
};

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) process.exitCode = main(process.argv.slice(2));
