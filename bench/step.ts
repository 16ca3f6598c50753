/**
 * Milliseconds per training step (forward, loss, backward, Adamax update; batch 200) of each study model,
 * on the `native` backend and, for one step, on TF.js's JavaScript `cpu` backend.
 *
 *   npm run bench -- [--json] [--backends native,cpu] [--models fcnn,scnn] [--steps 20] [--batch 200]
 *                    [--precision fp32|bf16|both] [--profile] [--torch [--rounds 5]] [--conv-layouts nhwc,auto]
 *                    [--optimizer adamw[:key=value,...]] [--preset modern]
 *
 * `--optimizer` times another optimizer's update than Adamax (the --optimizers grammar, one item; under
 * `--preset`, default tfkeras2), e.g. AdamW beside Adam: its fused update is native's (native-fused.ts).
 * PyTorch's peer steps Adamax, so `--torch` takes no other optimizer.
 * `--precision` times native's products in fp32 (the default), bf16, or both (lib/backend/native-precision.ts).
 * `--profile` also prints, per model, the kernels that take the most time in one native step (tf.profile).
 * `--torch` also times the PyTorch reference (bench/torch.ts) in `--rounds` rounds (default 5) alternating
 * with native: PyTorch default, `--tuned`, and, where the CPU has avx512_bf16 or AMX, `--tuned --bf16`;
 * native in fp32 and, on such a CPU (or when `--precision` asks), in bf16; and prints every native / PyTorch
 * ratio per round and its median. Where no PyTorch can be had, it says so and the ratios are left out.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { availableParallelism, loadavg } from 'node:os';
import { loadNative } from '../lib/backend/native.js';
import { bf16Support, setNativePrecisionMode } from '../lib/backend/native-precision.js';
import { BUILT_IN_MODELS, disposeModel, type BuiltModel } from '../lib/models/index.js';
import { cpuInfo, median, pairedRounds, type TorchMode } from './torch.js';
import { parseOptimizerArg } from '../lib/optimizers/index.js';
import { BENCH_OPTIMIZER, fail, trainer, type BenchOptimizer } from './trainer.js';
import { CONV_LAYOUTS, setNativeConvLayout, type ConvLayout } from '../lib/backend/native-layout.js';

const MODELS = ['fcnn', 'scnn', 'bcnn', 'mcnn', 'vae1', 'vae2'] as const;
const BACKENDS = ['native', 'cpu'] as const;
const PRECISION_CHOICES = ['fp32', 'bf16', 'both'] as const;
/** A cpu step estimated to take longer than this is skipped. */
const CPU_LIMIT_MS = 60_000;

interface Options {
  json: boolean;
  backends: string[];
  models: string[];
  steps: number;
  batch: number;
  profile: boolean;
  torch: boolean;
  rounds: number;
  /** native's precisions; undefined: fp32, and bf16 too in the PyTorch rounds where the CPU has fast bf16. */
  precisions: string[] | undefined;
  /** Convolution layouts to compare on native, in alternating rounds; the first is the reference. */
  convLayouts: ConvLayout[] | undefined;
  /** The optimizer whose step is timed (Adamax at tf.keras 2.x defaults unless --optimizer says). */
  optimizer: BenchOptimizer;
}

const parseArgs = (argv: readonly string[]): Options => {
  const o: Options = { json: false, backends: [...BACKENDS], models: [...MODELS], steps: 20, batch: 200, profile: false, torch: false, rounds: 5, precisions: undefined, convLayouts: undefined, optimizer: BENCH_OPTIMIZER };
  let optimizerText: string | undefined;
  let preset = 'tfkeras2';
  const list = (v: string | undefined, valid: readonly string[], what: string): string[] => {
    const xs = (v ?? '').split(',').filter((s) => s !== '');
    const bad = xs.filter((s) => !valid.includes(s));
    if (xs.length === 0 || bad.length > 0) fail(`unknown ${what} '${bad.join(',')}'; valid: ${valid.join(', ')}`);
    return xs;
  };
  const int = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) fail(`${what} must be a positive whole number, got '${v ?? ''}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') o.json = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--torch') o.torch = true;
    else if (a === '--rounds') o.rounds = int(argv[++i], '--rounds');
    else if (a === '--backends') o.backends = list(argv[++i], BACKENDS, 'backend');
    else if (a === '--models') o.models = list(argv[++i], MODELS, 'model');
    else if (a === '--steps') o.steps = int(argv[++i], '--steps');
    else if (a === '--batch') o.batch = int(argv[++i], '--batch');
    else if (a === '--precision') {
      const p = list(argv[++i], PRECISION_CHOICES, 'precision');
      o.precisions = p.includes('both') ? ['fp32', 'bf16'] : p;
    } else if (a === '--conv-layouts') {
      o.convLayouts = list(argv[++i], CONV_LAYOUTS, 'conv layout') as ConvLayout[];
      if (o.convLayouts.length < 2) fail('--conv-layouts compares two or more layouts, e.g. nhwc,auto');
    } else if (a === '--optimizer') optimizerText = argv[++i] ?? '';
    else if (a === '--preset') preset = argv[++i] ?? '';
    else fail(`unknown option '${a}'; options: --json --backends --models --steps --batch --precision --profile --torch --rounds --conv-layouts --optimizer --preset`);
  }
  if (optimizerText !== undefined || preset !== 'tfkeras2') {
    const parsed = parseOptimizerArg(optimizerText ?? 'adamax');
    if (E.isLeft(parsed)) return fail(parsed.left.message);
    o.optimizer = { name: parsed.right.name, preset, overrides: parsed.right.overrides };
    if (o.torch && (o.optimizer.name !== 'adamax' || preset !== 'tfkeras2' || Object.keys(o.optimizer.overrides).length > 0))
      fail("--torch compares with PyTorch's Adamax at tf.keras 2.x defaults: leave --optimizer and --preset out");
  }
  return o;
};

const timeMs = (f: () => void): number => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const round = (x: number): number => Math.round(x * 100) / 100;

/** Median and minimum over the timed steps; the minimum is the figure least disturbed by other jobs. */
const nativeMs = (name: string, o: Options, precision = 'fp32'): { median: number; min: number } => {
  setNativePrecisionMode(precision === 'bf16' ? 'bf16' : 'fp32');
  try {
    const t = trainer(name, o.batch, o.optimizer);
    for (let i = 0; i < 3; i++) t.step();
    const ms = Array.from({ length: o.steps }, () => timeMs(t.step));
    t.dispose();
    return { median: median(ms), min: Math.min(...ms) };
  } finally {
    setNativePrecisionMode('fp32');
  }
};

/**
 * Multiply-add work of one training step: forward, plus both backward products (except the input
 * gradient of the first layer, which TF.js does not compute), in floating-point operations.
 */
const stepFlops = (model: BuiltModel, batch: number): number => {
  const layers = model.kind === 'classifier' ? model.net.layers : [...model.encoder.layers, ...model.decoder.layers];
  let flops = 0;
  let first = true;
  for (const l of layers) {
    const kernel = l.getWeights()[0]?.shape;
    if (kernel === undefined || kernel.length < 2) continue;
    const name = l.getClassName();
    const out = l.outputShape as number[];
    const inp = (l.input as tf.SymbolicTensor).shape as number[];
    let fwd = 0;
    if (name === 'Dense' || name === 'KerasDense') fwd = 2 * batch * kernel[0]! * kernel[1]!;
    else if (name === 'Conv2D' || name === 'KerasConv2D') fwd = 2 * batch * out[1]! * out[2]! * kernel.reduce((p, d) => p * d, 1);
    else if (name === 'Conv2DTranspose') fwd = 2 * batch * inp[1]! * inp[2]! * kernel.reduce((p, d) => p * d, 1);
    flops += fwd * (first ? 2 : 3);
    if (fwd > 0) first = false;
  }
  return flops;
};

/** TF.js's JavaScript matrix product reached about this here; its convolutions are slower still. */
const CPU_BEST_FLOPS = 0.5e9;

/**
 * One cpu step, or an estimate when it would exceed the limit: first a lower bound from the step's FLOPs
 * at the JavaScript backend's best speed, then (where that does not settle it) a fit of time = fixed +
 * per-image * batch to steps at batches 1 and 4.
 */
const cpuMs = (name: string, o: Options): { ms?: number; estimate: number } => {
  const def = BUILT_IN_MODELS.get(name);
  if (E.isLeft(def)) return fail(def.left.message);
  const probeModel = def.right.build(42);
  const bound = (1000 * stepFlops(probeModel, o.batch)) / CPU_BEST_FLOPS;
  disposeModel(probeModel);
  if (bound > CPU_LIMIT_MS) return { estimate: bound };
  const stepAt = (batch: number): number => {
    const t = trainer(name, batch, o.optimizer);
    t.step(); // the first call allocates optimizer slots
    const ms = timeMs(t.step);
    t.dispose();
    return ms;
  };
  const one = stepAt(1);
  const perImage = Math.max(0, (stepAt(4) - one) / 3);
  const estimate = Math.max(bound, one - perImage + perImage * o.batch);
  if (estimate > CPU_LIMIT_MS) return { estimate };
  const t = trainer(name, o.batch, o.optimizer);
  const ms = timeMs(t.step);
  t.dispose();
  return { ms, estimate };
};

const profile = async (name: string, o: Options): Promise<string[]> => {
  const t = trainer(name, o.batch, o.optimizer);
  for (let i = 0; i < 3; i++) t.step();
  const info = await tf.profile(() => t.step());
  t.dispose();
  const byKernel = new Map<string, number>();
  // Names ending in __op are composite ops (custom gradients) whose time includes their kernels.
  for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  return [...byKernel.entries()]
    .sort((a, b) => b[1] - a[1])
    .filter(([, ms]) => ms / total > 0.01)
    .map(([k, ms]) => `    ${k.padEnd(24)} ${ms.toFixed(2).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %`)
    .concat([`    ${'(all kernels)'.padEnd(24)} ${total.toFixed(2).padStart(9)} ms, ${info.kernels.length} calls`]);
};

const main = async (): Promise<void> => {
  const o = parseArgs(process.argv.slice(2));
  const results: Record<string, Record<string, unknown>> = {};
  const log = (s: string) => {
    if (!o.json) process.stdout.write(`${s}\n`);
  };
  if (o.backends.includes('native')) {
    const r = await loadNative();
    if (E.isLeft(r)) return fail(r.left.message);
  }
  const cpu = cpuInfo();
  const support = o.backends.includes('native') ? bf16Support() : undefined;
  const precisions = o.precisions ?? ['fp32'];
  log(`ms per training step (batch ${o.batch}, ${o.optimizer.name} (${o.optimizer.preset}), median of ${o.steps} on native; one step on cpu)`);
  // Other processes share the cores; a load above the core count inflates every figure below.
  log(`  ${cpu.model} (${cpu.flags.join(' ') || 'no AVX2'}), ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}, OPTBENCH_THREADS=${process.env['OPTBENCH_THREADS'] ?? '(unset)'}`);
  if (support !== undefined)
    log(`  native bf16: ${support.fast ? "oneDNN's bf16 kernels" : 'emulated (no fast bf16 in oneDNN here: bf16 numbers at fp32 speed)'}; oneDNN ISA ${support.probe.isa}`);
  for (const name of o.models) {
    const row: Record<string, number | null> = {};
    const parts: string[] = [];
    if (o.backends.includes('native')) {
      await tf.setBackend('native');
      for (const p of precisions) {
        const nat = nativeMs(name, o, p);
        const key = p === 'fp32' ? 'native' : `native${p[0]!.toUpperCase()}${p.slice(1)}`;
        row[key] = round(nat.median);
        row[`${key}Min`] = round(nat.min);
        parts.push(`native${p === 'fp32' ? '' : ` ${p}`} ${nat.median.toFixed(1)} (min ${nat.min.toFixed(1)})`);
      }
    }
    if (o.backends.includes('cpu')) {
      await tf.setBackend('cpu');
      // The CPU backend greets its first write with advice to install tfjs-node; not useful here.
      (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
      const c = cpuMs(name, o);
      row['cpu'] = c.ms === undefined ? null : round(c.ms);
      if (c.ms === undefined) {
        row['cpuEstimate'] = Math.round(c.estimate);
        parts.push(`cpu skipped (estimated ${(c.estimate / 1000).toFixed(0)} s > ${CPU_LIMIT_MS / 1000} s)`);
      } else parts.push(`cpu ${c.ms.toFixed(0)}`);
      const nat = row['native'] ?? row['nativeBf16'];
      const ref = c.ms ?? c.estimate;
      if (nat != null) {
        row['ratio'] = round(ref / nat);
        parts.push(`cpu/native ${c.ms === undefined ? '~' : ''}${(ref / nat).toFixed(0)}x`);
      }
    }
    results[name] = row;
    log(`  ${name.padEnd(5)} ${parts.join('  ')}`);
    if (o.profile && o.backends.includes('native')) {
      await tf.setBackend('native');
      for (const p of precisions) {
        if (precisions.length > 1) log(`    (${p})`);
        setNativePrecisionMode(p === 'bf16' ? 'bf16' : 'fp32');
        for (const line of await profile(name, o)) log(line);
        setNativePrecisionMode('fp32');
      }
    }
  }
  if (o.convLayouts !== undefined && o.backends.includes('native')) {
    await tf.setBackend('native');
    log(`  convolution layouts on native (fp32), ${o.rounds} rounds of (each layout), median of ${o.steps} steps each:`);
    for (const name of o.models) {
      const ms = new Map<ConvLayout, number[]>(o.convLayouts.map((l) => [l, []]));
      for (let r = 0; r < o.rounds; r++)
        for (const l of o.convLayouts) {
          setNativeConvLayout(l);
          ms.get(l)!.push(nativeMs(name, o).median);
        }
      setNativeConvLayout('auto');
      const [ref, ...others] = o.convLayouts;
      const refMs = ms.get(ref!)!;
      const ratios = others.map((l) => {
        const rs = ms.get(l)!.map((v, r) => v / refMs[r]!);
        return `${l}/${ref} ${median(rs).toFixed(2)}x (${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)})`;
      });
      const medians = o.convLayouts.map((l) => `${l} ${median(ms.get(l)!).toFixed(1)}`).join(', ');
      log(`  ${name.padEnd(5)} ${medians} ms; per-round ratio, median (range): ${ratios.join('  ')}`);
      Object.assign((results[name] ??= {}), { convLayouts: Object.fromEntries([...ms.entries()].map(([l, v]) => [l, v.map(round)])) });
    }
  }
  if (o.torch && o.backends.includes('native')) {
    await tf.setBackend('native');
    // bf16 in PyTorch only where it is fast; native's bf16 too there (or when --precision asks).
    const torchModes: TorchMode[] = cpu.bf16 ? ['default', 'tuned', 'tuned-bf16'] : ['default', 'tuned'];
    const paired = pairedRounds(
      { models: o.models, steps: o.steps, rounds: o.rounds, torchModes, precisions: o.precisions ?? (cpu.bf16 ? ['fp32', 'bf16'] : ['fp32']) },
      (name, p) => nativeMs(name, o, p).median,
      log,
    );
    for (const [name, row] of Object.entries(paired)) Object.assign((results[name] ??= {}), { paired: row });
  }
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
};

await main();
