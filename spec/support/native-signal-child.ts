/**
 * Child process of spec/native-signals.spec.ts: runs native matrix products and convolutions (forward and
 * both gradients) in a loop while signals arrive, and checks that every repetition gives the same numbers.
 * Prints `ready` once its SIGUSR2 handler is in place, then `handled N` (SIGUSR2 signals handled) and `done`, or exits non-zero.
 *
 *   node --import tsx spec/support/native-signal-child.ts <repetitions>
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { loadNative } from '../../lib/backend/native.js';

const reps = Number(process.argv[2] ?? 100);
let handled = 0;
process.on('SIGUSR2', () => void handled++);

const loaded = await loadNative();
if (E.isLeft(loaded)) {
  process.stderr.write(`${loaded.left.message}\n`);
  process.exit(3);
}
const a = tf.randomUniform([200, 784], -1, 1, 'float32', 1);
const w = tf.randomUniform([784, 512], -1, 1, 'float32', 2);
const x = tf.randomUniform([50, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
const f = tf.randomUniform([5, 5, 1, 40], -1, 1, 'float32', 4) as tf.Tensor4D;
const work = (): Float32Array[] =>
  tf.tidy(() => {
    const dense = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q).square().sum());
    const conv = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid').square().sum());
    return [...dense([a, w]), ...conv([x, f])].map((t) => t.dataSync() as Float32Array);
  });

process.stdout.write('ready\n');
const first = work();
for (let i = 1; i < reps; i++) {
  const now = work();
  now.forEach((v, k) => {
    if (v.some((e, j) => e !== first[k]![j])) {
      process.stderr.write(`repetition ${i}: output ${k} differs from the first repetition's\n`);
      process.exit(4);
    }
  });
  // Give pending signal handlers a turn, as a real training loop does between batches.
  if (i % 10 === 0) await new Promise((r) => setImmediate(r));
}
process.stdout.write(`handled ${handled}\ndone\n`);
