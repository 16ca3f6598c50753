import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { availableParallelism } from 'node:os';
import { backendUnavailable, type BackendUnavailable } from '../errors.js';
import { loadAddon, type NativeAddon } from './native-addon.js';
import { nativeKernelConfigs } from './native-kernels.js';
import { NativeBackend } from './native-backend.js';
import { adamKernelConfig, adamaxKernelConfig, adamwKernelConfig, dropoutMaskKernelConfig, lionKernelConfig } from './native-fused.js';
import { activationGradConfigs, activationGradKernelConfig } from './native-grads.js';
import { convGradConfig, convKernelConfig } from './native-conv.js';
import { denseGradConfig, denseKernelConfig } from './native-dense.js';
import { softmaxCrossEntropyGradConfig, softmaxCrossEntropyKernelConfigs } from './native-loss.js';

const NATIVE_BACKEND = 'native';

/** OpenMP threads: OPTBENCH_THREADS when set, else one per core. */
export const nativeThreads = (env: NodeJS.ProcessEnv = process.env): E.Either<BackendUnavailable, number> => {
  const raw = env['OPTBENCH_THREADS'];
  if (raw === undefined || raw === '') return E.right(availableParallelism());
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 1024
    ? E.right(n)
    : E.left(
        backendUnavailable({
          backend: NATIVE_BACKEND,
          message: `OPTBENCH_THREADS must be a whole number from 1 to 1024, got '${raw}'. Unset it to use one thread per core.`,
        }),
      );
};

let loaded: E.Either<BackendUnavailable, NativeAddon> | undefined;

/** The addon of a successful loadNative(), for diagnostics and benchmarks. */
export const nativeAddon = (): NativeAddon | undefined =>
  loaded !== undefined && E.isRight(loaded) ? loaded.right : undefined;

const register = (addon: NativeAddon): E.Either<BackendUnavailable, NativeAddon> => {
  const threads = nativeThreads();
  if (E.isLeft(threads)) return threads;
  try {
    addon.setThreads(threads.right);
    if (tf.findBackendFactory(NATIVE_BACKEND) === null) {
      for (const config of nativeKernelConfigs(addon, NATIVE_BACKEND)) tf.registerKernel(config);
      tf.registerKernel(adamaxKernelConfig(addon, NATIVE_BACKEND));
      tf.registerKernel(adamKernelConfig(addon, NATIVE_BACKEND));
      tf.registerKernel(adamwKernelConfig(addon, NATIVE_BACKEND));
      tf.registerKernel(lionKernelConfig(addon, NATIVE_BACKEND));
      tf.registerKernel(dropoutMaskKernelConfig(addon, NATIVE_BACKEND));
      tf.registerKernel(activationGradKernelConfig(addon, NATIVE_BACKEND));
      // Same formulas as TF.js's own on every backend; one fused pass on native (native-grads.ts).
      for (const config of activationGradConfigs) tf.registerGradient(config);
      tf.registerKernel(denseKernelConfig(addon, NATIVE_BACKEND));
      tf.registerGradient(denseGradConfig);
      tf.registerKernel(convKernelConfig(NATIVE_BACKEND));
      tf.registerGradient(convGradConfig);
      for (const config of softmaxCrossEntropyKernelConfigs(addon, NATIVE_BACKEND)) tf.registerKernel(config);
      tf.registerGradient(softmaxCrossEntropyGradConfig);
      tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 3);
    }
    if (tf.findBackend(NATIVE_BACKEND) === null) throw new Error('the backend failed to initialise');
    return E.right(addon);
  } catch (e) {
    return E.left(
      backendUnavailable({
        backend: NATIVE_BACKEND,
        message: `The 'native' backend could not be set up: ${e instanceof Error ? e.message : String(e)}. Use --backend cpu.`,
      }),
    );
  }
};

/**
 * Registers and initialises the TF.js backend 'native' (C++ kernels over oneDNN), so that
 * `await tf.setBackend('native')` works. Left when the addon is not built or cannot load; the message says
 * how to build it. Idempotent.
 */
export const loadNative = async (): Promise<E.Either<BackendUnavailable, void>> => {
  if (loaded === undefined || E.isLeft(loaded)) loaded = E.chain(register)(loadAddon());
  return E.map(() => undefined)(loaded);
};
