import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { checkSchedule, isScheduleKey, readScheduleKey, type Schedule, type ScheduleKey } from '../config/schedule.js';
import { invalidConfig, printable, unknown, type OptbenchError } from '../errors.js';
import { MODERN_OPTIMIZER_NAMES, OPTIMIZER_NAMES, STUDY_OPTIMIZER_NAMES, type ParamValue } from './params.js';
import { paramNamesOf } from './listing.js';
import { BUILT_IN_OPTIMIZERS, canonicalParamOf, optimizerNames, registeredOptimizerNames, validateParamOf, type OptimizerRegistry } from './registry.js';

export interface OptimizerArg {
  /** A built-in's name (OPTIMIZER_NAMES) or a registered optimizer's. */
  readonly name: string;
  /** Canonical hyperparameter names (aliases such as `learning_rate` are already mapped to `lr`). */
  readonly overrides: Record<string, ParamValue>;
  /** The learning-rate schedule in its canonical form; absent for the constant rate. */
  readonly schedule?: Schedule;
}

/**
 * Grammar of `--optimizers` (commas separate both optimizers and overrides, so where an item ends is
 * decided by '='):
 *
 *   list     := item ("," item)*
 *   item     := name [":" override ("," override)*]      name: an optimizer, or a group (see below)
 *   override := key "=" value                             value: a number, true or false
 *             | "schedule=" (constant|cosine|linear|step) | "warmup=" span | "stepEvery=" span | "stepGamma=" number
 *   span     := N | N "steps" | N "epochs"               (N a whole number; a bare N counts steps)
 *
 * A comma-separated token that contains '=' is one more override of the item before it, which must have
 * opened its overrides with ':'; any other token starts a new item. So
 * `adam:lr=3e-4,beta2=0.99,sgd,rmsprop:rho=0.95` is adam (two overrides), sgd, rmsprop (one override), and
 * `adamw:lr=1e-3,schedule=cosine,warmup=500` is AdamW with a cosine schedule after 500 warm-up steps
 * (lib/config/schedule.ts and lib/optimizers/schedule.ts). A schedule is kept in its canonical form, so
 * one run has one spec however it is spelled (warmup=0 and schedule=constant are the study's constant rate).
 *
 * A name is a built-in or an optimizer of the registry the list is parsed in (a runtime's: the user's own,
 * given by value). The groups: "all" is every built-in followed by every optimizer of that registry,
 * "study" the study's seven, "modern" the built-ins beyond them.
 */
/** The grammar in one line, as it reads while no optimizer is registered. */
export const OPTIMIZER_LIST_GRAMMAR =
  'name[:key=value[,key=value...]][,name...]  (key=value: a hyperparameter, or schedule=cosine|linear|step|constant, warmup=N[epochs], ' +
  'stepEvery=N[epochs], stepGamma=x; "all" = every built-in, "study" = the seven, "modern" = ' +
  `${MODERN_OPTIMIZER_NAMES.join(', ')})`;

/** The grammar as error messages give it: what "all" means now, with any registered optimizers named. */
export const optimizerListGrammar = (reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): string => {
  const registered = registeredOptimizerNames(reg);
  return registered.length === 0
    ? OPTIMIZER_LIST_GRAMMAR
    : OPTIMIZER_LIST_GRAMMAR.replace('every built-in', `every built-in plus registered ${registered.join(', ')}`);
};

/** The groups a name in --optimizers may be, and what each means now. */
const GROUPS: Readonly<Record<string, (reg: OptimizerRegistry) => string[]>> = {
  all: (reg) => [...OPTIMIZER_NAMES, ...registeredOptimizerNames(reg)],
  study: () => [...STUDY_OPTIMIZER_NAMES],
  modern: () => [...MODERN_OPTIMIZER_NAMES],
};
/** Names that --optimizers reads as groups, so no optimizer may take them. */
export const OPTIMIZER_GROUPS = Object.keys(GROUPS);

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

const bad = (token: string, why: string, reg: OptimizerRegistry): OptbenchError =>
  invalidConfig({
    path: 'optimizer',
    message: printable(`Cannot read optimizer argument at '${token}': ${why}. Expected ${optimizerListGrammar(reg)}, e.g. adam:lr=3e-4,beta2=0.99,sgd.`),
  });

const parseValue = (token: string, raw: string, reg: OptimizerRegistry): E.Either<OptbenchError, ParamValue> => {
  if (raw === 'true') return E.right(true);
  if (raw === 'false') return E.right(false);
  if (NUMBER.test(raw)) return E.right(Number(raw));
  return E.left(bad(token, `'${raw}' is not a number (or true/false)`, reg));
};

interface Draft {
  readonly names: readonly string[];
  readonly overrides: Readonly<Record<string, ParamValue>>;
  /** The schedule keys given so far (checked as a whole when the list is read), over the --schedule default. */
  readonly schedule: Partial<Schedule>;
  readonly scheduleKeys: ReadonlySet<string>;
  /** Whether a schedule was given at all (by the item, or by --schedule). */
  readonly scheduled: boolean;
}

/** `schedule` with one more schedule key read into it (a copy), or what is wrong with its value. */
const withScheduleKey = (schedule: Partial<Schedule>, key: ScheduleKey, value: string): E.Either<string, Partial<Schedule>> => {
  const next = { ...schedule };
  return E.map(() => next)(readScheduleKey(next, key, value));
};

/** One override of an item may be given to each of its optimizers: it names a hyperparameter each has, once, with a value each accepts. */
const checkOverride = (draft: Draft, name: string, token: string, rawKey: string, value: ParamValue, reg: OptimizerRegistry): E.Either<OptbenchError, void> => {
  const key = canonicalParamOf(name, rawKey, reg);
  const known = paramNamesOf(name, reg);
  if (!known.includes(key)) {
    const err = unknown('hyperparameter', rawKey, known);
    const hint = err.suggestion !== undefined ? ` Did you mean '${err.suggestion}'?` : '';
    return E.left({ ...err, message: printable(`${name} has no hyperparameter '${rawKey}' (in '${token}').${hint} Valid: ${known.join(', ')}.`) });
  }
  if (key in draft.overrides) return E.left(bad(token, `${key} is given twice for ${name}`, reg));
  return E.map(() => undefined)(validateParamOf(name, key, value, `optimizer.overrides.${key}`, reg));
};

/** The item's draft with one more `key=value` token: a schedule key, or a hyperparameter of each of its optimizers. */
const addOverride = (draft: Draft, token: string, reg: OptimizerRegistry): E.Either<OptbenchError, Draft> => {
  const eq = token.indexOf('=');
  const rawKey = token.slice(0, eq).trim();
  const rawValue = token.slice(eq + 1).trim();
  if (rawKey === '') return E.left(bad(token, 'the hyperparameter name before = is missing', reg));
  if (rawValue === '') return E.left(bad(token, `no value after '${rawKey}='`, reg));
  if (isScheduleKey(rawKey)) {
    if (draft.scheduleKeys.has(rawKey)) return E.left(bad(token, `${rawKey} is given twice for ${draft.names.join(', ')}`, reg));
    return pipe(
      withScheduleKey(draft.schedule, rawKey, rawValue),
      E.bimap(
        (why) => bad(token, why, reg),
        (schedule): Draft => ({ ...draft, schedule, scheduleKeys: new Set([...draft.scheduleKeys, rawKey]), scheduled: true }),
      ),
    );
  }
  return pipe(
    parseValue(token, rawValue, reg),
    E.tap((value) => E.traverseArray((name: string) => checkOverride(draft, name, token, rawKey, value, reg))(draft.names)),
    E.map((value): Draft => ({ ...draft, overrides: { ...draft.overrides, [canonicalParamOf(draft.names[0]!, rawKey, reg)]: value } })),
  );
};

/** A new item's draft from its first token (`name` or `name:key=value`), with its first override added. */
const startItem = (token: string, base: ScheduleDefault, reg: OptimizerRegistry): E.Either<OptbenchError, { draft: Draft; open: boolean }> => {
  const colon = token.indexOf(':');
  const rawName = (colon < 0 ? token : token.slice(0, colon)).trim().toLowerCase();
  if (rawName === '') return E.left(bad(token, 'the optimizer name is missing', reg));
  const known = optimizerNames(reg);
  const names: string[] | undefined = Object.hasOwn(GROUPS, rawName) ? GROUPS[rawName]!(reg) : known.includes(rawName) ? [rawName] : undefined;
  if (names === undefined) return E.left(unknown('optimizer', rawName, [...known, ...OPTIMIZER_GROUPS]));
  const draft: Draft = { names, overrides: {}, schedule: { ...base.schedule }, scheduleKeys: new Set(), scheduled: base.given };
  if (colon < 0) return E.right({ draft, open: false });
  const rest = token.slice(colon + 1);
  if (!rest.includes('=')) return E.left(bad(token, `expected key=value after '${rawName}:'`, reg));
  return E.map((d: Draft) => ({ draft: d, open: true }))(addOverride(draft, rest, reg));
};

/** A draft's schedule, checked and canonical (undefined: the constant rate). */
const scheduleOf = (d: Draft, reg: OptimizerRegistry): E.Either<OptbenchError, Schedule | undefined> =>
  !d.scheduled
    ? E.right(undefined)
    : pipe(
        checkSchedule({ kind: 'constant', ...d.schedule }, 'optimizer.schedule'),
        E.mapLeft((e) => ({ ...e, message: `${d.names.join(', ')}: ${e.message} Expected ${optimizerListGrammar(reg)}.` })),
      );

interface ScheduleDefault {
  readonly given: boolean;
  readonly schedule: Partial<Schedule>;
}

const NO_SCHEDULE: ScheduleDefault = { given: false, schedule: {} };

/** --schedule as read so far, and the keys it has given. */
type ScheduleRead = ScheduleDefault & { readonly seen: ReadonlySet<string> };

/** Folds `tokens` through `step` (given each one's position), stopping at the first Left. */
const foldTokens = <S>(tokens: readonly string[], start: S, step: (i: number, s: S, token: string) => E.Either<OptbenchError, S>): E.Either<OptbenchError, S> =>
  pipe(
    tokens,
    RA.reduceWithIndex(E.right<OptbenchError, S>(start), (i, so, token) => E.flatMap((s: S) => step(i, s, token))(so)),
  );

/**
 * Reads `--schedule`: a kind with schedule keys, `cosine,warmup=500`, `step,stepEvery=2epochs,stepGamma=0.5`,
 * or keys alone (`warmup=1epochs`: a warm-up before the constant rate).
 */
const parseScheduleDefault = (text: string): E.Either<OptbenchError, ScheduleDefault> => {
  const badSchedule = (token: string, why: string) =>
    invalidConfig({
      path: 'schedule',
      message: printable(`Cannot read --schedule at '${token}': ${why}. Expected kind[,warmup=N[epochs]][,stepEvery=N[epochs]][,stepGamma=x] with kind constant, cosine, linear or step, e.g. cosine,warmup=500.`),
    });
  /** One more `key=value` (or the leading kind), read into the schedule so far. */
  const readToken = (i: number, so: ScheduleRead, raw: string): E.Either<OptbenchError, ScheduleRead> => {
    const token = raw.trim();
    const eq = token.indexOf('=');
    const [key, value] = eq < 0 && i === 0 ? ['schedule', token] : [token.slice(0, eq).trim(), token.slice(eq + 1)];
    if (eq < 0 && i > 0) return E.left(badSchedule(token, 'expected key=value'));
    if (!isScheduleKey(key)) return E.left(badSchedule(token, `'${key}' is not a schedule key (schedule, warmup, stepEvery, stepGamma)`));
    if (so.seen.has(key)) return E.left(badSchedule(token, `${key} is given twice`));
    return pipe(
      withScheduleKey(so.schedule, key, value),
      E.bimap(
        (why) => badSchedule(token, why),
        (schedule) => ({ given: true, schedule, seen: new Set([...so.seen, key]) }),
      ),
    );
  };
  return pipe(
    foldTokens(text.split(','), { given: true, schedule: {}, seen: new Set<string>() }, readToken),
    E.map(({ given, schedule }) => ({ given, schedule })),
  );
};

/** The items read so far, and whether the last one opened its overrides with ':'. */
interface Items {
  readonly drafts: readonly Draft[];
  readonly open: boolean;
}

/** The items after one more comma-separated token of `input`: an override of the open item, or a new item. */
const readItem =
  (input: string, base: ScheduleDefault, reg: OptimizerRegistry) =>
  (i: number, items: Items, raw: string): E.Either<OptbenchError, Items> => {
    const token = raw.trim();
    if (token === '') return E.left(bad(input, `empty item at position ${i + 1} (two commas in a row, or a comma at an end)`, reg));
    if (!token.includes('=') || token.includes(':'))
      return E.map(({ draft, open }: { draft: Draft; open: boolean }) => ({ drafts: [...items.drafts, draft], open }))(startItem(token, base, reg));
    const current = items.drafts[items.drafts.length - 1];
    if (current === undefined || !items.open) {
      const example = `${current?.names.length === 1 ? current.names[0] : 'adam'}:${token}`;
      const hint = current === undefined ? 'it has no optimizer before it' : "overrides must follow 'name:'";
      return E.left(bad(token, `${hint} (write e.g. ${example})`, reg));
    }
    return E.map((d: Draft) => ({ ...items, drafts: [...items.drafts.slice(0, -1), d] }))(addOverride(current, token, reg));
  };

/** Each optimizer of a read item, with the item's overrides and its checked schedule. */
const argsOf = (d: Draft, reg: OptimizerRegistry): E.Either<OptbenchError, OptimizerArg[]> =>
  E.map((schedule: Schedule | undefined) => d.names.map((name) => ({ name, overrides: { ...d.overrides }, ...(schedule !== undefined ? { schedule } : {}) })))(scheduleOf(d, reg));

/**
 * Parses a list such as `adam,sgd:lr=0.1,momentum=0.9`, `all` or `adamw:schedule=cosine,warmup=2epochs`.
 * `opts.schedule` is `--schedule`'s text: the schedule of every item, whose own schedule keys override its keys.
 */
export const parseOptimizerList = (
  input: string,
  opts: { readonly schedule?: string } = {},
  reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS,
): E.Either<OptbenchError, OptimizerArg[]> =>
  pipe(
    opts.schedule === undefined ? E.right<OptbenchError, ScheduleDefault>(NO_SCHEDULE) : parseScheduleDefault(opts.schedule),
    E.flatMap((base) => foldTokens<Items>(input.split(','), { drafts: [], open: false }, readItem(input, base, reg))),
    E.flatMap(({ drafts }) => E.traverseArray((d: Draft) => argsOf(d, reg))(drafts)),
    E.map((lists) => lists.flat()),
  );

/** Parses exactly one optimizer with optional overrides, e.g. `adam:lr=3e-4,beta2=0.99`. */
export const parseOptimizerArg = (input: string, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): E.Either<OptbenchError, OptimizerArg> =>
  pipe(
    parseOptimizerList(input, {}, reg),
    E.flatMap((list) =>
      list.length === 1
        ? E.right(list[0]!)
        : E.left(bad(input, `expected one optimizer, got ${list.length} (${list.map((a) => a.name).join(', ')})`, reg)),
    ),
  );
