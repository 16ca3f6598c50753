import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { backendUnavailable, type BackendUnavailable } from '../errors.js';
import { decodeOps, type NativeOps } from './native-ops.js';

type F32 = Float32Array;

/** The C++ side (native/*.cc): every function writes into an output array allocated by the caller. */
export interface NativeAddon {
  /** The op tables of native/ops.h, name -> code: every `op`, `act`, `mode` and `code` below comes from here. */
  readonly ops: NativeOps;
  setThreads(n: number): void;
  getThreads(): number;
  version(): { major: number; minor: number; patch: number; cpuRuntime: string };
  /** geom: N, H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR; act: ops.act. */
  conv2d(x: F32, filter: F32, bias: F32 | null, y: F32, geom: number[], act: number, alpha: number): void;
  conv2dBackpropInput(dy: F32, filter: F32, dx: F32, geom: number[]): void;
  conv2dBackpropFilter(x: F32, dy: F32, dw: F32, geom: number[]): void;
  /** oneDNN's implementation for that convolution and its activations' layout: 'jit:avx2 blocked'. */
  convImpl(kind: 'fwd' | 'bwd_data' | 'bwd_weights', geom: number[]): string;
  /** Where the convolutions' activations live (ops.convLayout; see native-layout.ts). */
  setConvLayout(code: number): void;
  /** dims: batchA, batchB, M, N, K, transposeA (0|1), transposeB (0|1). */
  matmul(a: F32, b: F32, out: F32, dims: number[], bias: F32 | null, act: number, alpha: number): void;
  /** geom: N, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL. */
  maxPool(x: F32, y: F32, geom: number[]): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, geom: number[]): void;
  unary(op: number, x: F32, y: F32, alpha: number): void;
  /** op: ops.activationGrad (tanh and sigmoid take v = y, relu v = x); dx = the activation's gradient times dy. */
  activationGrad(op: number, v: F32, dy: F32, dx: F32): void;
  binary(op: number, a: F32, aShape: number[], b: F32, bShape: number[], out: F32, outShape: number[]): void;
  addN(xs: F32[], out: F32): void;
  tile(x: F32, xShape: number[], out: F32, reps: number[]): void;
  reduce(op: number, x: F32, out: F32, outer: number, reduce: number, inner: number): void;
  argMax(x: F32, out: Int32Array, outer: number, reduce: number): void;
  softmax(x: F32, y: F32, rows: number, cols: number): void;
  /** One Adamax step (tf.keras or torch epsilon placement), bit-identical to the composed ops. */
  adamax(
    g: F32,
    theta: F32,
    m: F32,
    u: F32,
    thetaOut: F32,
    mOut: F32,
    uOut: F32,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    eps: number,
    step: number,
    torch: boolean,
  ): void;
  /** One Adam step (tf.keras epsilon-hat or bias-corrected), bit-identical to the composed ops. */
  adam(
    g: F32,
    theta: F32,
    m: F32,
    v: F32,
    thetaOut: F32,
    mOut: F32,
    vOut: F32,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    eps: number,
    alpha: number,
    invBc2: number,
    biasCorrected: boolean,
  ): void;
  /** One AdamW step (torch.optim.AdamW: decay = 1 - lr*wd, step = lr/(1-b1^t)), bit-identical to the composed ops. */
  adamw(
    g: F32,
    theta: F32,
    m: F32,
    v: F32,
    thetaOut: F32,
    mOut: F32,
    vOut: F32,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    eps: number,
    decay: number,
    step: number,
    invBc2: number,
  ): void;
  /** One Lion step (lion-pytorch: decay = 1 - lr*wd), bit-identical to the composed ops. */
  lion(
    g: F32,
    theta: F32,
    m: F32,
    thetaOut: F32,
    mOut: F32,
    lr: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    decay: number,
  ): void;
  /** out[i] = 1 / (1 - rate) with probability 1 - rate, else 0, from a hash of (seed, i). */
  dropoutMask(out: F32, rate: number, seed: number): void;
  batchNorm(x: F32, mean: F32, variance: F32, offset: F32 | null, scale: F32 | null, y: F32, eps: number): void;
  /** out[0] = mean softmax cross-entropy of logits [rows, cols] against labels (native/loss.cc). */
  softmaxCrossEntropy(logits: F32, labels: Int32Array, out: F32, rows: number, cols: number): void;
  /** dx = its gradient with respect to the logits for the upstream gradient dy. */
  softmaxCrossEntropyGrad(logits: F32, labels: Int32Array, dy: number, dx: F32, rows: number, cols: number): void;
  /** Precision of convolutions and products (ops.precision): fp32, bf16 (oneDNN), bf16 emulated. */
  setPrecision(mode: number): void;
  getPrecision(): number;
  /** The oneDNN implementations of sample bf16 primitives ("unavailable: ..." where there is none) and the ISA. */
  bf16Probe(): { isa: string; convForward: string; convBackwardData: string; convBackwardWeights: string; matmul: string };
  /** The oneDNN implementation of a bf16 product m x n x k; throws (oneDNN: ...) where there is none. */
  matmulImpl(m: number, n: number, k: number, transposeA: number, transposeB: number): string;
}

const ADDON = join('build', 'Release', 'optbench_native.node');

const HOW_TO_BUILD =
  "Install oneDNN (Debian/Ubuntu: 'apt-get install libdnnl-dev') and a C++ compiler, then rebuild the addon " +
  "with 'npm rebuild optbench' (or 'node scripts/build-native.mjs' in a checkout), or use --backend cpu.";

/** The package root: the nearest directory above this module whose package.json is optbench's. */
const packageRoot = (): string | undefined => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name === 'optbench') return dir;
      } catch {
        // an unreadable package.json is not ours; keep climbing
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
};

/** Loads the compiled addon, or says why it cannot and how to build it. */
export const loadAddon = (): E.Either<BackendUnavailable, NativeAddon> => {
  const root = packageRoot();
  const file = root === undefined ? undefined : join(root, ADDON);
  if (file === undefined || !existsSync(file))
    return E.left(
      backendUnavailable({
        backend: 'native',
        message: `The 'native' backend is not built (${file ?? ADDON} is missing). ${HOW_TO_BUILD}`,
      }),
    );
  // OpenMP threads that spin between kernels steal the core that JavaScript (and V8's helpers) need between
  // kernels, and on a busy machine each parallel region then waits out a scheduler tick: measured 3 ms
  // instead of 50 us for a 100k-element product. Sleeping threads cost a wake-up (~10-50 us) instead.
  // libgomp reads this when it loads, so it must be set before the addon is; a user's own setting wins.
  if (process.env['OMP_WAIT_POLICY'] === undefined && process.env['GOMP_SPINCOUNT'] === undefined)
    process.env['OMP_WAIT_POLICY'] = 'passive';
  return pipe(
    E.tryCatch(
      () => createRequire(import.meta.url)(file) as RawAddon,
      (e) =>
        backendUnavailable({
          backend: 'native',
          message: `The 'native' backend's addon ${file} failed to load (${e instanceof Error ? e.message : String(e)}). ${HOW_TO_BUILD}`,
        }),
    ),
    E.chain((raw) => withOps(raw, file)),
  );
};

/** The addon as loaded, before its op tables are checked. */
export type RawAddon = Omit<NativeAddon, 'ops'> & { readonly ops?: unknown };

/**
 * The loaded addon with its op tables checked (native-ops.ts): an addon compiled from other sources (an
 * older checkout's build/) would take codes it does not know, so it is refused with how to rebuild it.
 */
export const withOps = (raw: RawAddon, file: string): E.Either<BackendUnavailable, NativeAddon> =>
  pipe(
    decodeOps(raw.ops),
    E.bimap(
      (why) =>
        backendUnavailable({
          backend: 'native',
          message:
            `The 'native' backend's addon ${file} does not match this optbench: ${why}; it was built from other ` +
            `sources. Rebuild it with 'npm rebuild optbench' (or 'node scripts/build-native.mjs' in a checkout), ` +
            `or use --backend cpu.`,
        }),
      (ops): NativeAddon => Object.assign(raw, { ops }),
    ),
  );
