import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalidConfig, nearest, type InvalidConfig } from '../errors.js';
import { reportErrors } from '../config/spec.js';
import { deriveSeed, mulberry32, uniformFloat } from '../data/rng.js';
import { isOneOf } from '../one-of.js';

/**
 * A hyperparameter search space, e.g. `lr=log(1e-4,1e-1),beta1=uniform(0.8,0.99),momentum=choice(0,0.9),
 * nesterov=choice(true,false),batch=int(16,256)`. The order of dimensions is part of the space: sampling
 * draws them in that order, so it must not change between a sweep and its resumption.
 */

const Finite = t.refinement(t.number, Number.isFinite, 'FiniteNumber');
const Integer = t.refinement(t.number, Number.isInteger, 'Integer');

/** Log-uniform on [lo, hi], lo > 0 (learning rates, weight decay). */
export const LogSpaceDimension = t.type({ name: t.string, kind: t.literal('log'), lo: Finite, hi: Finite });
/** Uniform on [lo, hi]. */
export const UniformSpaceDimension = t.type({ name: t.string, kind: t.literal('uniform'), lo: Finite, hi: Finite });
/** Uniform over the integers lo..hi inclusive. */
export const IntSpaceDimension = t.type({ name: t.string, kind: t.literal('int'), lo: Integer, hi: Integer });
/** One of the listed values. */
export const ChoiceSpaceDimension = t.type({
  name: t.string,
  kind: t.literal('choice'),
  values: t.readonlyArray(t.union([Finite, t.boolean])),
});
export const SpaceDimension = t.union([LogSpaceDimension, UniformSpaceDimension, IntSpaceDimension, ChoiceSpaceDimension]);
export type SpaceDimension = t.TypeOf<typeof SpaceDimension>;
export const SearchSpace = t.readonlyArray(SpaceDimension);
export type SearchSpace = t.TypeOf<typeof SearchSpace>;

export const SpaceValue = t.union([t.number, t.boolean]);
export type SpaceValue = t.TypeOf<typeof SpaceValue>;
/** One configuration of a space: a value per dimension name. */
export const SpacePoint = t.readonly(t.record(t.string, SpaceValue), 'a point of a search space');
export type SpacePoint = t.TypeOf<typeof SpacePoint>;

export const DISTRIBUTIONS = ['log', 'uniform', 'int', 'choice'] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Why a decoded dimension is unusable, or undefined when it is fine. */
const checkDimension = (d: SpaceDimension): string | undefined => {
  if (!NAME.test(d.name)) return `'${d.name}' is not a valid hyperparameter name (letters, digits, '_' and '.')`;
  switch (d.kind) {
    case 'log':
      if (!(d.lo > 0)) return `log needs lo > 0 (got lo = ${d.lo}); use uniform(...) for a range that includes 0`;
      return d.lo < d.hi ? undefined : `log needs lo < hi (got ${d.lo} and ${d.hi})`;
    case 'uniform':
      return d.lo < d.hi ? undefined : `uniform needs lo < hi (got ${d.lo} and ${d.hi})`;
    case 'int':
      return d.lo < d.hi
        ? undefined
        : `int needs lo < hi (got ${d.lo} and ${d.hi}); for a fixed value use choice(${d.lo})`;
    case 'choice': {
      if (d.values.length === 0) return 'choice needs at least one value';
      const seen = new Set<string>();
      for (const v of d.values) {
        if (seen.has(String(v))) return `choice lists ${String(v)} twice`;
        seen.add(String(v));
      }
      return undefined;
    }
  }
};

const checkSpace = (
  space: SearchSpace,
  where: string,
  describeDim: (d: SpaceDimension) => string,
): E.Either<InvalidConfig, SearchSpace> => {
  if (space.length === 0)
    return E.left(invalidConfig({ path: 'space', message: 'The search space is empty: give at least one dimension, e.g. lr=log(1e-4,1e-1).' }));
  const names = new Set<string>();
  for (const d of space) {
    const problem = checkDimension(d);
    if (problem !== undefined)
      return E.left(invalidConfig({ path: `space.${d.name}`, message: `${where}, ${describeDim(d)}: ${problem}.` }));
    if (names.has(d.name))
      return E.left(
        invalidConfig({ path: `space.${d.name}`, message: `${where}, '${d.name}' is given twice: list each hyperparameter once.` }),
      );
    names.add(d.name);
  }
  return E.right(space);
};

/** Validates a space stored as JSON (e.g. in a sweep's record), with the same checks as the parser. */
export const decodeSearchSpace = (u: unknown): E.Either<InvalidConfig, SearchSpace> =>
  pipe(
    SearchSpace.decode(u),
    E.mapLeft((errs) => reportErrors(errs, 'search space')),
    E.chain((space) => checkSpace(space, 'In the saved search space', (d) => `'${d.name}'`)),
  );

/** Splits at commas that are not inside parentheses; undefined when the parentheses do not balance. */
const splitTopLevel = (s: string): string[] | undefined => {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return undefined;
    } else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
};

const EXAMPLE = 'lr=log(1e-4,1e-1),beta1=uniform(0.8,0.99),momentum=choice(0,0.9),batch=int(16,256)';

const parseDimension = (token: string): E.Either<InvalidConfig, SpaceDimension> => {
  const bad = (path: string, what: string) =>
    E.left(invalidConfig({ path, message: `In --space, '${token}': ${what}.` }));
  const m = /^([^=()\s]+)\s*=\s*([A-Za-z_]\w*)\s*\((.*)\)$/s.exec(token);
  if (token === '') return bad('space', `empty entry (two commas in a row?); expected name=distribution(args), e.g. ${EXAMPLE}`);
  if (!m) return bad('space', `expected name=distribution(args), e.g. lr=log(1e-4,1e-1)`);
  const [, name, dist, argText] = m as unknown as [string, string, string, string];
  const path = `space.${name}`;
  if (!NAME.test(name)) return bad(path, `'${name}' is not a valid hyperparameter name (letters, digits, '_' and '.')`);
  if (!isOneOf(DISTRIBUTIONS)(dist)) {
    const s = nearest(dist, DISTRIBUTIONS);
    return bad(path, `unknown distribution '${dist}'${s !== undefined ? `; did you mean '${s}'?` : ''} Expected one of ${DISTRIBUTIONS.map((d) => `${d}(...)`).join(', ')}`);
  }
  const args = argText.split(',').map((a) => a.trim());
  if (dist === 'choice') {
    const values: SpaceValue[] = [];
    for (const a of args) {
      if (a === 'true' || a === 'false') values.push(a === 'true');
      else if (NUMBER.test(a)) values.push(Number(a));
      else return bad(path, `choice values must be numbers or true/false, got '${a}'`);
    }
    return E.right({ name, kind: 'choice', values });
  }
  if (args.length !== 2) return bad(path, `${dist} takes two numbers (lo, hi), got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  const [loText, hiText] = args as [string, string];
  for (const a of args) if (!NUMBER.test(a)) return bad(path, `'${a}' is not a number; ${dist} takes (lo, hi)`);
  const lo = Number(loText);
  const hi = Number(hiText);
  if (dist === 'int' && !(Number.isInteger(lo) && Number.isInteger(hi)))
    return bad(path, `int takes two integers (lo, hi), got ${loText} and ${hiText}`);
  return E.right({ name, kind: dist as 'log' | 'uniform' | 'int', lo, hi });
};

/** Parses the `--space` syntax into a validated SearchSpace; errors name the offending entry. */
export const parseSearchSpace = (text: string): E.Either<InvalidConfig, SearchSpace> => {
  if (text.trim() === '') return checkSpace([], 'In --space', (d) => d.name);
  const tokens = splitTopLevel(text.trim());
  if (tokens === undefined)
    return E.left(invalidConfig({ path: 'space', message: `In --space '${text}': the parentheses do not balance; expected e.g. ${EXAMPLE}.` }));
  const dims: SpaceDimension[] = [];
  for (const token of tokens) {
    const d = parseDimension(token);
    if (E.isLeft(d)) return d;
    dims.push(d.right);
  }
  const original = new Map(dims.map((d, i) => [d, tokens[i]!]));
  return checkSpace(dims, 'In --space', (d) => `'${original.get(d) ?? d.name}'`);
};

/** The `--space` text of a space (parses back to an equal space). */
export const formatSearchSpace = (space: SearchSpace): string =>
  space
    .map((d) => (d.kind === 'choice' ? `${d.name}=choice(${d.values.map(String).join(',')})` : `${d.name}=${d.kind}(${d.lo},${d.hi})`))
    .join(',');

/** Whether figures should put this dimension on a log axis. */
const draw = (d: SpaceDimension, u: number): SpaceValue => {
  switch (d.kind) {
    case 'log':
      return Math.min(d.hi, Math.exp(Math.log(d.lo) + u * (Math.log(d.hi) - Math.log(d.lo))));
    case 'uniform':
      return d.lo + u * (d.hi - d.lo);
    case 'int':
      return d.lo + Math.floor(u * (d.hi - d.lo + 1));
    case 'choice':
      return d.values[Math.floor(u * d.values.length)]!;
  }
};

/**
 * Trial `trial` of a random search with seed `seed`: the same point every time it is asked for, in any
 * order and after any resumption (each trial has its own mulberry32 stream, seeded by deriveSeed).
 */
export const samplePoint = (space: SearchSpace, seed: number, trial: number): SpacePoint => {
  const rng = mulberry32(deriveSeed(seed, trial));
  return Object.fromEntries(space.map((d) => [d.name, draw(d, uniformFloat(rng))]));
};

const checkTrials = (trials: number): E.Either<InvalidConfig, number> =>
  Number.isInteger(trials) && trials > 0
    ? E.right(trials)
    : E.left(invalidConfig({ path: 'trials', message: `--trials must be a positive integer, got ${trials}.` }));

/** The first `trials` points of a random search. */
export const randomPoints = (space: SearchSpace, trials: number, seed: number): E.Either<InvalidConfig, SpacePoint[]> =>
  E.map((n: number) => Array.from({ length: n }, (_, i) => samplePoint(space, seed, i)))(checkTrials(trials));

const maxPoints = (d: SpaceDimension): number =>
  d.kind === 'choice' ? d.values.length : d.kind === 'int' ? d.hi - d.lo + 1 : Infinity;

/** k grid values of one dimension: endpoints included (log-spaced for log), the centre when k = 1. */
const gridValues = (d: SpaceDimension, k: number): SpaceValue[] => {
  const frac = (i: number) => (k === 1 ? 0.5 : i / (k - 1));
  return Array.from({ length: k }, (_, i): SpaceValue => {
    switch (d.kind) {
      case 'log':
        return i === k - 1 && k > 1 ? d.hi : d.lo * Math.pow(d.hi / d.lo, frac(i));
      case 'uniform':
        return d.lo + frac(i) * (d.hi - d.lo);
      case 'int':
        return Math.round(d.lo + frac(i) * (d.hi - d.lo));
      case 'choice':
        return d.values[k === 1 ? 0 : Math.round((i * (d.values.length - 1)) / (k - 1))]!;
    }
  });
};

/**
 * How many grid values each dimension gets so that their product stays at most `trials`: repeatedly give
 * one more value to the dimension with the fewest (earliest first) whose increase still fits, so the grid
 * is as balanced as the budget allows. Choice and int dimensions never exceed their number of values.
 */
export const gridCounts = (space: SearchSpace, trials: number): number[] => {
  const counts = space.map(() => 1);
  let product = 1;
  for (;;) {
    const order = space
      .map((d, i) => i)
      .filter((i) => counts[i]! < maxPoints(space[i]!))
      .sort((a, b) => counts[a]! - counts[b]! || a - b);
    const next = order.find((i) => (product / counts[i]!) * (counts[i]! + 1) <= trials);
    if (next === undefined) return counts;
    product = (product / counts[next]!) * (counts[next]! + 1);
    counts[next]!++;
  }
};

/** A grid of at most `trials` points, the first dimension varying slowest. */
export const gridPoints = (space: SearchSpace, trials: number): E.Either<InvalidConfig, SpacePoint[]> =>
  E.map((n: number) => {
    const axes = gridCounts(space, n).map((k, i) => gridValues(space[i]!, k));
    let points: Record<string, SpaceValue>[] = [{}];
    axes.forEach((values, i) => {
      const name = space[i]!.name;
      points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
    });
    return points as SpacePoint[];
  })(checkTrials(trials));

/** A point as optimizer overrides (RunSpec's overrides are numbers: true/false become 1/0). */
export const toOverrides = (point: SpacePoint): Record<string, number> =>
  Object.fromEntries(Object.entries(point).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v]));
