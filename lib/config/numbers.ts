import * as t from 'io-ts';

/** A whole number >= min, typed as a plain number (a refinement without a brand keeps specs easy to build). */
export const intAtLeast = (name: string, min: number): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min ? t.success(u) : t.failure(u, c)),
    (n) => n,
  );

export const PositiveInt = intAtLeast('a positive whole number', 1);
export const NonNegativeInt = intAtLeast('a whole number >= 0', 0);
