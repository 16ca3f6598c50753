import * as tf from '@tensorflow/tfjs';
import { fusedDense } from '../backend/native-dense.js';
import type { Activation } from './layers.js';

/**
 * Keras's Dense layer (y = activation(x W + b)), computing in training only the gradients that are asked for.
 *
 * TF.js's own Dense calls `tf.fused.matMul`, whose gradient for a linear (or unfusable, e.g. tanh)
 * activation is one custom-gradient function that always computes the gradient with respect to the
 * layer's input, needed or not. For a model's first layer it is not: FCNN's is a 200 x 784 x 784 product,
 * 1.5-2 ms of a 25 ms training step thrown away. Here, while gradients are being recorded, the product is
 * a plain `tf.matMul` (whose registered gradient computes each input's gradient only on demand), then the
 * bias is added and the activation applied, the very kernels `tf.fused.matMul` runs when it cannot fuse;
 * at inference it is `tf.fused.matMul` as TF.js's layer does. The float32 results are the same either way:
 * a fused bias and activation are the same additions and formulas applied after the same product.
 */

type Initializer = ReturnType<typeof tf.initializers.zeros>;

const ACTIVATIONS: Record<Activation, ((x: tf.Tensor) => tf.Tensor) | undefined> = {
  linear: undefined,
  relu: (x) => tf.relu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
};

/** The activations tf.fused.matMul can apply itself (TF.js's mapActivationToFusedKernel). */
const FUSED: Partial<Record<Activation, 'relu' | 'sigmoid' | 'linear'>> = { relu: 'relu', sigmoid: 'sigmoid', linear: 'linear' };

export interface KerasDenseArgs {
  readonly units: number;
  readonly activation: Activation;
  readonly name: string;
  readonly inputShape?: number[];
  /** Keras's defaults: glorot_uniform kernel, zero bias. */
  readonly kernelInitializer?: Initializer;
  readonly biasInitializer?: Initializer;
}

export class KerasDense extends tf.layers.Layer {
  static readonly className = 'KerasDense';
  readonly units: number;
  readonly activation: Activation;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel: tf.LayerVariable | undefined;
  private bias: tf.LayerVariable | undefined;

  constructor(args: KerasDenseArgs) {
    super({ name: args.name, ...(args.inputShape !== undefined ? { inputShape: args.inputShape } : {}) });
    this.units = args.units;
    this.activation = args.activation;
    this.kernelInitializer = args.kernelInitializer ?? tf.initializers.glorotUniform({});
    this.biasInitializer = args.biasInitializer ?? tf.initializers.zeros();
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1];
    if (typeof inputDim !== 'number') throw new Error(`${this.name}: the last input dimension must be known, got ${JSON.stringify(shape)}`);
    this.kernel = this.addWeight('kernel', [inputDim, this.units], 'float32', this.kernelInitializer);
    this.bias = this.addWeight('bias', [this.units], 'float32', this.biasInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor2D;
      const w = this.kernel!.read() as tf.Tensor2D;
      const b = this.bias!.read();
      const act = ACTIVATIONS[this.activation];
      const fused = FUSED[this.activation];
      if (tf.engine().state.gradientDepth === 0) {
        if (fused !== undefined) return tf.fused.matMul({ a: x, b: w, bias: b, activation: fused });
        return act!(tf.add(tf.fused.matMul({ a: x, b: w }), b));
      }
      // On native: the same kernels' work in one fused kernel with a lazy gradient (lib/backend/native-dense.ts).
      const fusedTraining = fusedDense(x, w, b, this.activation);
      if (fusedTraining !== undefined) return fusedTraining;
      const y = tf.add(tf.matMul(x, w), b);
      return act === undefined ? y : act(y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, activation: this.activation };
  }
}

tf.serialization.registerClass(KerasDense);
