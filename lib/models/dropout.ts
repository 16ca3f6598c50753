import * as tf from '@tensorflow/tfjs';
import { invalidConfig } from '../errors.js';
import { dropoutMask } from '../backend/native-fused.js';
import { mixSeed } from './hash.js';

/**
 * Dropout whose masks are reproducible AND fresh on every step.
 *
 * TF.js's own Dropout layer with a fixed `seed` draws the same mask on every call (its RNG is
 * re-seeded per op), and without a seed it is not reproducible. Here the trainer makes a scope per step,
 * `dropoutScope(stepSeed)`, and passes it with the forward pass (`net.apply(x, { training: true,
 * dropout })`, which TF.js hands to every layer); each dropout call derives its mask seed from (step
 * seed, the layer's index, the scope's call counter). The scope is a value of the step, never state of
 * the process, so runs side by side draw their own masks. Without a scope, in training mode, masks are
 * drawn from a random seed (like Keras without a global seed).
 *
 * A seed gives the same masks on every run on the same backend; `native` and `cpu` draw them from
 * different generators (see `call`).
 */
export interface DropoutScope {
  readonly seed: number;
  /** Dropout calls made in this step so far. */
  calls: number;
}

/** A step's dropout scope: pass it as `dropout` beside `training` when applying a model. */
export const dropoutScope = (seed: number): DropoutScope => ({ seed, calls: 0 });

/** The mask seed for one call of the dropout layer with this `index`. */
const callSeed = (scope: DropoutScope | undefined, index: number): number => {
  if (scope === undefined) return Math.floor(Math.random() * 0x100000000);
  const call = scope.calls++;
  return mixSeed(scope.seed, index, call);
};

export interface SeededDropoutArgs {
  /** Fraction of units dropped, in [0, 1). */
  readonly rate: number;
  /** Distinguishes the dropout layers of a model in the seed derivation. */
  readonly index: number;
  readonly name?: string;
}

/**
 * Inverted dropout with Keras semantics: in training, each unit is kept with probability 1 - rate and
 * scaled by 1 / (1 - rate); in inference the layer is the identity.
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  readonly index: number;

  constructor(args: SeededDropoutArgs) {
    super(args.name !== undefined ? { name: args.name } : {});
    if (!(Number.isFinite(args.rate) && args.rate >= 0 && args.rate < 1)) {
      throw invalidConfig({
        path: 'dropout.rate',
        message: `Dropout rate must be a number in [0, 1), got ${String(args.rate)}.`,
      });
    }
    if (!Number.isInteger(args.index) || args.index < 0) {
      throw invalidConfig({
        path: 'dropout.index',
        message: `Dropout layer index must be a non-negative integer, got ${String(args.index)}.`,
      });
    }
    this.rate = args.rate;
    this.index = args.index;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const training = kwargs['training'] === true;
    if (!training || this.rate === 0) return x;
    const seed = callSeed(kwargs['dropout'] as DropoutScope | undefined, this.index);
    // On `native` the mask is drawn in C++ (TF.js draws it in JavaScript at ~30 ms per million values: 60 ms
    // of an MCNN step). Same distribution and scaling, another stream: masks depend on the backend.
    const mask = dropoutMask(x.shape, this.rate, seed);
    return mask === undefined ? tf.dropout(x, this.rate, undefined, seed) : tf.mul(x, mask);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, index: this.index };
  }
}

tf.serialization.registerClass(SeededDropout);

export const seededDropout = (args: SeededDropoutArgs): SeededDropout => new SeededDropout(args);
