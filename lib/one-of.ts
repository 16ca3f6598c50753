/**
 * Membership of a literal list as a type guard: `isOneOf(FORMATS)(s)` is true when `s` is one of
 * `FORMATS` and then narrows it to `Format`. The lists it serves are `as const` arrays of names
 * (backends, formats, optimizers, presets, strategies...), each the one source of truth for its type.
 */
export const isOneOf =
  <T extends string>(list: readonly T[]) =>
  (x: unknown): x is T =>
    typeof x === 'string' && (list as readonly string[]).includes(x);
