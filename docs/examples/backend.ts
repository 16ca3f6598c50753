// docs/adding-a-backend.md: the pattern of lib/backend/native*.ts, with a kernel in plain TypeScript in
// place of a C++ one. A backend is a MathBackendCPU (same storage: one typed array per tensor) under its own
// name, with every `cpu` kernel registered for that name and some of them replaced.
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

export const DEMO_BACKEND = 'docs-demo';

/** A replacement kernel: returns undefined to decline a case, which then runs the JavaScript kernel. */
type Impl = (args: { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs: tf.NamedAttrMap }) => tf.TensorInfo | undefined;

const square: Impl = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const xs = backend.data.get(x.dataId).values;
  if (x.dtype !== 'float32' || !(xs instanceof Float32Array)) return undefined;
  const y = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) y[i] = xs[i]! * xs[i]!;
  return backend.makeTensorInfo(x.shape, 'float32', y);
};

const IMPLEMENTATIONS = new Map<string, Impl>([['Square', square]]);

/** The CPU backend under its own name; it only silences the CPU backend's advice to install tfjs-node. */
class DemoBackend extends MathBackendCPU {
  constructor() {
    super();
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }
}

/** How often the replacement ran and declined, to check which path a test took. */
export const demoCalls = { ran: 0, declined: 0 };

/** Registers the backend once; `await tf.setBackend(DEMO_BACKEND)` then activates it. */
export const registerDemoBackend = (): void => {
  if (tf.findBackendFactory(DEMO_BACKEND) !== null) return;
  for (const cpu of tf.getKernelsForBackend('cpu')) {
    const impl = IMPLEMENTATIONS.get(cpu.kernelName);
    const fallback = cpu.kernelFunc;
    const kernelFunc: tf.KernelFunc =
      impl === undefined
        ? fallback
        : (args) => {
            const out = impl({ ...args, backend: args.backend as MathBackendCPU, attrs: args.attrs ?? {} });
            if (out === undefined) demoCalls.declined++;
            else demoCalls.ran++;
            return out ?? fallback(args);
          };
    tf.registerKernel({ ...cpu, backendName: DEMO_BACKEND, kernelFunc });
  }
  // Priority 0: below `cpu` (1), so that TF.js never picks it by itself.
  tf.registerBackend(DEMO_BACKEND, () => new DemoBackend(), 0);
};
