/**
 * Milliseconds per training step (forward, loss, backward, Adamax update; batch 200) of each study model,
 * on the `native` backend and, for one step, on TF.js's JavaScript `cpu` backend.
 *
 *   npm run bench -- [--json] [--backends native,cpu] [--models fcnn,scnn] [--steps 20] [--batch 200] [--profile] [--torch [--rounds 5]]
 *
 * `--profile` also prints, per model, the kernels that take the most time in one native step (tf.profile).
 * `--torch` also times the PyTorch reference (../shared/bench/peer_torch.py, or $OPTBENCH_TORCH_DIR) in
 * `--rounds` rounds (default 5) alternating with native, and prints native / PyTorch per round and its
 * median. Where no PyTorch can be had, it says so and the ratio is left out.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadNative } from '../lib/backend/native.js';
import { getModel, trainableVariables, disposeModel, type BuiltModel } from '../lib/models/index.js';
import { createOptimizer } from '../lib/optimizers/index.js';
import { classifierForward, vaeForward } from '../lib/train/losses.js';

const MODELS = ['fcnn', 'scnn', 'bcnn', 'mcnn', 'vae1', 'vae2'] as const;
const BACKENDS = ['native', 'cpu'] as const;
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
}

const fail = (message: string): never => {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
};

const parseArgs = (argv: readonly string[]): Options => {
  const o: Options = { json: false, backends: [...BACKENDS], models: [...MODELS], steps: 20, batch: 200, profile: false, torch: false, rounds: 5 };
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
    else fail(`unknown option '${a}'; options: --json --backends --models --steps --batch --profile --torch --rounds`);
  }
  return o;
};

/** A training step of one freshly built model on the active backend, with a fixed random batch. */
interface Trainer {
  step(): void;
  dispose(): void;
}

const trainer = (name: string, batch: number): Trainer => {
  const def = getModel(name);
  if (E.isLeft(def)) return fail(def.left.message);
  const opt = createOptimizer('adamax', { preset: 'tfkeras2' });
  if (E.isLeft(opt)) return fail(opt.left.message);
  const model: BuiltModel = def.right.build(42);
  const vars = trainableVariables(model);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D;
  const loss =
    model.kind === 'classifier'
      ? () => classifierForward(model, x, labels, true).loss
      : () => vaeForward(model, x, true, 3).loss;
  return {
    step: () => tf.tidy(() => void opt.right.minimize(loss, false, vars)),
    dispose: () => {
      opt.right.dispose();
      disposeModel(model);
      tf.dispose([x, labels]);
    },
  };
};

const timeMs = (f: () => void): number => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const round = (x: number): number => Math.round(x * 100) / 100;

/** Median and minimum over the timed steps; the minimum is the figure least disturbed by other jobs. */
const nativeMs = (name: string, o: Options): { median: number; min: number } => {
  const t = trainer(name, o.batch);
  for (let i = 0; i < 3; i++) t.step();
  const ms = Array.from({ length: o.steps }, () => timeMs(t.step));
  t.dispose();
  return { median: median(ms), min: Math.min(...ms) };
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
    else if (name === 'Conv2D') fwd = 2 * batch * out[1]! * out[2]! * kernel.reduce((p, d) => p * d, 1);
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
  const def = getModel(name);
  if (E.isLeft(def)) return fail(def.left.message);
  const probeModel = def.right.build(42);
  const bound = (1000 * stepFlops(probeModel, o.batch)) / CPU_BEST_FLOPS;
  disposeModel(probeModel);
  if (bound > CPU_LIMIT_MS) return { estimate: bound };
  const stepAt = (batch: number): number => {
    const t = trainer(name, batch);
    t.step(); // the first call allocates optimizer slots
    const ms = timeMs(t.step);
    t.dispose();
    return ms;
  };
  const one = stepAt(1);
  const perImage = Math.max(0, (stepAt(4) - one) / 3);
  const estimate = Math.max(bound, one - perImage + perImage * o.batch);
  if (estimate > CPU_LIMIT_MS) return { estimate };
  const t = trainer(name, o.batch);
  const ms = timeMs(t.step);
  t.dispose();
  return { ms, estimate };
};

const profile = async (name: string, o: Options): Promise<string[]> => {
  const t = trainer(name, o.batch);
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

/** The PyTorch reference's directory: peer_torch.py and torch-env.sh (which finds or makes a Python with torch). */
const TORCH_DIR = process.env['OPTBENCH_TORCH_DIR'] ?? resolve(import.meta.dirname, '..', '..', 'shared', 'bench');

/** Median ms per step of each model in PyTorch, or why it could not be timed. */
const torchMs = (models: readonly string[], steps: number): { ms: Record<string, number> } | { why: string } => {
  const script = join(TORCH_DIR, 'peer_torch.py');
  const env = join(TORCH_DIR, 'torch-env.sh');
  if (!existsSync(script) || !existsSync(env)) return { why: `${script} or torch-env.sh not found (set OPTBENCH_TORCH_DIR)` };
  const r = spawnSync(
    'bash',
    ['-c', 'source "$1" && torch_env || exit 3; "$TORCH_PY" "$2" "$3" "$4"', 'torch', env, script, models.join(','), String(steps)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status === 3) return { why: 'torch-env.sh found no PyTorch for this machine' };
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as Record<string, unknown>;
    const ms: Record<string, number> = {};
    for (const m of models) if (typeof parsed[m] === 'number') ms[m] = parsed[m];
    return { ms };
  } catch {
    return { why: `peer_torch.py failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}` };
  }
};

/**
 * PyTorch and native timed in alternation: each round times every model in PyTorch, then on native, and
 * takes their ratio; the machine's speed drifts by tens of percent over minutes, and a ratio within a
 * round is fair where one taken across the run is not. Prints each round and the median ratio.
 */
const pairedRounds = async (o: Options, results: Record<string, Record<string, number | null>>, log: (s: string) => void) => {
  await tf.setBackend('native');
  const ratios: Record<string, number[]> = {};
  const torchSeen: Record<string, number[]> = {};
  const nativeSeen: Record<string, number[]> = {};
  log(`  PyTorch vs native, ${o.rounds} rounds of (PyTorch, then native), median of ${o.steps} steps each:`);
  for (let r = 1; r <= o.rounds; r++) {
    const torch = torchMs(o.models, o.steps);
    if ('why' in torch) {
      log(`  PyTorch reference: not timed (${torch.why})`);
      return;
    }
    const cells: string[] = [];
    for (const name of o.models) {
      const t = torch.ms[name];
      if (t === undefined) continue;
      const n = nativeMs(name, o).median;
      (ratios[name] ??= []).push(n / t);
      (torchSeen[name] ??= []).push(t);
      (nativeSeen[name] ??= []).push(n);
      cells.push(`${name} ${t.toFixed(1)}/${n.toFixed(1)} = ${(n / t).toFixed(2)}x`);
    }
    log(`    round ${r} (torch/native ms): ${cells.join('  ')}`);
  }
  for (const name of Object.keys(ratios)) {
    const ratio = median(ratios[name]!);
    Object.assign((results[name] ??= {}), {
      torch: round(median(torchSeen[name]!)),
      nativePaired: round(median(nativeSeen[name]!)),
      vsTorch: round(ratio),
      vsTorchRounds: ratios[name]!.map(round),
    });
    log(`  ${name.padEnd(5)} native / PyTorch ${ratio.toFixed(2)}x (median over rounds; range ${Math.min(...ratios[name]!).toFixed(2)}-${Math.max(...ratios[name]!).toFixed(2)})`);
  }
};

const main = async (): Promise<void> => {
  const o = parseArgs(process.argv.slice(2));
  const results: Record<string, Record<string, number | null>> = {};
  const log = (s: string) => {
    if (!o.json) process.stdout.write(`${s}\n`);
  };
  if (o.backends.includes('native')) {
    const r = await loadNative();
    if (E.isLeft(r)) return fail(r.left.message);
  }
  log(`ms per training step (batch ${o.batch}, Adamax, median of ${o.steps} on native; one step on cpu)`);
  // Other processes share the cores; a load above the core count inflates every figure below.
  log(`  ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}, OPTBENCH_THREADS=${process.env['OPTBENCH_THREADS'] ?? '(unset)'}`);
  for (const name of o.models) {
    const row: Record<string, number | null> = {};
    const parts: string[] = [];
    if (o.backends.includes('native')) {
      await tf.setBackend('native');
      const nat = nativeMs(name, o);
      row['native'] = round(nat.median);
      row['nativeMin'] = round(nat.min);
      parts.push(`native ${nat.median.toFixed(1)} (min ${nat.min.toFixed(1)})`);
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
      const nat = row['native'];
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
      for (const line of await profile(name, o)) log(line);
    }
  }
  if (o.torch && o.backends.includes('native')) await pairedRounds(o, results, log);
  if (o.json) process.stdout.write(`${JSON.stringify(results)}\n`);
};

await main();
