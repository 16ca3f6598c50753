/**
 * The native addon's op tables: name -> code, written once, in native/ops.h, and exported by the addon as
 * `ops`. Every code the TypeScript side passes to C++ is looked up here by name, so the two sides cannot
 * disagree on a number. The element-wise kernels are registered for every name of the `unary` and `binary`
 * tables (TF.js kernel names); the other tables are looked up by the names below, which the addon must have.
 */
import * as E from 'fp-ts/lib/Either.js';

export type OpTable = Readonly<Record<string, number>>;

export interface NativeOps {
  /** Fused activations of convolutions and products, by TF.js's fused-activation names. */
  readonly act: OpTable;
  /** Element-wise unary kernels, by TF.js kernel name. */
  readonly unary: OpTable;
  /** Element-wise binary kernels with broadcasting, by TF.js kernel name. */
  readonly binary: OpTable;
  /** Reductions, by TF.js kernel name. */
  readonly reduce: OpTable;
  /** One-pass activation gradients, by activation. */
  readonly activationGrad: OpTable;
  /** Precision of convolutions and matrix products. */
  readonly precision: OpTable;
  /** Where the convolutions' activations live. */
  readonly convLayout: OpTable;
  /** The fused optimizer updates the addon has (its functions `adam`, `adamax`, ...); no code is passed for them. */
  readonly fused: OpTable;
}

/** The precision modes of convolutions and products (see native-precision.ts). */
export const PRECISION_MODES = ['fp32', 'bf16', 'bf16-emulated'] as const;
export type PrecisionMode = (typeof PRECISION_MODES)[number];

/** The convolution layouts (see native-layout.ts). */
export const CONV_LAYOUTS = ['auto', 'nhwc', 'blocked'] as const;
export type ConvLayout = (typeof CONV_LAYOUTS)[number];

/** The fused optimizer updates (see native-fused.ts), by the addon function that runs each. */
export const FUSED_UPDATES = ['adam', 'adamax', 'adamw', 'lion'] as const;

/** The activations with a one-pass gradient (see native-grads.ts). */
export const GRAD_ACTIVATIONS = ['tanh', 'sigmoid', 'relu'] as const;
export type GradActivation = (typeof GRAD_ACTIVATIONS)[number];

/** The names the TypeScript side looks up in each table. */
export const REQUIRED_OPS: { readonly [K in keyof NativeOps]: readonly string[] } = {
  act: ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'tanh'],
  unary: [],
  binary: [],
  reduce: ['Sum', 'Mean', 'Max', 'Min'],
  activationGrad: GRAD_ACTIVATIONS,
  precision: PRECISION_MODES,
  convLayout: CONV_LAYOUTS,
  fused: FUSED_UPDATES,
};

const isCode = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * The addon's tables, checked: each is an object of non-negative integer codes with every name of
 * REQUIRED_OPS. Left: what is missing or malformed, for an addon built from other sources than this code.
 */
export const decodeOps = (ops: unknown): E.Either<string, NativeOps> => {
  if (typeof ops !== 'object' || ops === null) return E.left('it has no op tables (`ops`)');
  const problems: string[] = [];
  const tables = {} as Record<keyof NativeOps, OpTable>;
  for (const [key, names] of Object.entries(REQUIRED_OPS) as [keyof NativeOps, readonly string[]][]) {
    const table: unknown = (ops as Record<string, unknown>)[key];
    if (typeof table !== 'object' || table === null) {
      problems.push(`no table '${key}'`);
      continue;
    }
    const entries = Object.entries(table);
    const bad = entries.filter(([, v]) => !isCode(v)).map(([n]) => n);
    if (bad.length > 0) problems.push(`'${key}' has codes that are not non-negative integers (${bad.join(', ')})`);
    const missing = names.filter((n) => !Object.hasOwn(table, n));
    if (missing.length > 0) problems.push(`'${key}' lacks ${missing.join(', ')}`);
    tables[key] = Object.freeze(Object.fromEntries(entries)) as OpTable;
  }
  return problems.length > 0 ? E.left(problems.join('; ')) : E.right(Object.freeze(tables));
};

/** The code of `name` in a table whose names decodeOps checked (a name outside REQUIRED_OPS throws). */
export const opCode = (table: OpTable, name: string): number => {
  const code = table[name];
  if (code === undefined) throw new Error(`native op table has no '${name}' (known: ${Object.keys(table).join(', ')})`);
  return code;
};
