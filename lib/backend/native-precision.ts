import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type { Precision } from '../config/spec.js';
import { backendUnavailable, type BackendUnavailable } from '../errors.js';
import { nativeAddon } from './native.js';
import { opCode, PRECISION_MODES, type PrecisionMode } from './native-ops.js';

/**
 * The precision of a run's convolutions and matrix products. `fp32` (the default and the study's) is
 * float32 throughout. `bf16` gives those products bf16 operands with float32 accumulation and float32
 * outputs, on the `native` backend only; weights, optimizer state, losses, reductions and every
 * element-wise op stay float32 (the master weights are float32 and are rounded to bf16 as operands).
 *
 * Where oneDNN has a bf16 implementation other than its reference loops (CPUs with avx512_bf16 or AMX;
 * AVX-512 CPUs without them get oneDNN's emulated bf16 instructions), it is used. Where it has none
 * (oneDNN 2.6 on an AVX2-only CPU has no bf16 primitives at all) each such product is emulated: the
 * operands are rounded to bf16 (round to nearest even) and the float32 primitive runs on them. A product
 * of two bf16 numbers is exact in float32, so the emulation computes the same numbers as oneDNN's bf16 up
 * to the order of the float32 summation, at float32 speed: results are bf16's, the speed-up is not there.
 */
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];
export type { Precision };

/** What oneDNN offers for bf16 on this CPU: implementation names, as oneDNN reports them. */
export interface Bf16Probe {
  readonly isa: string;
  readonly convForward: string;
  readonly convBackwardData: string;
  readonly convBackwardWeights: string;
  readonly matmul: string;
}

/** How bf16 runs here: through oneDNN's own kernels, or emulated (see above). */
export interface Bf16Support {
  readonly probe: Bf16Probe;
  /** True when every probed primitive has an implementation other than oneDNN's reference loops. */
  readonly fast: boolean;
}

/** Addon modes, by name (their codes: native/ops.h `OB_PRECISIONS`). */
export { PRECISION_MODES, type PrecisionMode } from './native-ops.js';

const fastImpl = (name: string): boolean => !name.startsWith('ref') && !name.startsWith('unavailable');

/** oneDNN's bf16 on this CPU, or undefined when the native backend is not loaded. */
export const bf16Support = (): Bf16Support | undefined => {
  const addon = nativeAddon();
  if (addon === undefined) return undefined;
  const probe = addon.bf16Probe();
  const fast = [probe.convForward, probe.convBackwardData, probe.convBackwardWeights, probe.matmul].every(fastImpl);
  return { probe, fast };
};

/** The warning to show when bf16 is emulated here, or undefined when oneDNN runs it. */
export const bf16Warning = (support: Bf16Support): string | undefined =>
  support.fast
    ? undefined
    : `--precision bf16: oneDNN has no fast bf16 kernels on this CPU (ISA ${support.probe.isa}; it needs ` +
      `avx512_bf16 or AMX for speed), so bf16 is emulated: operands are rounded to bf16 and multiplied in ` +
      `float32, which gives bf16's numbers (up to summation order) at float32 speed, not bf16's speed-up.`;

/** The addon's current mode, or undefined when the native backend is not loaded. */
export const nativePrecisionMode = (): PrecisionMode | undefined => {
  const addon = nativeAddon();
  if (addon === undefined) return undefined;
  const m = addon.getPrecision();
  return PRECISION_MODES.find((k) => opCode(addon.ops.precision, k) === m);
};

/**
 * Sets the addon's mode directly ('bf16' still emulates primitives oneDNN lacks). For tests and
 * benchmarks; runs go through withPrecision.
 */
export const setNativePrecisionMode = (mode: PrecisionMode): void => {
  const addon = nativeAddon();
  addon?.setPrecision(opCode(addon.ops.precision, mode));
};

/**
 * Whether a run in `precision` can compute on the active backend: fp32 always can; bf16 needs `native`
 * active, else BackendUnavailable saying so. On success, the warning to show when bf16 is emulated here.
 * Nothing is changed: a run's products take its precision only inside `withPrecision`.
 */
export const checkPrecision = (precision: Precision): E.Either<BackendUnavailable, { warning?: string }> => {
  if (precision === 'fp32') return E.right({});
  const support = tf.getBackend() === 'native' ? bf16Support() : undefined;
  if (support === undefined)
    return E.left(
      backendUnavailable({
        backend: tf.getBackend(),
        message:
          `--precision bf16 needs the 'native' backend (bf16 products through oneDNN), but the active backend ` +
          `is '${tf.getBackend()}'. Use --backend native, or --precision fp32.`,
      }),
    );
  const warning = bf16Warning(support);
  return E.right(warning === undefined ? {} : { warning });
};

/**
 * Runs the synchronous `fn` (a training step, an evaluation) with the native products in `precision`, and
 * puts back the mode that was there before, however `fn` ends. The addon's mode is one per process, but
 * JavaScript runs one synchronous block at a time: scoped to such blocks, two runs in one process (one in
 * bf16, one in fp32) each compute in their own precision, as they would in two processes.
 */
export const withPrecision = <T>(precision: Precision, fn: () => T): T => {
  const addon = nativeAddon();
  if (addon === undefined) return fn();
  const before = addon.getPrecision();
  const wanted = opCode(addon.ops.precision, precision);
  if (before === wanted) return fn();
  addon.setPrecision(wanted);
  try {
    return fn();
  } finally {
    addon.setPrecision(before);
  }
};
