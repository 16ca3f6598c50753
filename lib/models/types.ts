import type * as tf from '@tensorflow/tfjs';

/**
 * A classifier's network maps [n, 28, 28, 1] images to [n, classes] LOGITS: the softmax of the
 * study's last Dense layer is fused into the loss (cross-entropy on the logits, as tf.keras does in
 * graph mode) and applied explicitly where probabilities are wanted.
 */
export interface BuiltClassifier {
  readonly kind: 'classifier';
  readonly net: tf.LayersModel;
}

/**
 * A VAE: `encoder` maps images to [zMean, zLogVar] ([n, latent] each); `decoder` maps z to
 * [n, 28, 28, 1] images in [0, 1]. The sampling z = mu + exp(0.5 log_var) * eps happens in the loss.
 */
export interface BuiltVae {
  readonly kind: 'vae';
  readonly encoder: tf.LayersModel;
  readonly decoder: tf.LayersModel;
  readonly latent: number;
}

export type BuiltModel = BuiltClassifier | BuiltVae;

export interface ModelDef {
  /** Registry key, lower case: `fcnn`, `vae1`, ... */
  readonly name: string;
  readonly kind: 'classifier' | 'vae';
  /** One line for `optbench list`. */
  readonly description: string;
  /** Input image shape [rows, cols, channels]. */
  readonly inputShape: readonly [number, number, number];
  /**
   * Builds fresh layers. Kernels are glorotUniform seeded from `seed` (one derived seed per layer),
   * biases zero, so that the same seed gives the same initial weights.
   */
  build(seed: number): BuiltModel;
}
