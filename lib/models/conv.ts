import * as tf from '@tensorflow/tfjs';
import { fusedConvRelu } from '../backend/native-conv.js';
import type { Activation } from './layers.js';

/**
 * Keras's Conv2D (channels last, no dilation): y = activation(conv(x, W) + b), with the training forward of a
 * ReLU layer as one kernel on `native`.
 *
 * TF.js's own Conv2D calls `tf.fused.conv2d`, which fuses the bias and the activation into the convolution
 * only at inference: while gradients are recorded it runs Conv2D, Add and Relu. Here, on `native`, a ReLU
 * layer's training forward is the fused convolution with a lazy gradient (lib/backend/native-conv.ts);
 * everywhere else, and at inference, the layer makes TF.js's layer's own call, so on every backend the
 * float32 results are those of `tf.layers.conv2d` (spec/native-conv.spec.ts).
 */

type Initializer = ReturnType<typeof tf.initializers.zeros>;

export interface KerasConv2DArgs {
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly activation: Activation;
  readonly name: string;
  readonly inputShape?: number[];
  /** Keras's defaults: glorot_uniform kernel, zero bias. */
  readonly kernelInitializer?: Initializer;
  readonly biasInitializer?: Initializer;
}

/** Keras's conv_output_length without dilation. */
const outputLength = (size: number | null, kernel: number, padding: 'same' | 'valid', stride: number): number | null =>
  size === null ? null : Math.ceil((padding === 'same' ? size : size - kernel + 1) / stride);

export class KerasConv2D extends tf.layers.Layer {
  static readonly className = 'KerasConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly activation: Activation;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel: tf.LayerVariable | undefined;
  private bias: tf.LayerVariable | undefined;

  constructor(args: KerasConv2DArgs) {
    super({ name: args.name, ...(args.inputShape !== undefined ? { inputShape: args.inputShape } : {}) });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides;
    this.padding = args.padding;
    this.activation = args.activation;
    this.kernelInitializer = args.kernelInitializer ?? tf.initializers.glorotUniform({});
    this.biasInitializer = args.biasInitializer ?? tf.initializers.zeros();
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[3];
    if (shape.length !== 4 || typeof channels !== 'number')
      throw new Error(`${this.name}: expected an input of shape [batch, height, width, channels] with known channels, got ${JSON.stringify(shape)}`);
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.kernelSize, channels, this.filters], 'float32', this.kernelInitializer);
    this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0] ?? null, outputLength(s[1] ?? null, this.kernelSize, this.padding, this.strides), outputLength(s[2] ?? null, this.kernelSize, this.padding, this.strides), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const filter = this.kernel!.read() as tf.Tensor4D;
      const bias = this.bias!.read();
      const strides: [number, number] = [this.strides, this.strides];
      if (this.activation === 'relu') {
        const fused = fusedConvRelu(x, filter, bias, { strides, pad: this.padding });
        if (fused !== undefined) return fused;
      }
      // TF.js's Conv2D layer's own call: tf.fused.conv2d with the activations it fuses (relu, linear; tfjs-layers'
      // mapActivationToFusedKernel), then the others.
      const y = tf.fused.conv2d({ x, filter, strides, pad: this.padding, dilations: [1, 1], dataFormat: 'NHWC', bias, activation: this.activation === 'relu' ? 'relu' : 'linear' });
      switch (this.activation) {
        case 'tanh':
          return tf.tanh(y);
        case 'sigmoid':
          return tf.sigmoid(y);
        default:
          return y;
      }
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, activation: this.activation };
  }
}

tf.serialization.registerClass(KerasConv2D);
