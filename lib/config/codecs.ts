import * as t from 'io-ts';
import { nearest } from '../errors.js';

/**
 * Codecs for values that enter from outside (configs users write, files, jobs, messages), shared so that
 * every boundary decodes the same way: bounded numbers, names that can only be looked up, and objects
 * whose unknown keys are refused (a typo such as `dataDir` for `dir` must not be ignored).
 */

/** A whole number in [min, max], typed as a plain number (a refinement without a brand keeps values easy to build). */
export const intIn = (name: string, min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c)),
    (n) => n,
  );

/** A string matching `re`, described by `name`. */
export const matching = (name: string, re: RegExp): t.Type<string, string, unknown> =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && re.test(u),
    (u, c) => (typeof u === 'string' && re.test(u) ? t.success(u) : t.failure(u, c)),
    (s) => s,
  );

/** A name that can only ever be looked up (a registry key, a data set's name), never a path. */
export const SafeName = new t.Type<string, string, unknown>(
  'a name of letters, digits, ".", "_" or "-" (at most 64, not starting with "." or "-")',
  (u): u is string => typeof u === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(u) && !u.includes('..'),
  (u, c) => (typeof u === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(u) && !u.includes('..') ? t.success(u) : t.failure(u, c)),
  (s) => s,
);

export const Finite = new t.Type<number, number, unknown>(
  'a finite number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && Number.isFinite(u) ? t.success(u) : t.failure(u, c)),
  (n) => n,
);

/** The keys an object codec describes (through intersections, partials, exact and strict wrappers). */
const keysOf = (codec: t.Mixed): readonly string[] => {
  const c = codec as t.Mixed & { _tag?: string; props?: t.Props; types?: t.Mixed[]; type?: t.Mixed };
  switch (c._tag) {
    case 'InterfaceType':
    case 'PartialType':
    case 'StrictType':
      return Object.keys(c.props ?? {});
    case 'ExactType':
    case 'RefinementType':
    case 'ReadonlyType':
      return keysOf(c.type!);
    case undefined:
      return 'strictOf' in c ? keysOf((c as unknown as { strictOf: t.Mixed }).strictOf) : [];
    case 'IntersectionType':
      return c.types!.flatMap(keysOf);
    default:
      return [];
  }
};

/** The type an unknown key's failure is reported under: its key is a field of the object, whatever wraps it. */
export const UnknownKey = new t.Type<never, never, unknown>('a field it has', (_u): _u is never => false, (u, c) => t.failure(u, c), (n) => n);

/** The closest of `candidates` to `key` when it is near enough to be a typo (`dataDir` -> `dir`). */
const closest = (key: string, candidates: readonly string[]): string | undefined => {
  const norm = (x: string) => x.toLowerCase().replace(/[_-]/g, '');
  // `dataDir` means `dir`: a field named by its last word, with a qualifier in front.
  const last = key.split(/(?=[A-Z])|[_-]/).pop() ?? key;
  return candidates.find((c) => norm(c) === norm(key)) ?? candidates.find((c) => norm(c) === norm(last)) ?? nearest(key, candidates);
};

/**
 * Marks `wrapper` as standing for `inner` (whose validation it runs in its own context), so that error
 * paths see through it (config/spec.ts: an intersection inside it adds no field to a path).
 */
export const wrapping = <W extends t.Mixed>(wrapper: W, inner: t.Mixed): W => Object.assign(wrapper, { strictOf: inner });

/**
 * `codec` for an object whose every key must be one `codec` describes: an unknown key is a failure at
 * that key ("is not one of its fields: ..."), and the value passes through `t.exact` otherwise. Undefined
 * values count as absent, as optional fields written `{ x: undefined }` do in TypeScript.
 */
export const strict = <C extends t.Mixed>(codec: C, name: string = codec.name): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> => {
  const allowed = keysOf(codec);
  const known = new Set(allowed);
  const wrapper = new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
    name,
    (u): u is t.TypeOf<C> => codec.is(u),
    (u, c) => {
      if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
        const extra = Object.keys(u).find((k) => !known.has(k) && (u as Record<string, unknown>)[k] !== undefined);
        if (extra !== undefined) {
          const guess = closest(extra, allowed);
          return t.failure((u as Record<string, unknown>)[extra], [...c, { key: extra, type: UnknownKey, actual: u }], `is not one of its fields (${allowed.join(', ')})${guess !== undefined ? `: did you mean '${guess}'?` : ''}`);
        }
      }
      return codec.validate(u, c);
    },
    codec.encode,
  );
  // The codec it wraps, for error paths (an intersection's member indices are not fields).
  return wrapping(wrapper, codec);
};

/** A function (an option that is code: a trainer, a callback), checked only for being one. */
export const Fn = new t.Type<(...args: never[]) => unknown, (...args: never[]) => unknown, unknown>(
  'a function',
  (u): u is (...args: never[]) => unknown => typeof u === 'function',
  (u, c) => (typeof u === 'function' ? t.success(u as (...args: never[]) => unknown) : t.failure(u, c)),
  (f) => f,
);

/** An object (a runtime, a store, a checkpointer): checked only for being one, its parts by their own code. */
export const AnObject = new t.Type<object, object, unknown>(
  'an object',
  (u): u is object => typeof u === 'object' && u !== null,
  (u, c) => (typeof u === 'object' && u !== null ? t.success(u) : t.failure(u, c)),
  (o) => o,
);

/**
 * A number as JSON holds it: JSON has no NaN or infinity, so `JSON.stringify` writes them as null, and
 * null reads back as NaN (a diverged loss; a curve stops there). Encoding gives null for them again.
 */
export const JsonNumber = new t.Type<number, number | null, unknown>(
  'a number (null for NaN)',
  (u): u is number => typeof u === 'number',
  (u, c) => (typeof u === 'number' ? t.success(u) : u === null ? t.success(Number.NaN) : t.failure(u, c)),
  (n) => (Number.isFinite(n) ? n : null),
);

/** `codec` or null. */
export const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null], `${codec.name} or null`);


/**
 * A string holding JSON that `codec` decodes (a store's JSON columns): a failure inside it has the path of
 * the field within the JSON (`spec.optimizer.name`), and text that does not parse fails where it is.
 */
export const JsonText = <C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C>, string, unknown> =>
  wrapping(new t.Type<t.TypeOf<C>, string, unknown>(
    `JSON text holding ${codec.name}`,
    (u): u is t.TypeOf<C> => codec.is(u),
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c);
      let parsed: unknown;
      try {
        parsed = JSON.parse(u) as unknown;
      } catch {
        return t.failure(u, c, 'is not JSON text');
      }
      return codec.validate(parsed, c);
    },
    (a) => JSON.stringify(codec.encode(a)),
  ), codec);
