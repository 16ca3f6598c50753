import * as tf from '@tensorflow/tfjs';
import { fusedAdamw, fusedLion, type AdamwScalars, type LionScalars } from '../backend/native-fused.js';
import { RuleOptimizer, type SlotUpdate, type StepScalars } from './base.js';
import type { LrSchedule } from './schedule.js';

/*
 * Today's optimizers beside the study's seven (issue 29), each as its reference implementation computes
 * it (the PyTorch code named on each class), with per-step constants in float64 from the integer step
 * count as in rules.ts. Decoupled weight decay is applied as the references do: theta is multiplied by
 * 1 - lr_t * weightDecay before the step (lr_t the scheduled rate); with weightDecay 0 theta is not touched.
 * Schedule-Free AdamW (schedule-free.ts) and Muon (muon.ts) have files of their own.
 */

const { add, sub, mul, div, sqrt, square, sign } = tf;

/** theta * decay, or theta itself when the rule has no weight decay (so no rounding is added). */
const decayed = (theta: tf.Tensor, weightDecay: number, c: StepScalars): tf.Tensor =>
  weightDecay === 0 ? theta : mul(c.decay!, theta);

/** RAdam's rectification (Liu et al. 2020, eq. 6 and Algorithm 2) at step t: rho_t, rho_inf and r_t. */
export const rectification = (beta2: number, t: number): { rhoT: number; rhoInf: number; r: number } => {
  const b2t = Math.pow(beta2, t);
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * b2t) / (1 - b2t);
  const r = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
  return { rhoT, rhoInf, r };
};

export interface AdamwConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  schedule?: LrSchedule;
}
/**
 * AdamW (Loshchilov & Hutter 2019, Algorithm 2) as torch.optim.AdamW computes it:
 * theta *= 1 - lr*wd; m, v as Adam; theta -= lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps).
 */
export class AdamwOptimizer extends RuleOptimizer<AdamwConfig> {
  static get className(): string {
    return 'optbench.AdamW';
  }
  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps, weightDecay } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    return {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      decay: 1 - lr * weightDecay,
      step: lr / (1 - Math.pow(beta1, t)),
      invBc2: 1 / (1 - Math.pow(beta2, t)),
    };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    // On `native`, one C++ pass computes exactly these element-wise ops (spec/optimizers-native.spec.ts).
    const f = fusedAdamw(g, theta, slots[0]!, slots[1]!, c as unknown as AdamwScalars);
    if (f) return { theta: f.theta, slots: [f.m, f.v] };
    const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
    const v = add(mul(c.beta2!, slots[1]!), mul(c.oneMinusBeta2!, square(g)));
    const step = div(mul(c.step!, m), add(sqrt(mul(v, c.invBc2!)), c.eps!));
    return { theta: sub(decayed(theta, this.config.weightDecay, c), step), slots: [m, v] };
  }
}

export interface RadamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled (torch.optim.RAdam with decoupled_weight_decay=True). */
  weightDecay: number;
  schedule?: LrSchedule;
}
/**
 * RAdam (Liu et al. 2020) as torch.optim.RAdam computes it: while rho_t <= 5 the un-adapted momentum step
 * theta -= lr * m/(1-b1^t); once rho_t > 5 the rectified adaptive step
 * theta -= lr * r_t * sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps).
 * (The authors' radam.py compares N_sma >= 5, and by default skips the first steps instead of taking the
 * momentum step; rho_t = 5 exactly does not occur for the betas in [0, 1) one uses.)
 */
export class RadamOptimizer extends RuleOptimizer<RadamConfig> {
  static get className(): string {
    return 'optbench.RAdam';
  }
  /** Whether this step is the rectified one (decided in float64 by stepScalars, used by every variable's update). */
  private rectified = false;
  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps, weightDecay } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    const bc1 = 1 - Math.pow(beta1, t);
    const { rhoT, r } = rectification(beta2, t);
    this.rectified = rhoT > 5;
    return {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      decay: 1 - lr * weightDecay,
      step: this.rectified ? (lr * r * Math.sqrt(1 - Math.pow(beta2, t))) / bc1 : lr / bc1,
    };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
    const v = add(mul(c.beta2!, slots[1]!), mul(c.oneMinusBeta2!, square(g)));
    const base = decayed(theta, this.config.weightDecay, c);
    const step = this.rectified ? div(mul(c.step!, m), add(sqrt(v), c.eps!)) : mul(c.step!, m);
    return { theta: sub(base, step), slots: [m, v] };
  }
}

export interface LionConfig {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  schedule?: LrSchedule;
}
/**
 * Lion (Chen et al. 2023, Algorithm 2) as lucidrains/lion-pytorch computes it:
 * theta *= 1 - lr*wd; theta -= lr * sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g.
 */
export class LionOptimizer extends RuleOptimizer<LionConfig> {
  static get className(): string {
    return 'optbench.Lion';
  }
  protected slotNames(): readonly string[] {
    return ['m'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, weightDecay } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    return { lr, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, decay: 1 - lr * weightDecay };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const f = fusedLion(g, theta, slots[0]!, c as unknown as LionScalars);
    if (f) return { theta: f.theta, slots: [f.m] };
    const direction = sign(add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g)));
    const next = sub(decayed(theta, this.config.weightDecay, c), mul(c.lr!, direction));
    return { theta: next, slots: [add(mul(c.beta2!, slots[0]!), mul(c.oneMinusBeta2!, g))] };
  }
}

export interface AdabeliefConfig {
  lr: number;
  beta1: number;
  beta2: number;
  /** Added to s every step (inside the root, Zhuang et al. 2020 Algorithm 2) and to the denominator. */
  eps: number;
  /** Decoupled (adabelief-pytorch weight_decouple=True, fixed_decay=False). */
  weightDecay: number;
  /** RAdam's rectification with degenerated_to_sgd (adabelief-pytorch 0.2.0's default: true). */
  rectify: boolean;
  schedule?: LrSchedule;
}
/**
 * AdaBelief (Zhuang et al. 2020) as adabelief-pytorch 0.2.0 computes it: m = b1*m + (1-b1)*g;
 * s = b2*s + (1-b2)*(g-m)^2 + eps. Without rectify: theta -= lr/(1-b1^t) * m/(sqrt(s)/sqrt(1-b2^t) + eps).
 * With rectify, as RAdam with the authors' threshold: while N_sma < 5 theta -= lr/(1-b1^t) * m, then
 * theta -= lr * r_t * sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(s) + eps).
 */
export class AdabeliefOptimizer extends RuleOptimizer<AdabeliefConfig> {
  static get className(): string {
    return 'optbench.AdaBelief';
  }
  /** This step's form: 'adaptive' (no rectify), 'rectified' or 'sgd' (rectify, N_sma < 5). */
  private form: 'adaptive' | 'rectified' | 'sgd' = 'adaptive';
  protected slotNames(): readonly string[] {
    return ['m', 's'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps, weightDecay, rectify } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    const { rhoT, r } = rectification(beta2, t);
    this.form = !rectify ? 'adaptive' : rhoT >= 5 ? 'rectified' : 'sgd';
    return {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      decay: 1 - lr * weightDecay,
      invSqrtBc2: 1 / Math.sqrt(bc2),
      step: this.form === 'rectified' ? (lr * r * Math.sqrt(bc2)) / bc1 : lr / bc1,
    };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
    const s = add(add(mul(c.beta2!, slots[1]!), mul(c.oneMinusBeta2!, square(sub(g, m)))), c.eps!);
    const base = decayed(theta, this.config.weightDecay, c);
    const step =
      this.form === 'sgd'
        ? mul(c.step!, m)
        : div(mul(c.step!, m), add(this.form === 'adaptive' ? mul(sqrt(s), c.invSqrtBc2!) : sqrt(s), c.eps!));
    return { theta: sub(base, step), slots: [m, s] };
  }
}

export const MODERN_RULE_CLASSES = [AdamwOptimizer, RadamOptimizer, LionOptimizer, AdabeliefOptimizer] as const;
for (const cls of MODERN_RULE_CLASSES) tf.serialization.registerClass(cls);
