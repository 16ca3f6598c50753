import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, toOptbenchError, unknown, type InvalidConfig, type UnknownName } from '../errors.js';
import type { BuiltModel, ModelDef } from './types.js';
import { CLASSIFIERS } from './classifiers.js';
import { VAES } from './vae.js';
import { countParameters, disposeModel } from './weights.js';

/** The study's six models, in the study's order. */
export const MODELS: readonly ModelDef[] = [...CLASSIFIERS, ...VAES];

/** What building a model once tells: its parameter count and, for a classifier, how many classes it outputs. */
interface Facts {
  readonly parameters: number;
  readonly classes: number | null;
}

const facts = new WeakMap<ModelDef, Facts>();

const factsOf = (built: BuiltModel): Facts => ({
  parameters: countParameters(built),
  classes: built.kind === 'classifier' ? (built.net.outputs[0]!.shape[1] ?? null) : null,
});

/** Builds the model once (seed 0) and disposes it; memoised per definition. */
const modelFacts = (def: ModelDef): Facts => {
  const cached = facts.get(def);
  if (cached !== undefined) return cached;
  const built = def.build(0);
  try {
    const f = factsOf(built);
    facts.set(def, f);
    return f;
  } finally {
    disposeModel(built);
  }
};

export interface ModelInfo {
  readonly name: string;
  readonly kind: ModelDef['kind'];
  readonly description: string;
  /** As Keras counts them: all weights, including BatchNormalization's moving statistics. */
  readonly parameters: number;
  /** The image shape it takes, [rows, cols, channels]. */
  readonly inputShape: readonly [number, number, number];
  /** How many classes a classifier outputs (its logits); null for a VAE. */
  readonly classes: number | null;
}

export const modelInfo = (d: ModelDef): ModelInfo => {
  const f = modelFacts(d);
  return { name: d.name, kind: d.kind, description: d.description, parameters: f.parameters, inputShape: d.inputShape, classes: f.classes };
};


const NAME = /^[a-z][a-z0-9_-]{0,39}$/;

const bad = (path: string, message: string): E.Either<InvalidConfig, never> =>
  E.left(invalidConfig({ path, message }));

const sameDims = (a: readonly (number | null)[], b: readonly (number | null)[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** What is wrong with a freshly built model, or undefined when it honours the BuiltModel contract. */
const contractViolation = (def: ModelDef, built: BuiltModel): string | undefined => {
  const image = [null, ...def.inputShape];
  if (built.kind !== def.kind) return `build() returned a '${built.kind}' but the definition says '${def.kind}'`;
  if (built.kind === 'classifier') {
    const ins = built.net.inputs;
    const outs = built.net.outputs;
    if (ins.length !== 1 || !sameDims(ins[0]!.shape, image)) return `the net's input must be [n, ${def.inputShape.join(', ')}]`;
    if (outs.length !== 1 || outs[0]!.shape.length !== 2) return 'the net must have one output of shape [n, classes] (logits)';
    return undefined;
  }
  const enc = built.encoder;
  const dec = built.decoder;
  const latent = [null, built.latent];
  if (enc.inputs.length !== 1 || !sameDims(enc.inputs[0]!.shape, image))
    return `the encoder's input must be [n, ${def.inputShape.join(', ')}]`;
  if (enc.outputs.length !== 2 || !enc.outputs.every((o) => sameDims(o.shape, latent)))
    return `the encoder must have two outputs [zMean, zLogVar] of shape [n, ${built.latent}]`;
  if (dec.inputs.length !== 1 || !sameDims(dec.inputs[0]!.shape, latent))
    return `the decoder's input must be [n, ${built.latent}]`;
  if (dec.outputs.length !== 1 || !sameDims(dec.outputs[0]!.shape, image))
    return `the decoder's output must be [n, ${def.inputShape.join(', ')}]`;
  return undefined;
};

/** Checks a user model: its name, kind, input shape, and what it builds (built once, then disposed). */
const checkModelDef = (def: ModelDef): E.Either<InvalidConfig, ModelDef> => {
  if (typeof def.name !== 'string' || !NAME.test(def.name))
    return bad(
      'model.name',
      `Model name '${String(def.name)}' is not valid: use 1-40 characters, lower-case letters, digits, '-' or '_', starting with a letter.`,
    );
  if (def.kind !== 'classifier' && def.kind !== 'vae')
    return bad('model.kind', `Model kind must be 'classifier' or 'vae', got '${String(def.kind)}'.`);
  if (!Array.isArray(def.inputShape) || def.inputShape.length !== 3 || !def.inputShape.every((d) => Number.isInteger(d) && d > 0))
    return bad('model.inputShape', 'Model inputShape must be [rows, cols, channels], three positive integers.');
  if (typeof def.build !== 'function') return bad('model.build', 'Model build must be a function (seed) => BuiltModel.');
  let built: BuiltModel;
  try {
    built = def.build(0);
  } catch (e) {
    return bad('model.build', `Building model '${def.name}' failed: ${toOptbenchError(e).message}`);
  }
  try {
    const violation = contractViolation(def, built);
    if (violation !== undefined) return bad('model.build', `Model '${def.name}': ${violation}.`);
    facts.set(def, factsOf(built));
  } finally {
    disposeModel(built);
  }
  return E.right(def);
};

/**
 * The models a run can name: a value, never process-global state. A run resolves its spec's model in the
 * registry of its runtime (lib/train/runtime.ts), so a user's model reaches the runs it is given to, and
 * only those.
 */
export interface ModelRegistry {
  /** Every name, the study's six first, then the user's in the order given. */
  readonly names: () => readonly string[];
  readonly get: (name: string) => E.Either<UnknownName, ModelDef>;
  readonly list: () => readonly ModelInfo[];
  /** This registry with `defs` added, each checked (name free, contract kept); this one is unchanged. */
  readonly with: (...defs: readonly ModelDef[]) => E.Either<InvalidConfig, ModelRegistry>;
}

const registryOf = (defs: ReadonlyMap<string, ModelDef>): ModelRegistry => {
  const names = [...defs.keys()];
  const self: ModelRegistry = {
    names: () => names,
    get: (name) => {
      const def = defs.get(name) ?? defs.get(name.toLowerCase());
      return def !== undefined ? E.right(def) : E.left(unknown('model', name, names));
    },
    list: () => [...defs.values()].map(modelInfo),
    with: (...more) => {
      const next = new Map(defs);
      for (const def of more) {
        if (typeof def?.name === 'string' && next.has(def.name))
          return bad('model.name', `A model named '${def.name}' is already in the registry: choose another name.`);
        const checked = checkModelDef(def);
        if (E.isLeft(checked)) return checked;
        next.set(def.name, checked.right);
      }
      return E.right(registryOf(next));
    },
  };
  return self;
};

/** The study's six models. */
export const BUILT_IN_MODELS: ModelRegistry = registryOf(new Map(MODELS.map((m) => [m.name, m])));

/** The study's six and the user's `defs`: the registry a runtime resolves model names in. */
export const modelRegistry = (defs: readonly ModelDef[] = []): E.Either<InvalidConfig, ModelRegistry> => BUILT_IN_MODELS.with(...defs);
