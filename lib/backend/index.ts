// optbench/backend: choosing and loading a TensorFlow.js backend (native, cpu, tensorflow, tensorflow-gpu),
// and the precision a computation runs at.
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { backendUnavailable, unknown, type OptbenchError } from '../errors.js';
import { isOneOf } from '../one-of.js';
import { installFastCpuKernels } from './cpu-kernels.js';
import { loadNative } from './native.js';

export { PRECISIONS, bf16Support, checkPrecision, withPrecision, type Bf16Support, type Precision } from './native-precision.js';

export const BACKEND_NAMES = ['native', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Fastest first: `auto` takes the first of these that loads. */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'native', 'tensorflow', 'cpu'];

const NODE_PACKAGES: Record<'tensorflow' | 'tensorflow-gpu', string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

const loadNodeBinding = async (name: 'tensorflow' | 'tensorflow-gpu'): Promise<E.Either<OptbenchError, void>> => {
  const pkg = NODE_PACKAGES[name];
  try {
    await import(pkg);
    return E.right(undefined);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return E.left(
      backendUnavailable({
        backend: name,
        message:
          `The '${name}' backend needs ${pkg}, which is not installed (${why}). ` +
          `Install it with \`npm install ${pkg}@4.22.0\` on a machine with internet access (it downloads ` +
          `libtensorflow${name === 'tensorflow-gpu' ? ' and needs CUDA' : ''}), or use --backend native or cpu.`,
      }),
    );
  }
};

const load = async (name: BackendName): Promise<E.Either<OptbenchError, void>> => {
  switch (name) {
    case 'cpu':
      return E.right(undefined);
    case 'native':
      return loadNative();
    case 'tensorflow':
    case 'tensorflow-gpu':
      return loadNodeBinding(name);
  }
};

/** TF.js's own name for each of ours. */
const tfName = (name: BackendName): string => (name === 'tensorflow-gpu' ? 'tensorflow' : name);

/**
 * Loads and activates a backend. `auto` (the default) takes the fastest that loads here. Returns the
 * name of the backend now active, or BackendUnavailable saying how to get the one asked for.
 */
export const useBackend = async (requested: string = 'auto'): Promise<E.Either<OptbenchError, BackendName>> => {
  installFastCpuKernels();
  if (requested !== 'auto' && !isOneOf(BACKEND_NAMES)(requested)) {
    return E.left(unknown('backend', requested, [...BACKEND_NAMES, 'auto']));
  }
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  let lastError: OptbenchError | undefined;
  for (const name of candidates) {
    const loaded = await load(name);
    if (E.isLeft(loaded)) {
      lastError = loaded.left;
      continue;
    }
    if (await tf.setBackend(tfName(name))) {
      await tf.ready();
      return E.right(name);
    }
    lastError = backendUnavailable({ backend: name, message: `The '${name}' backend failed to initialise.` });
  }
  return E.left(lastError ?? backendUnavailable({ backend: requested, message: `No backend could be loaded.` }));
};

/** Which backends load on this machine, for `optbench list` and docs. */
export const availableBackends = async (): Promise<Array<{ name: BackendName; available: boolean; why?: string }>> => {
  const out: Array<{ name: BackendName; available: boolean; why?: string }> = [];
  for (const name of BACKEND_NAMES) {
    const r = await load(name);
    out.push(E.isRight(r) ? { name, available: true } : { name, available: false, why: r.left.message });
  }
  return out;
};
