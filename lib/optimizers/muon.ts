import * as tf from '@tensorflow/tfjs';
import { RuleOptimizer, type SlotUpdate, type StepScalars } from './base.js';
import type { LrSchedule } from './schedule.js';

const { add, sub, mul, div, sqrt, square } = tf;

/** The quintic Newton-Schulz coefficients of KellerJordan/Muon (chosen to maximise the slope at zero). */
export const NS_COEFFICIENTS = [3.4445, -4.775, 2.0315] as const;

/**
 * KellerJordan/Muon's zeropower_via_newtonschulz5 in float32 (the reference runs it in bfloat16):
 * X = G/(||G||_F + 1e-7) on the wide orientation (transposed when rows > cols), then `steps` times
 * A = X X^T, B = b A + c A A, X = a X + B X.
 */
export const newtonSchulz = (g: tf.Tensor2D, steps: number): tf.Tensor2D =>
  tf.tidy(() => {
    const [a, b, c] = NS_COEFFICIENTS;
    const tall = g.shape[0] > g.shape[1];
    let x: tf.Tensor2D = tall ? tf.transpose(g) : g;
    x = div(x, add(tf.norm(x), 1e-7));
    for (let k = 0; k < steps; k++) {
      const A = tf.matMul(x, x, false, true);
      const B = add(mul(b, A), mul(c, tf.matMul(A, A)));
      x = add(mul(a, x), tf.matMul(B, x));
    }
    return tall ? tf.transpose(x) : x;
  });

/**
 * How a TF.js kernel is orthogonalised, and scaled, as the reference treats the same weight in PyTorch.
 * TF.js keeps a Dense kernel as [in, out] and a convolution's as [kh, kw, in, out]; PyTorch as [out, in]
 * and [out, in, kh, kw]. The reference views a conv kernel as [out, in*kh*kw]; here it is viewed as
 * [kh*kw*in, out], the transpose of the same matrix with its rows permuted, whose orthogonalisation is the
 * transpose, permuted alike. The reference scales by max(1, size(-2)/size(-1))^0.5 of the PyTorch tensor
 * itself: out/in for a Dense kernel, but kh/kw for a conv kernel (1 for the square kernels of the study's
 * models), which is kept here so that a run is the reference's.
 */
export const muonView = (shape: readonly number[]): { rows: number; cols: number; scale: number } => {
  const r = shape.length;
  const cols = shape[r - 1]!;
  const rows = shape.slice(0, r - 1).reduce((p, d) => p * d, 1);
  // PyTorch's layout of this kernel: [out, in, spatial...].
  const torch = [shape[r - 1]!, shape[r - 2]!, ...shape.slice(0, r - 2)];
  const scale = Math.sqrt(Math.max(1, torch[torch.length - 2]! / torch[torch.length - 1]!));
  return { rows, cols, scale };
};

export interface MuonConfig {
  /** The rate of the orthogonalised (2-D and higher) updates. */
  lr: number;
  momentum: number;
  nesterov: boolean;
  nsSteps: number;
  /** Decoupled, for both groups (theta *= 1 - rate*weightDecay with each group's rate). */
  weightDecay: number;
  /** The auxiliary AdamW of the biases and other 0-D and 1-D variables. */
  adamLr: number;
  beta1: number;
  beta2: number;
  eps: number;
  schedule?: LrSchedule;
}

/**
 * Muon (Jordan et al. 2024, KellerJordan/Muon's SingleDeviceMuonWithAuxAdam). A variable of rank 2 or
 * more (Dense and convolution kernels) takes the orthogonalised momentum step:
 *   m = momentum*m + (1-momentum)*g;  u = nesterov ? (1-momentum)*g + momentum*m : m;
 *   theta *= 1 - lr*wd;  theta -= lr * scale * NS5(u viewed as a matrix)
 * and any other (biases, batch-norm scales) the auxiliary AdamW:
 *   m, v as Adam with beta1, beta2;  theta *= 1 - adamLr*wd;  theta -= adamLr * (m/(1-b1^t))/(sqrt(v/(1-b2^t)) + eps).
 * The optimizer sees only variables, so it routes by rank: unlike the reference's advice it cannot keep
 * the first and last layers on AdamW. Slots are m and v for every variable; a Muon variable's v is an
 * unused scalar, so a checkpoint's layout is the same for both kinds.
 */
export class MuonOptimizer extends RuleOptimizer<MuonConfig> {
  static get className(): string {
    return 'optbench.Muon';
  }
  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected override initSlot(slot: string, like: tf.Tensor): tf.Tensor {
    return slot === 'v' && like.rank >= 2 ? tf.scalar(0) : tf.zerosLike(like);
  }
  protected stepScalars(t: number): Record<string, number> {
    const { momentum, weightDecay, beta1, beta2, eps } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    const adamLr = this.scheduled(this.config.adamLr, t);
    return {
      lr,
      momentum,
      oneMinusMomentum: 1 - momentum,
      decay: 1 - lr * weightDecay,
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      adamDecay: 1 - adamLr * weightDecay,
      adamStep: adamLr / (1 - Math.pow(beta1, t)),
      invBc2: 1 / (1 - Math.pow(beta2, t)),
    };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const wd = this.config.weightDecay !== 0;
    if (theta.rank < 2) {
      const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
      const v = add(mul(c.beta2!, slots[1]!), mul(c.oneMinusBeta2!, square(g)));
      const step = div(mul(c.adamStep!, m), add(sqrt(mul(v, c.invBc2!)), c.eps!));
      return { theta: sub(wd ? mul(c.adamDecay!, theta) : theta, step), slots: [m, v] };
    }
    const m = add(mul(c.momentum!, slots[0]!), mul(c.oneMinusMomentum!, g));
    const u = this.config.nesterov ? add(mul(c.oneMinusMomentum!, g), mul(c.momentum!, m)) : m;
    const { rows, cols, scale } = muonView(theta.shape);
    const o = tf.reshape(newtonSchulz(tf.reshape(u, [rows, cols]), this.config.nsSteps), theta.shape);
    const step = mul(mul(c.lr!, scale), o);
    return { theta: sub(wd ? mul(c.decay!, theta) : theta, step), slots: [m, slots[1]!] };
  }
}

tf.serialization.registerClass(MuonOptimizer);
