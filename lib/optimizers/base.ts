import * as tf from '@tensorflow/tfjs';
import { scheduleFactor, type LrSchedule } from './schedule.js';

/** TF.js 4.22 does not re-export its NamedTensor type from the package root. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Per-step constants, computed once per step in float64 from the integer step count t. */
export type StepScalars = Record<string, tf.Scalar>;

export interface SlotUpdate {
  readonly theta: tf.Tensor;
  /** New values of the slots, in the order of `slotNames()`. */
  readonly slots: readonly tf.Tensor[];
}

/**
 * The part every rule shares: slot variables per model variable, the integer step counter, one tidy per
 * step, and getWeights/setWeights that round-trip all of it (so a resumed run is bit-identical).
 *
 * Slots are matched to model variables by position in the gradient list, as TF.js's own optimizers do,
 * so that state restored into a freshly built model (whose variable names carry new suffixes) still lines up.
 */
export abstract class RuleOptimizer<C extends object = object> extends tf.Optimizer {
  private slots: tf.Variable[][] = [];
  private slotVarNames: string[] = [];

  /** `config` is the rule's whole configuration: TF.js's fromConfig rebuilds a rule as `new cls(config)`. */
  constructor(readonly config: C) {
    super();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.config } as tf.serialization.ConfigDict;
  }

  /**
   * A learning rate of the rule at step t: `lr` times the schedule's factor when the config holds a
   * schedule (lib/optimizers/schedule.ts), `lr` itself (not lr * 1) when it holds none. Rules take every
   * learning rate through here, in stepScalars.
   */
  protected scheduled(lr: number, t: number): number {
    const schedule = (this.config as { readonly schedule?: LrSchedule }).schedule;
    return schedule === undefined ? lr : lr * scheduleFactor(schedule, t);
  }

  /** Names of this rule's per-variable state, e.g. ['m', 'v']. Fixed for the life of an instance. */
  protected abstract slotNames(): readonly string[];
  /** Starting value of a slot (zeros unless the rule says otherwise). */
  protected initSlot(_slot: string, like: tf.Tensor): tf.Tensor {
    return tf.zerosLike(like);
  }
  /** Plain numbers for step t (1-based); turned into scalars once per step, shared by all variables. */
  protected abstract stepScalars(t: number): Record<string, number>;
  protected abstract update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate;

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[string, tf.Tensor | undefined]> = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    const t = this.iterations + 1;
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      const numbers = this.stepScalars(t);
      const c: StepScalars = {};
      for (const k of Object.keys(numbers)) c[k] = tf.scalar(numbers[k]!);
      entries.forEach(([name, g], i) => {
        const theta = registered[name];
        if (theta === undefined) {
          throw new Error(`${this.getClassName()}: no variable named '${name}' is registered with TF.js.`);
        }
        // Slots exist even for a variable without a gradient this step, so positions never have holes.
        const slots = this.slotsFor(i, name, theta);
        if (g == null) return;
        const next = this.update(g, theta, slots, c);
        // Every new value is computed before any is assigned, so the rule reads only this step's old state.
        theta.assign(next.theta);
        // A rule may hand a slot back unchanged (Muon's unused v); assigning a variable to itself would free it.
        slots.forEach((s, k) => {
          if (next.slots[k] !== s) s.assign(next.slots[k]!);
        });
      });
    });
    this.incrementIterations();
  }

  /** The state of the variable at position i (the order applyGradients saw), undefined before its first step. */
  protected slotsAt(i: number): readonly tf.Variable[] | undefined {
    return this.slots[i];
  }

  /** How many variables have state. */
  protected slotCount(): number {
    return this.slots.length;
  }

  private slotsFor(i: number, name: string, theta: tf.Variable): tf.Variable[] {
    let s = this.slots[i];
    if (s === undefined) {
      s = this.slotNames().map((slot) => tf.tidy(() => tf.variable(this.initSlot(slot, theta), false)));
      this.slots[i] = s;
      this.slotVarNames[i] = name;
    }
    return s;
  }

  override dispose(): void {
    for (const s of this.slots) for (const v of s) v.dispose();
    this.slots = [];
    this.slotVarNames = [];
  }

  /**
   * [iterations, then every slot grouped by slot name ('m' of each variable, then 'v' ...)], TF.js's layout.
   * The tensors are the live state variables: read them, do not dispose them.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const names = this.slotNames();
    const state = names.flatMap((slot, k) =>
      this.slots.map((s, i) => ({ name: `${this.slotVarNames[i]}/${slot}`, tensor: s[k]! as tf.Tensor })),
    );
    return [await this.saveIterations(), ...state];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const names = this.slotNames();
    if (rest.length % Math.max(1, names.length) !== 0 || (names.length === 0 && rest.length > 0)) {
      throw new Error(
        `${this.getClassName()}.setWeights: got ${rest.length} state tensors, expected a multiple of ` +
          `${names.length} (slots ${names.join(', ')}); the checkpoint was written by a different optimizer.`,
      );
    }
    const n = names.length === 0 ? 0 : rest.length / names.length;
    this.dispose();
    for (let i = 0; i < n; i++) {
      this.slots[i] = names.map((_, k) => tf.variable(rest[k * n + i]!.tensor, false));
      const full = rest[i]!.name;
      this.slotVarNames[i] = full.slice(0, full.length - names[0]!.length - 1);
    }
    this.restored();
  }

  /** Hook for rules that cache values derived from the step count. */
  protected restored(): void {}
}
