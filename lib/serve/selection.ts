/** Which runs the figures draw: the page's choice, as its query string carries it, decoded with io-ts. */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { strict } from '../config/codecs.js';
import { decodeWith } from '../config/spec.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';

export type Selection =
  | { readonly kind: 'all' }
  /** Only these runs, or every run but these: the page sends whichever list is shorter. */
  | { readonly kind: 'only' | 'except'; readonly ids: ReadonlySet<string> };

export const ALL: Selection = { kind: 'all' };

/** At most this many ids in a list (the page sends the shorter of the two lists, so half a large directory). */
export const MAX_IDS = 5000;

const ID = /^[0-9a-f]{16}$/;

const IdList = new t.Type<readonly string[], string, unknown>(
  `a comma-separated list of at most ${MAX_IDS} run ids (16 hex digits each)`,
  (u): u is readonly string[] => Array.isArray(u) && u.every((x) => typeof x === 'string' && ID.test(x)),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const ids = u === '' ? [] : u.split(',');
    return ids.length <= MAX_IDS && ids.every((x) => ID.test(x)) ? t.success(ids) : t.failure(u, c);
  },
  (ids) => ids.join(','),
);

const FiguresQuery = strict(t.partial({ only: IdList, except: IdList }), 'the figures query');

/**
 * The selection a query string asks for: none of `only` and `except` means every run. A key given twice,
 * both keys, an unknown key or an id that is not one is an InvalidConfig naming it (the server answers 400).
 */
export const decodeSelection = (query: URLSearchParams): E.Either<InvalidConfig, Selection> => {
  const raw: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k in raw) return E.left(invalidConfig({ path: k, message: `'${k}' is given more than once.` }));
    raw[k] = v;
  }
  const decoded = decodeWith(FiguresQuery, 'query')(raw);
  if (E.isLeft(decoded)) return decoded;
  const { only, except } = decoded.right;
  if (only !== undefined && except !== undefined) return E.left(invalidConfig({ path: 'only', message: "Give 'only' or 'except', not both." }));
  if (only !== undefined) return E.right({ kind: 'only', ids: new Set(only) });
  if (except !== undefined) return E.right({ kind: 'except', ids: new Set(except) });
  return E.right(ALL);
};

export const isSelected = (sel: Selection, runId: string): boolean =>
  sel.kind === 'all' ? true : sel.kind === 'only' ? sel.ids.has(runId) : !sel.ids.has(runId);

/** A key that is the same for the same selection, whatever order its ids came in. */
export const selectionKey = (sel: Selection): string => (sel.kind === 'all' ? 'all' : `${sel.kind}:${[...sel.ids].sort().join(',')}`);
