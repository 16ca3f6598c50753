import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { RuleOptimizer, type NamedTensor, type SlotUpdate, type StepScalars } from './base.js';
import type { LrSchedule } from './schedule.js';

const { add, sub, mul, div, sqrt, square } = tf;

export interface ScheduleFreeConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Added to the normalised gradient at y (the reference's weight_decay). */
  weightDecay: number;
  /** The average's weights: c_{t+1} = w_t / (w_1 + ... + w_t), w_t = t^r * lrMax_t^weightLrPower. */
  r: number;
  weightLrPower: number;
  /**
   * 'reference': schedulefree 1.3's AdamWScheduleFree (v bias-corrected inside the root; lr_t = lr * warm-up);
   * 'paper': Defazio et al. 2024 Algorithm 1 = the reference's AdamWScheduleFreePaper
   * (gamma_t = lr * warm-up * sqrt(1 - b2^t), eps beside sqrt(v), the weights from gamma_t).
   */
  variant: 'reference' | 'paper';
  /** Only a warm-up (a constant schedule): a schedule-free method has no decay schedule. */
  schedule?: LrSchedule;
}

/** An optimizer whose evaluation point is not its training point (Schedule-Free: x, not y). */
export interface EvaluationPoint {
  /** Puts the evaluation point into `variables` (the list given to minimize, in its order). Idempotent. */
  evalPoint(variables: readonly tf.Variable[]): E.Either<OptbenchError, void>;
  /** Puts the training point back, bit for bit. Idempotent. */
  trainPoint(): void;
  /** Whether the variables hold the evaluation point now. */
  readonly atEvalPoint: boolean;
}

/** Whether an optimizer evaluates elsewhere than it trains (then evaluate between evalPoint and trainPoint). */
export const hasEvaluationPoint = (o: tf.Optimizer): o is tf.Optimizer & EvaluationPoint =>
  typeof (o as Partial<EvaluationPoint>).evalPoint === 'function' && typeof (o as Partial<EvaluationPoint>).trainPoint === 'function';

/**
 * Runs `evaluate` with the model's variables at the optimizer's evaluation point (Schedule-Free's x), and
 * puts the training point back however it ends; for any other optimizer, just runs it. What a pipeline
 * of one's own must wrap its evaluations in; runFit's loan does it for `evaluate`.
 */
export const atEvaluationPoint = <A>(optimizer: tf.Optimizer, variables: readonly tf.Variable[], evaluate: () => A): E.Either<OptbenchError, A> => {
  if (!hasEvaluationPoint(optimizer)) return E.right(evaluate());
  const swapped = optimizer.evalPoint(variables);
  if (E.isLeft(swapped)) return swapped;
  try {
    return E.right(evaluate());
  } finally {
    optimizer.trainPoint();
  }
};

const refuse = (message: string): OptbenchError => invalidConfig({ path: 'optimizer', message });

/**
 * Schedule-Free AdamW (Defazio et al. 2024, "The Road Less Scheduled"; facebookresearch/schedule_free).
 * Three sequences: z (the base AdamW-like steps), x (their weighted average, where the model is
 * evaluated) and y = (1-b1)*z + b1*x (where gradients are taken, and what the model's variables hold
 * while training). Each step, with g the gradient at y:
 *   v = b2*v + (1-b2)*g^2;  n = g/(sqrt(v/(1-b2^t)) + eps) + weightDecay*y   (paper: sqrt(v) + eps, lr_t with sqrt(1-b2^t))
 *   z -= lr_t*n;  x = (1-c)*x + c*z;  y = (1-b1)*z + b1*x
 * with c = w_t / sum_{i<=t} w_i, w_i = i^r * (max_{j<=i} lr_j)^weightLrPower, lr_t = lr * warm-up factor.
 *
 * Unlike the reference, which keeps z and recovers x from y and z in place (`eval()` lerps the
 * parameters to x and `train()` back, each with rounding), this keeps x as a slot: `evalPoint` puts x into
 * the variables exactly and `trainPoint` puts back the very y it took out, so evaluating never changes
 * the trajectory. State: slots z, v, x per variable (getWeights/setWeights); the average's weight sum is
 * a float64 function of the step, recomputed by the same left-to-right sum after a restore.
 * A checkpoint must be taken at the training point (getWeights refuses at the evaluation point).
 */
export class ScheduleFreeAdamwOptimizer extends RuleOptimizer<ScheduleFreeConfig> implements EvaluationPoint {
  static get className(): string {
    return 'optbench.AdamWScheduleFree';
  }
  private average = { t: 0, lrMax: -1, weight: 0, sum: 0 };
  /** The y each variable held before evalPoint, and those variables; null at the training point. */
  private held: { readonly variables: readonly tf.Variable[]; readonly y: readonly tf.Tensor[] } | null = null;

  protected slotNames(): readonly string[] {
    return ['z', 'v', 'x'];
  }
  protected override initSlot(slot: string, like: tf.Tensor): tf.Tensor {
    return slot === 'v' ? tf.zerosLike(like) : tf.clone(like);
  }

  /** gamma_t: the scheduled rate (the warm-up), with sqrt(1 - b2^t) in the paper's form. */
  private gamma(t: number): number {
    const lr = this.scheduled(this.config.lr, t);
    return this.config.variant === 'paper' ? lr * Math.sqrt(1 - Math.pow(this.config.beta2, t)) : lr;
  }

  /** w_t and the sum of w_1..w_t, built by the same left-to-right sum however t was reached. */
  private averageAt(t: number): { weight: number; sum: number } {
    if (this.average.t > t) this.average = { t: 0, lrMax: -1, weight: 0, sum: 0 };
    let { t: k, lrMax, weight, sum } = this.average;
    while (k < t) {
      k++;
      lrMax = Math.max(lrMax, this.gamma(k));
      weight = Math.pow(k, this.config.r) * Math.pow(lrMax, this.config.weightLrPower);
      sum += weight;
    }
    this.average = { t, lrMax, weight, sum };
    return { weight, sum };
  }

  protected override restored(): void {
    this.average = { t: 0, lrMax: -1, weight: 0, sum: 0 };
  }

  protected stepScalars(t: number): Record<string, number> {
    const { beta1, beta2, eps, weightDecay } = this.config;
    const { weight, sum } = this.averageAt(t);
    const c = sum === 0 ? 0 : weight / sum;
    return {
      lr: this.gamma(t),
      c,
      oneMinusC: 1 - c,
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps,
      invBc2: 1 / (1 - Math.pow(beta2, t)),
      wd: weightDecay,
    };
  }

  protected update(g: tf.Tensor, y: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const [z, v0, x] = slots as [tf.Tensor, tf.Tensor, tf.Tensor];
    const v = add(mul(c.beta2!, v0), mul(c.oneMinusBeta2!, square(g)));
    const root = this.config.variant === 'paper' ? sqrt(v) : sqrt(mul(v, c.invBc2!));
    const normalised = div(g, add(root, c.eps!));
    const n = this.config.weightDecay === 0 ? normalised : add(normalised, mul(c.wd!, y));
    const zNext = sub(z, mul(c.lr!, n));
    const xNext = add(mul(c.oneMinusC!, x), mul(c.c!, zNext));
    const yNext = add(mul(c.oneMinusBeta1!, zNext), mul(c.beta1!, xNext));
    return { theta: yNext, slots: [zNext, v, xNext] };
  }

  get atEvalPoint(): boolean {
    return this.held !== null;
  }

  /**
   * Puts x, the averaged point where Schedule-Free is evaluated, into `variables`: the list given to
   * minimize, in its order (state is matched by position, as checkpoints are). Before the first step x is
   * y and nothing changes. Refused (nothing changed) when the list does not match the optimizer's state.
   */
  evalPoint(variables: readonly tf.Variable[]): E.Either<OptbenchError, void> {
    if (this.held !== null) return E.right(undefined);
    const n = this.slotCount();
    if (n > 0 && variables.length !== n)
      return E.left(
        refuse(`evalPoint got ${variables.length} variables but the optimizer holds state for ${n}: pass the list given to minimize.`),
      );
    for (let i = 0; i < n; i++) {
      const x = this.slotsAt(i)?.[2];
      if (x !== undefined && !tf.util.arraysEqual(x.shape, variables[i]!.shape))
        return E.left(
          refuse(`evalPoint: variable ${i} has shape [${variables[i]!.shape.join(', ')}] but its state [${x.shape.join(', ')}]: pass the list given to minimize, in its order.`),
        );
    }
    const held = variables.slice(0, n);
    const y = held.map((v) => tf.clone(v));
    held.forEach((v, i) => {
      const x = this.slotsAt(i)?.[2];
      if (x !== undefined) v.assign(x);
    });
    this.held = { variables: held, y };
    return E.right(undefined);
  }

  /** Puts back the y that evalPoint took out (bit for bit), so training resumes where it was. */
  trainPoint(): void {
    if (this.held === null) return;
    const { variables, y } = this.held;
    variables.forEach((v, i) => v.assign(y[i]!));
    tf.dispose([...y]);
    this.held = null;
  }

  /** Runs `fn` with x in `variables`, and y back afterwards (also when fn throws). */
  withEvalPoint<A>(variables: readonly tf.Variable[], fn: () => A): E.Either<OptbenchError, A> {
    const swapped = this.evalPoint(variables);
    if (E.isLeft(swapped)) return swapped;
    try {
      return E.right(fn());
    } finally {
      this.trainPoint();
    }
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    // The reference raises too: a step taken at x would move the wrong point.
    if (this.held !== null) throw refuse('A Schedule-Free step at the evaluation point: call trainPoint() before training on.');
    super.applyGradients(variableGradients);
  }

  override async getWeights(): Promise<NamedTensor[]> {
    // The model's variables hold x here, and a checkpoint of them would resume from x, not y.
    if (this.held !== null) throw refuse('Schedule-Free state saved at the evaluation point: call trainPoint() before a checkpoint.');
    return super.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    if (this.held !== null) throw refuse('Schedule-Free state restored at the evaluation point: call trainPoint() first.');
    return super.setWeights(weightValues);
  }

  override dispose(): void {
    if (this.held !== null) tf.dispose([...this.held.y]);
    this.held = null;
    super.dispose();
  }
}

tf.serialization.registerClass(ScheduleFreeAdamwOptimizer);
