import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, printable, unknown, type OptbenchError } from '../errors.js';
import { OPTIMIZER_NAMES, type ParamValue } from './params.js';
import { paramNamesOf } from './listing.js';
import { canonicalParamOf, optimizerNames, registeredOptimizerNames, validateParamOf } from './registry.js';

export interface OptimizerArg {
  /** A built-in's name (OPTIMIZER_NAMES) or a registered optimizer's. */
  readonly name: string;
  /** Canonical hyperparameter names (aliases such as `learning_rate` are already mapped to `lr`). */
  readonly overrides: Record<string, ParamValue>;
}

/**
 * Grammar of `--optimizers` (commas separate both optimizers and overrides, so where an item ends is
 * decided by '='):
 *
 *   list     := item ("," item)*
 *   item     := name [":" override ("," override)*]      name: an optimizer, or "all" (see below)
 *   override := key "=" value                             value: a number, true or false
 *
 * A comma-separated token that contains '=' is one more override of the item before it, which must have
 * opened its overrides with ':'; any other token starts a new item. So
 * `adam:lr=3e-4,beta2=0.99,sgd,rmsprop:rho=0.95` is adam (two overrides), sgd, rmsprop (one override).
 *
 * A name is one of the seven built-ins or an optimizer added with registerOptimizer in this process.
 * "all" means the seven built-ins followed by every registered optimizer, at the time of parsing.
 */
/** The grammar in one line, as it reads while no optimizer is registered (then "all" is the seven). */
export const OPTIMIZER_LIST_GRAMMAR = 'name[:key=value[,key=value...]][,name...]  ("all" = the seven)';

/** The grammar as error messages give it: what "all" means now, with any registered optimizers named. */
export const optimizerListGrammar = (): string => {
  const registered = registeredOptimizerNames();
  return registered.length === 0
    ? OPTIMIZER_LIST_GRAMMAR
    : OPTIMIZER_LIST_GRAMMAR.replace('the seven', `the seven built-ins plus registered ${registered.join(', ')}`);
};

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

const bad = (token: string, why: string): OptbenchError =>
  invalidConfig({
    path: 'optimizer',
    message: printable(`Cannot read optimizer argument at '${token}': ${why}. Expected ${optimizerListGrammar()}, e.g. adam:lr=3e-4,beta2=0.99,sgd.`),
  });

const parseValue = (token: string, raw: string): E.Either<OptbenchError, ParamValue> => {
  if (raw === 'true') return E.right(true);
  if (raw === 'false') return E.right(false);
  if (NUMBER.test(raw)) return E.right(Number(raw));
  return E.left(bad(token, `'${raw}' is not a number (or true/false)`));
};

interface Draft {
  names: string[];
  overrides: Record<string, ParamValue>;
}

const addOverride = (draft: Draft, token: string): E.Either<OptbenchError, void> => {
  const eq = token.indexOf('=');
  const rawKey = token.slice(0, eq).trim();
  const rawValue = token.slice(eq + 1).trim();
  if (rawKey === '') return E.left(bad(token, 'the hyperparameter name before = is missing'));
  if (rawValue === '') return E.left(bad(token, `no value after '${rawKey}='`));
  const value = parseValue(token, rawValue);
  if (E.isLeft(value)) return value;
  for (const name of draft.names) {
    const key = canonicalParamOf(name, rawKey);
    const known = paramNamesOf(name);
    if (!known.includes(key)) {
      const err = unknown('hyperparameter', rawKey, known);
      const hint = err.suggestion !== undefined ? ` Did you mean '${err.suggestion}'?` : '';
      const message = printable(`${name} has no hyperparameter '${rawKey}' (in '${token}').${hint} Valid: ${known.join(', ')}.`);
      return E.left({ ...err, message });
    }
    if (key in draft.overrides) return E.left(bad(token, `${key} is given twice for ${name}`));
    const checked = validateParamOf(name, key, value.right, `optimizer.overrides.${key}`);
    if (E.isLeft(checked)) return checked;
  }
  draft.overrides[canonicalParamOf(draft.names[0]!, rawKey)] = value.right;
  return E.right(undefined);
};

const startItem = (token: string): E.Either<OptbenchError, { draft: Draft; firstOverride?: string }> => {
  const colon = token.indexOf(':');
  const rawName = (colon < 0 ? token : token.slice(0, colon)).trim().toLowerCase();
  if (rawName === '') return E.left(bad(token, 'the optimizer name is missing'));
  const known = optimizerNames();
  const names: string[] | undefined =
    rawName === 'all' ? [...OPTIMIZER_NAMES, ...registeredOptimizerNames()] : known.includes(rawName) ? [rawName] : undefined;
  if (names === undefined) return E.left(unknown('optimizer', rawName, [...known, 'all']));
  const draft: Draft = { names, overrides: {} };
  if (colon < 0) return E.right({ draft });
  const rest = token.slice(colon + 1);
  if (!rest.includes('=')) return E.left(bad(token, `expected key=value after '${rawName}:'`));
  return E.right({ draft, firstOverride: rest });
};

/** Parses a list such as `adam,sgd:lr=0.1,momentum=0.9` or `all`. */
export const parseOptimizerList = (input: string): E.Either<OptbenchError, OptimizerArg[]> => {
  const tokens = input.split(',');
  const drafts: Draft[] = [];
  let open = false; // whether the last item opened overrides with ':'
  for (const [i, raw] of tokens.entries()) {
    const token = raw.trim();
    if (token === '') {
      return E.left(bad(input, `empty item at position ${i + 1} (two commas in a row, or a comma at an end)`));
    }
    if (token.includes('=') && !token.includes(':')) {
      const current = drafts[drafts.length - 1];
      if (current === undefined || !open) {
        const example = `${current?.names.length === 1 ? current.names[0] : 'adam'}:${token}`;
        const hint = current === undefined ? 'it has no optimizer before it' : "overrides must follow 'name:'";
        return E.left(bad(token, `${hint} (write e.g. ${example})`));
      }
      const added = addOverride(current, token);
      if (E.isLeft(added)) return added;
      continue;
    }
    const started = startItem(token);
    if (E.isLeft(started)) return started;
    drafts.push(started.right.draft);
    open = started.right.firstOverride !== undefined;
    if (started.right.firstOverride !== undefined) {
      const added = addOverride(started.right.draft, started.right.firstOverride);
      if (E.isLeft(added)) return added;
    }
  }
  return E.right(drafts.flatMap((d) => d.names.map((name) => ({ name, overrides: { ...d.overrides } }))));
};

/** Parses exactly one optimizer with optional overrides, e.g. `adam:lr=3e-4,beta2=0.99`. */
export const parseOptimizerArg = (input: string): E.Either<OptbenchError, OptimizerArg> => {
  const list = parseOptimizerList(input);
  if (E.isLeft(list)) return list;
  if (list.right.length !== 1) {
    const names = list.right.map((a) => a.name).join(', ');
    return E.left(bad(input, `expected one optimizer, got ${list.right.length} (${names})`));
  }
  return E.right(list.right[0]!);
};
