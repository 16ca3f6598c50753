/**
 * Does optbench's VAE stall more often than Keras's? Collects the test loss after `--epoch` epochs of every
 * seed from optbench run directories (their stores) and from bench/keras_vae.py's JSON lines, calls a
 * seed stalled above `--threshold`, and writes docs/results/vae-modes: modes.csv (stack, model, optimizer,
 * seeds, stalled), seeds.csv (every seed's losses), modes.md (Fisher's exact test per optimizer, the
 * Cochran-Mantel-Haenszel test pooled over them, a permutation test over seeds), and the strip plot.
 *
 *   node --import tsx bench/vae-modes.ts table --optbench runs/vae-modes/optbench-vae1 \
 *     --keras runs/vae-modes/keras.jsonl --out docs/results/vae-modes [--threshold 40] [--epoch 2]
 *   node --import tsx bench/vae-modes.ts step fixtures/keras-vae/vae1-seed0.json [--backend native]
 *     optbench's loss, gradients and first steps against a file of `bench/keras_vae.py step`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvFormatRows } from 'd3-dsv';
import * as E from 'fp-ts/lib/Either.js';
import { useBackend } from '../lib/backend/index.js';
import { stripChart } from '../lib/report/strip.js';
import { svgToPng } from '../lib/report/raster.js';
import { fisherExact, holm, mantelHaenszel, permutationTest, type Table2x2 } from '../lib/stats/index.js';
import { openStore } from '../lib/store/index.js';
import { compareWithKeras, readKerasStep } from '../spec/support/keras-vae.js';
import { cpuInfo } from './torch.js';

const fail = (msg: string): never => {
  console.error(`vae-modes: ${msg}`);
  process.exit(2);
};

interface SeedRow {
  readonly stack: 'optbench' | 'keras';
  readonly model: string;
  readonly optimizer: string;
  readonly seed: number;
  /** Test loss after each epoch, from the first. */
  readonly losses: readonly number[];
}

const flag = (args: readonly string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] ?? fail(`${name} needs a value`) : undefined;
};

const fromOptbench = (dir: string): SeedRow[] => {
  const store = openStore(join(dir, 'optbench.sqlite'), { readonly: true });
  if (E.isLeft(store)) return fail(store.left.message);
  const records = store.right.toRunRecords();
  store.right.close();
  if (E.isLeft(records)) return fail(records.left.message);
  return records.right
    .filter((r) => r.spec.optimizer.preset === 'tfkeras2' && Object.keys(r.spec.optimizer.overrides).length === 0)
    .map((r) => ({
      stack: 'optbench' as const,
      model: r.spec.model,
      optimizer: r.spec.optimizer.name,
      seed: r.spec.seed,
      losses: r.epochs.map((e) => e.test?.loss ?? NaN),
    }));
};

const fromKeras = (file: string): SeedRow[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const r = JSON.parse(l) as { model: string; optimizer: string; seed: number; epochs: { testLoss: number }[] };
      return { stack: 'keras' as const, model: r.model, optimizer: r.optimizer, seed: r.seed, losses: r.epochs.map((e) => e.testLoss) };
    });

const fmtP = (p: number): string => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const pct = (k: number, n: number): string => `${k}/${n} (${((100 * k) / n).toFixed(0)} %)`;

const table = async (args: readonly string[]): Promise<void> => {
  const dirs = (flag(args, '--optbench') ?? fail('--optbench DIR[,DIR] is required')).split(',');
  const kerasFile = flag(args, '--keras') ?? fail('--keras FILE is required');
  const out = flag(args, '--out') ?? fail('--out DIR is required');
  const threshold = Number(flag(args, '--threshold') ?? 40);
  const epoch = Number(flag(args, '--epoch') ?? 2);
  if (!Number.isFinite(threshold) || !Number.isInteger(epoch) || epoch < 1) fail('--threshold is a number, --epoch a whole number >= 1');
  // A seed counts once it has the epoch; a stack's seeds are those it finished.
  const rows = [...dirs.flatMap(fromOptbench), ...fromKeras(kerasFile)].filter((r) => Number.isFinite(r.losses[epoch - 1]));
  const at = (r: SeedRow): number => r.losses[epoch - 1]!;
  const stalled = (r: SeedRow): boolean => at(r) > threshold;
  const optimizers = [...new Set(rows.map((r) => r.optimizer))].sort(
    (a, b) => ['adam', 'rmsprop', 'adamax', 'nadam', 'sgd', 'adagrad', 'adadelta'].indexOf(a) - ['adam', 'rmsprop', 'adamax', 'nadam', 'sgd', 'adagrad', 'adadelta'].indexOf(b),
  );
  const models = [...new Set(rows.map((r) => r.model))];
  mkdirSync(out, { recursive: true });

  const seedsCsv = [['stack', 'model', 'optimizer', 'seed', ...Array.from({ length: Math.max(...rows.map((r) => r.losses.length)) }, (_, i) => `test_loss_epoch${i + 1}`), 'stalled']];
  for (const r of [...rows].sort((a, b) => a.stack.localeCompare(b.stack) || a.model.localeCompare(b.model) || a.optimizer.localeCompare(b.optimizer) || a.seed - b.seed))
    seedsCsv.push([r.stack, r.model, r.optimizer, String(r.seed), ...seedsCsv[0]!.slice(4, -1).map((_, i) => (r.losses[i] === undefined ? '' : String(r.losses[i]))), String(stalled(r))]);
  writeFileSync(join(out, 'seeds.csv'), `${csvFormatRows(seedsCsv)}\n`);

  const modes = [['stack', 'model', 'optimizer', 'seeds', 'stalled']];
  const md: string[] = [];
  const strata: Table2x2[] = [];
  const perOptimizer: { optimizer: string; model: string; t: Table2x2; p: number; or: number }[] = [];
  for (const model of models)
    for (const optimizer of optimizers) {
      const of = (stack: string) => rows.filter((r) => r.stack === stack && r.model === model && r.optimizer === optimizer);
      const o = of('optbench');
      const k = of('keras');
      for (const [stack, rs] of [['optbench', o], ['keras', k]] as const) if (rs.length > 0) modes.push([stack, model, optimizer, String(rs.length), String(rs.filter(stalled).length)]);
      if (o.length === 0 || k.length === 0) continue;
      const t: Table2x2 = [
        [o.filter(stalled).length, o.length - o.filter(stalled).length],
        [k.filter(stalled).length, k.length - k.filter(stalled).length],
      ];
      const f = fisherExact(t);
      strata.push(t);
      perOptimizer.push({ optimizer, model, t, p: f.p, or: f.oddsRatio });
    }
  writeFileSync(join(out, 'modes.csv'), `${csvFormatRows(modes)}\n`);

  const adjusted = holm(perOptimizer.map((x) => x.p));
  md.push(`Stalled: test loss after epoch ${epoch} above ${threshold} (SSE + KL per image). Fisher's exact test per optimizer (two-sided), Holm-adjusted over the ${perOptimizer.length} optimizers.`, '');
  md.push('| model | optimizer | optbench stalled | Keras stalled | odds ratio | Fisher p | Holm p |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  perOptimizer.forEach((x, i) => {
    const [[a, b], [c, d]] = x.t;
    md.push(`| ${x.model} | ${x.optimizer} | ${pct(a, a + b)} | ${pct(c, c + d)} | ${Number.isFinite(x.or) ? x.or.toFixed(2) : String(x.or)} | ${fmtP(x.p)} | ${fmtP(adjusted[i]!)} |`);
  });
  if (strata.length > 0) {
    const cmh = mantelHaenszel(strata);
    md.push('', `Pooled over the optimizers (Cochran-Mantel-Haenszel, strata = optimizers): X² = ${cmh.statistic.toFixed(3)}, p = ${fmtP(cmh.p)}; exact conditional p = ${fmtP(cmh.exactP)}; common odds ratio ${cmh.oddsRatio.toFixed(2)}.`);
    md.push(
      'Within a stack every optimizer of a seed starts from the same weights, so the strata are not independent samples (a seed that stalls for one optimizer tends to stall for the others) and the CMH p is too small if anything. The test below takes the seed as the unit instead.',
    );
    // Per seed: how many of the optimizers (those every seed of both stacks has) stalled.
    for (const model of models) {
      const common = optimizers.filter((opt) => perOptimizer.some((x) => x.optimizer === opt && x.model === model));
      const counts = (stack: string): number[] => {
        const bySeed = new Map<number, SeedRow[]>();
        for (const r of rows.filter((r) => r.stack === stack && r.model === model && common.includes(r.optimizer)))
          bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
        return [...bySeed.values()].filter((rs) => rs.length === common.length).map((rs) => rs.filter(stalled).length);
      };
      const o = counts('optbench');
      const k = counts('keras');
      if (o.length === 0 || k.length === 0) continue;
      const perm = permutationTest(o, k, 200_000, 1);
      md.push(
        '',
        `${model}, seeds with all of ${common.join(', ')}: stalled optimizers per seed, mean ${(o.reduce((s, x) => s + x, 0) / o.length).toFixed(3)} in optbench (${o.length} seeds) and ${(k.reduce((s, x) => s + x, 0) / k.length).toFixed(3)} in Keras (${k.length} seeds); permutation test of the difference (200,000 relabellings): p = ${fmtP(perm.p)}.`,
      );
      md.push(`Seeds on which every one of them stalled: ${o.filter((x) => x === common.length).length} of ${o.length} in optbench, ${k.filter((x) => x === common.length).length} of ${k.length} in Keras; none stalled: ${o.filter((x) => x === 0).length} and ${k.filter((x) => x === 0).length}.`);
    }
  }
  // The threshold is a choice: the counts at others, and the whole distributions compared without one.
  const median = (xs: readonly number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 === 1 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const ranks = (xs: readonly number[]): number[] => {
    const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(xs.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
      for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const others = [35, 45, 50].filter((x) => x !== threshold);
  md.push(
    '',
    `Without a threshold: the median test loss after epoch ${epoch} per stack, and a rank test of the two distributions (Wilcoxon-Mann-Whitney, as a permutation test of the mean rank, 200,000 relabellings); the counts stalled at other thresholds.`,
    '',
    `| model | optimizer | optbench median | Keras median | rank test p | ${others.map((x) => `stalled above ${x} (optbench / Keras)`).join(' | ')} |`,
    `| --- | --- | ---: | ---: | ---: | ${others.map(() => '---:').join(' | ')} |`,
  );
  for (const x of perOptimizer) {
    const o = rows.filter((r) => r.stack === 'optbench' && r.model === x.model && r.optimizer === x.optimizer).map(at);
    const k = rows.filter((r) => r.stack === 'keras' && r.model === x.model && r.optimizer === x.optimizer).map(at);
    const r = ranks([...o, ...k]);
    const rank = permutationTest(r.slice(0, o.length), r.slice(o.length), 200_000, 1);
    const above = (vs: readonly number[], t: number): string => `${vs.filter((v) => v > t).length}/${vs.length}`;
    md.push(`| ${x.model} | ${x.optimizer} | ${median(o).toFixed(2)} | ${median(k).toFixed(2)} | ${fmtP(rank.p)} | ${others.map((t) => `${above(o, t)} / ${above(k, t)}`).join(' | ')} |`);
  }
  writeFileSync(join(out, 'modes.md'), `${md.join('\n')}\n`);

  for (const model of models) {
    const svg = stripChart({
      title: `${model.toUpperCase()}: test loss after epoch ${epoch}, every seed`,
      xLabel: `test loss after epoch ${epoch} (SSE + KL per image)`,
      rows: optimizers.flatMap((optimizer) =>
        (['optbench', 'keras'] as const).flatMap((stack) => {
          const values = rows.filter((r) => r.stack === stack && r.model === model && r.optimizer === optimizer).map(at);
          return values.length > 0 ? [{ label: `${optimizer} (${values.length})`, group: stack, values }] : [];
        }),
      ),
      threshold: { value: threshold, label: `stalled above ${threshold}` },
    });
    writeFileSync(join(out, `${model}-modes.svg`), svg);
    writeFileSync(join(out, `${model}-modes.png`), await svgToPng(svg));
  }
  console.log(readFileSync(join(out, 'modes.md'), 'utf8'));
  console.log(`wrote ${out}: modes.csv, seeds.csv, modes.md, ${models.map((m) => `${m}-modes.svg/png`).join(', ')}`);
};

const step = async (args: readonly string[]): Promise<void> => {
  const file = args[0] ?? fail('step FILE: a file written by bench/keras_vae.py step');
  const backend = flag(args, '--backend') ?? 'native';
  if (backend !== 'native' && backend !== 'cpu') fail(`--backend is native or cpu, got '${backend}'`);
  const loaded = await useBackend(backend as 'native' | 'cpu');
  if (E.isLeft(loaded)) fail(loaded.left.message);
  const s = readKerasStep(file);
  const r = compareWithKeras(s);
  console.log(`# ${s.model}, seed ${s.seed}: optbench on ${backend} against TensorFlow ${s.tensorflow} / Keras ${s.keras} (${cpuInfo().model})`);
  console.log(`loss: optbench ${r.loss.optbench}, Keras ${r.loss.keras} (relative ${Math.abs(r.loss.optbench / r.loss.keras - 1).toExponential(1)})`);
  console.log('| weight | gradient: max rel | norm rel |', '\n| --- | ---: | ---: |');
  for (const g of r.gradients) console.log(`| ${g.name} | ${g.maxRel.toExponential(1)} | ${g.normRel.toExponential(1)} |`);
  console.log('\n| optimizer | first step: largest max rel over the weights |\n| --- | ---: |');
  for (const [name, gaps] of Object.entries(r.steps)) console.log(`| ${name} | ${Math.max(...gaps.map((g) => g.maxRel)).toExponential(1)} |`);
};

const [command, ...rest] = process.argv.slice(2);
if (command === 'table') await table(rest);
else if (command === 'step') await step(rest);
else fail(`usage: vae-modes.ts table --optbench DIR --keras FILE --out DIR [--threshold 40] [--epoch 2] | step FILE [--backend native|cpu]`);
