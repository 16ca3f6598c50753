import * as tf from '@tensorflow/tfjs';
import { fusedAdam, fusedAdamax, type AdamaxScalars, type AdamScalars } from '../backend/native-fused.js';
import { RuleOptimizer, type SlotUpdate, type StepScalars } from './base.js';
import type { LrSchedule } from './schedule.js';

/*
 * The update rules of spec/keras-optimizers.md as TF.js optimizers. Each keeps its per-step constants
 * (bias corrections, schedules) in float64 JavaScript numbers computed from the integer step count, and
 * spends few tensor ops per variable, because these run hundreds of steps per epoch.
 * Each takes one plain config object (RuleOptimizer's constructor), so TF.js's default `fromConfig`
 * (new cls(config)) rebuilds them.
 */

const { add, sub, mul, div, sqrt, square, abs, maximum } = tf;

export interface SgdConfig {
  lr: number;
  momentum: number;
  nesterov: boolean;
  /**
   * Where the learning rate enters the momentum: 'tfkeras' (the default) v = momentum*v - lr*g, theta += v;
   * 'torch' buf = momentum*buf + g, theta -= lr*buf. Equal for a constant lr, not under a schedule.
   */
  variant?: 'tfkeras' | 'torch';
  schedule?: LrSchedule;
}
/** tf.keras 2.x SGD (ResourceApplyKerasMomentum when momentum > 0), or torch.optim.SGD (dampening 0). */
export class SgdOptimizer extends RuleOptimizer<SgdConfig> {
  static get className(): string {
    return 'optbench.SGD';
  }
  protected slotNames(): readonly string[] {
    return this.config.momentum > 0 ? ['momentum'] : [];
  }
  protected stepScalars(t: number): Record<string, number> {
    return { lr: this.scheduled(this.config.lr, t), momentum: this.config.momentum };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    if (this.config.momentum === 0) return { theta: sub(theta, mul(c.lr!, g)), slots: [] };
    if (this.config.variant === 'torch') {
      const buf = add(mul(c.momentum!, slots[0]!), g);
      const direction = this.config.nesterov ? add(g, mul(c.momentum!, buf)) : buf;
      return { theta: sub(theta, mul(c.lr!, direction)), slots: [buf] };
    }
    const step = mul(c.lr!, g);
    const v = sub(mul(c.momentum!, slots[0]!), step);
    const next = this.config.nesterov ? add(theta, sub(mul(c.momentum!, v), step)) : add(theta, v);
    return { theta: next, slots: [v] };
  }
}

export interface RmspropConfig {
  lr: number;
  rho: number;
  eps: number;
  momentum: number;
  centered: boolean;
  /** 'tfkeras': eps outside the root without momentum, inside it with momentum (TF's fused kernel); 'torch': always outside. */
  variant: 'tfkeras' | 'torch';
  schedule?: LrSchedule;
}
export class RmspropOptimizer extends RuleOptimizer<RmspropConfig> {
  static get className(): string {
    return 'optbench.RMSprop';
  }
  protected slotNames(): readonly string[] {
    return ['rms', ...(this.config.centered ? ['mg'] : []), ...(this.config.momentum > 0 ? ['momentum'] : [])];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { lr, rho, eps, momentum } = this.config;
    return { lr: this.scheduled(lr, t), rho, oneMinusRho: 1 - rho, eps, momentum };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const { centered, momentum, variant } = this.config;
    const ms = add(mul(c.rho!, slots[0]!), mul(c.oneMinusRho!, square(g)));
    const out: tf.Tensor[] = [ms];
    let d = ms;
    if (centered) {
      const mg = add(mul(c.rho!, slots[1]!), mul(c.oneMinusRho!, g));
      out.push(mg);
      d = sub(ms, square(mg));
    }
    if (momentum === 0) {
      return { theta: sub(theta, div(mul(c.lr!, g), add(sqrt(d), c.eps!))), slots: out };
    }
    const mom = slots[out.length]!;
    if (variant === 'tfkeras') {
      const m = add(mul(c.momentum!, mom), div(mul(c.lr!, g), sqrt(add(d, c.eps!))));
      return { theta: sub(theta, m), slots: [...out, m] };
    }
    const buf = add(mul(c.momentum!, mom), div(g, add(sqrt(d), c.eps!)));
    return { theta: sub(theta, mul(c.lr!, buf)), slots: [...out, buf] };
  }
}

export interface AdagradConfig {
  lr: number;
  initialAccumulator: number;
  eps: number;
  schedule?: LrSchedule;
}
/** tf.keras 2.x Adagrad (ResourceApplyAdagradV2): epsilon outside the root. */
export class AdagradOptimizer extends RuleOptimizer<AdagradConfig> {
  static get className(): string {
    return 'optbench.Adagrad';
  }
  protected slotNames(): readonly string[] {
    return ['accumulator'];
  }
  protected override initSlot(_slot: string, like: tf.Tensor): tf.Tensor {
    return tf.fill(like.shape, this.config.initialAccumulator, 'float32');
  }
  protected stepScalars(t: number): Record<string, number> {
    return { lr: this.scheduled(this.config.lr, t), eps: this.config.eps };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const acc = add(slots[0]!, square(g));
    return { theta: sub(theta, div(mul(c.lr!, g), add(sqrt(acc), c.eps!))), slots: [acc] };
  }
}

export interface AdadeltaConfig {
  lr: number;
  rho: number;
  eps: number;
  schedule?: LrSchedule;
}
/** tf.keras 2.x / Keras 2.3.1 / PyTorch Adadelta: divides by the accumulator that already holds this step's g^2. */
export class AdadeltaOptimizer extends RuleOptimizer<AdadeltaConfig> {
  static get className(): string {
    return 'optbench.Adadelta';
  }
  protected slotNames(): readonly string[] {
    return ['accum_grad', 'accum_var'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { lr, rho, eps } = this.config;
    return { lr: this.scheduled(lr, t), rho, oneMinusRho: 1 - rho, eps };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const a = add(mul(c.rho!, slots[0]!), mul(c.oneMinusRho!, square(g)));
    // sqrt(au+eps)/sqrt(a+eps) as one root of the ratio: one op fewer per variable per step.
    const u = mul(sqrt(div(add(slots[1]!, c.eps!), add(a, c.eps!))), g);
    const au = add(mul(c.rho!, slots[1]!), mul(c.oneMinusRho!, square(u)));
    return { theta: sub(theta, mul(c.lr!, u)), slots: [a, au] };
  }
}

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 'epsilon-hat': tf.keras / Keras 2.3.1 (eps added to sqrt(v)); 'bias-corrected': PyTorch, Kingma & Ba Alg. 1. */
  variant: 'epsilon-hat' | 'bias-corrected';
  schedule?: LrSchedule;
}
export class AdamOptimizer extends RuleOptimizer<AdamConfig> {
  static get className(): string {
    return 'optbench.Adam';
  }
  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    return {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      alpha: this.config.variant === 'epsilon-hat' ? (lr * Math.sqrt(bc2)) / bc1 : lr / bc1,
      invBc2: 1 / bc2,
    };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    // On `native`, one C++ pass computes exactly these element-wise ops (bit-identical, tested there).
    const f = fusedAdam(g, theta, slots[0]!, slots[1]!, c as unknown as AdamScalars, this.config.variant);
    if (f) return { theta: f.theta, slots: [f.m, f.v] };
    const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
    const v = add(mul(c.beta2!, slots[1]!), mul(c.oneMinusBeta2!, square(g)));
    const root = this.config.variant === 'epsilon-hat' ? sqrt(v) : sqrt(mul(v, c.invBc2!));
    return { theta: sub(theta, div(mul(c.alpha!, m), add(root, c.eps!))), slots: [m, v] };
  }
}

export interface AdamaxConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 'tfkeras': u = max(b2 u, |g|), divide by u + eps; 'torch': u = max(b2 u, |g| + eps), divide by u. */
  variant: 'tfkeras' | 'torch';
  schedule?: LrSchedule;
}
export class AdamaxOptimizer extends RuleOptimizer<AdamaxConfig> {
  static get className(): string {
    return 'optbench.Adamax';
  }
  protected slotNames(): readonly string[] {
    return ['m', 'u'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    return { beta1, oneMinusBeta1: 1 - beta1, beta2, eps, step: lr / (1 - Math.pow(beta1, t)) };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const f = fusedAdamax(g, theta, slots[0]!, slots[1]!, c as unknown as AdamaxScalars, this.config.variant);
    if (f) return { theta: f.theta, slots: [f.m, f.u] };
    const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
    const decayed = mul(c.beta2!, slots[1]!);
    if (this.config.variant === 'torch') {
      const u = maximum(decayed, add(abs(g), c.eps!));
      return { theta: sub(theta, div(mul(c.step!, m), u)), slots: [m, u] };
    }
    const u = maximum(decayed, abs(g));
    return { theta: sub(theta, div(mul(c.step!, m), add(u, c.eps!))), slots: [m, u] };
  }
}

export interface NadamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(scheduleDecay * t)); 0.004 in every preset. */
  scheduleDecay: number;
  schedule?: LrSchedule;
}
/**
 * Nadam as tf.keras 2.x / Keras 2.3.1 / PyTorch compute it (Dozat 2016's schedule). TF.js has none.
 * The product P_t of the schedule is kept in float64 and always built by the same left-to-right
 * multiplication from mu_1, so a restored optimizer recomputes exactly the value an uninterrupted one holds.
 */
export class NadamOptimizer extends RuleOptimizer<NadamConfig> {
  static get className(): string {
    return 'optbench.Nadam';
  }
  private product = { t: 0, p: 1 };
  private mu(t: number): number {
    return this.config.beta1 * (1 - 0.5 * Math.pow(0.96, this.config.scheduleDecay * t));
  }
  private productAt(t: number): number {
    if (this.product.t > t) this.product = { t: 0, p: 1 };
    let { t: k, p } = this.product;
    while (k < t) p *= this.mu(++k);
    this.product = { t, p };
    return p;
  }
  protected override restored(): void {
    this.product = { t: 0, p: 1 };
  }
  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps } = this.config;
    const lr = this.scheduled(this.config.lr, t);
    const muT = this.mu(t);
    const muNext = this.mu(t + 1);
    const p = this.productAt(t);
    return {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      cg: (lr * (1 - muT)) / (1 - p),
      cm: (lr * muNext) / (1 - p * muNext),
      invBc2: 1 / (1 - Math.pow(beta2, t)),
    };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const m = add(mul(c.beta1!, slots[0]!), mul(c.oneMinusBeta1!, g));
    const v = add(mul(c.beta2!, slots[1]!), mul(c.oneMinusBeta2!, square(g)));
    const num = add(mul(c.cg!, g), mul(c.cm!, m));
    return { theta: sub(theta, div(num, add(sqrt(mul(v, c.invBc2!)), c.eps!))), slots: [m, v] };
  }
}

export const OPTIMIZER_CLASSES = [
  SgdOptimizer,
  RmspropOptimizer,
  AdagradOptimizer,
  AdadeltaOptimizer,
  AdamOptimizer,
  AdamaxOptimizer,
  NadamOptimizer,
] as const;

for (const cls of OPTIMIZER_CLASSES) tf.serialization.registerClass(cls);
