import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, nearest, printable, unknownName, type OptbenchError } from '../../lib/errors.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What every training command (task, run, sweep, tune) takes: sizes, backend, data and output. */
export const TRAINING_OPTIONS = {
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  subset: { type: 'string' },
  'test-subset': { type: 'string' },
  seeds: { type: 'string' },
  preset: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  'data-dir': { type: 'string' },
  dataset: { type: 'string' },
  download: { type: 'boolean' },
  json: { type: 'boolean' },
  'no-report': { type: 'boolean' },
  force: { type: 'boolean' },
} as const satisfies OptionSpec;

/**
 * The options of `task` and `run` (`--precision fp32|bf16`: lib/backend/native-precision.ts; `--queue URL`:
 * lib/queue; `--schedule cosine,warmup=500`: every optimizer's learning-rate schedule, lib/optimizers/parse.ts;
 * `--target accuracy=0.88 [--holdout N]`: time to a held-out target, lib/train/targets.ts).
 */
export const GRID_OPTIONS = {
  ...TRAINING_OPTIONS,
  target: { type: 'string' },
  holdout: { type: 'string' },
  optimizers: { type: 'string' },
  schedule: { type: 'string' },
  precision: { type: 'string' },
  queue: { type: 'string' },
} as const satisfies OptionSpec;

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** What a command takes besides its options, for the error a stray argument gets. */
interface Positionals {
  /** `run`, `task`, `runs`, ... as the message names the command. */
  readonly command: string;
  /** The arguments it takes, in order, e.g. ['<run-dir>']; any more is an error. */
  readonly names: readonly string[];
}

/**
 * Parses argv strictly: an unknown option is an UnknownName error that suggests the nearest valid one,
 * a missing value an InvalidConfig naming the option; an option given twice, and an argument the command
 * does not take (when `positionals` says what it takes), are InvalidConfig too: neither is ever ignored.
 */
export const parseOptions = (
  argv: readonly string[],
  options: OptionSpec,
  positionals?: Positionals,
): E.Either<OptbenchError, Parsed> => {
  try {
    const parsed = parseArgs({ args: joinNegatives(argv, options), allowPositionals: true, options, strict: true, tokens: true });
    const seen = new Map<string, string[]>();
    for (const t of parsed.tokens ?? []) {
      if (t.kind !== 'option' || options[t.name]?.multiple === true) continue;
      seen.set(t.name, [...(seen.get(t.name) ?? []), t.value ?? '']);
    }
    for (const [name, values] of seen)
      if (values.length > 1) {
        const given = options[name]?.type === 'string' ? ` (${values.map((v) => `'${printable(v)}'`).join(', ')})` : '';
        return E.left(
          invalidConfig({ path: name, message: `Option '--${name}' is given ${values.length} times${given}: give it once.` }),
        );
      }
    if (positionals !== undefined && parsed.positionals.length > positionals.names.length) {
      const extra = parsed.positionals[positionals.names.length]!;
      const takes =
        positionals.names.length === 0 ? 'takes no arguments besides its options' : `takes ${positionals.names.join(' ')} and options`;
      return E.left(
        invalidConfig({
          path: 'argument',
          message: `Unexpected argument '${printable(extra)}': optbench ${positionals.command} ${takes} (options start with --; see optbench help).`,
        }),
      );
    }
    return E.right({ values: parsed.values as Parsed['values'], positionals: parsed.positionals });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: string }).code;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const names = Object.keys(options).map((k) => `--${k}`);
      const suggestion = nearest(flag, names);
      return E.left(
        unknownName({
          kind: 'option',
          name: flag,
          ...(suggestion !== undefined ? { suggestion } : {}),
          message: `Unknown option '${printable(flag)}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''} Valid options here: ${names.join(', ')}.`,
        }),
      );
    }
    const name = flag.replace(/^-+/, '').replace(/[ =].*$/, '');
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(msg))
      return E.left(invalidConfig({ path: name, message: `Option '--${name}' needs a value: write --${name} VALUE (see optbench help).` }));
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take an argument/.test(msg))
      return E.left(invalidConfig({ path: name, message: `Option '--${name}' is a switch and takes no value: write just --${name}.` }));
    return E.left(invalidConfig({ path: name, message: printable(msg.split('\n')[0]!) }));
  }
};

/**
 * `--epochs -3` would be refused by parseArgs as ambiguous (is -3 an option?): a value option followed by a
 * number is joined into `--epochs=-3`, so that the value is judged by the option's own rules.
 */
const joinNegatives = (argv: readonly string[], options: OptionSpec): string[] => {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
};

/**
 * The largest value each count accepts: far above any real use, low enough that a typo (an extra zero
 * run, a seed count meant as a seed) is refused before anything is planned, allocated or written.
 */
export const LIMITS = {
  epochs: 10_000,
  'batch-size': 1_000_000,
  subset: 100_000_000,
  'test-subset': 100_000_000,
  holdout: 100_000_000,
  seeds: 1_000,
  trials: 10_000,
  budget: 10_000,
  concurrency: 64,
  eta: 100,
  'min-epochs': 10_000,
  /** Runs one command may plan: models x optimizers x seeds (a sweep: trials, and its retraining). */
  runs: 10_000,
} as const;

const grouped = (n: number): string => n.toLocaleString('en-US');

/** A positive whole number from an option's text, at most LIMITS[option] when it has one; else InvalidConfig naming the option. */
export const positiveInt = (
  option: string,
  raw: string | boolean | undefined,
  fallback: number | undefined,
): E.Either<OptbenchError, number | undefined> => {
  if (raw === undefined) return E.right(fallback);
  const text = String(raw).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || n <= 0) {
    return E.left(
      invalidConfig({
        path: option,
        message: `--${option} must be a positive whole number (1, 2, 3, ...), got '${printable(text)}'.`,
      }),
    );
  }
  const max = (LIMITS as Record<string, number>)[option];
  if (max !== undefined && n > max)
    return E.left(
      invalidConfig({ path: option, message: `--${option} must be at most ${grouped(max)}, got ${printable(text)}.` }),
    );
  if (!Number.isSafeInteger(n))
    return E.left(invalidConfig({ path: option, message: `--${option} is too large (${printable(text)}).` }));
  return E.right(n);
};

/** Refuses a command that would plan more than LIMITS.runs runs, before any is planned. */
export const checkRunCount = (what: string, factors: readonly (readonly [string, number])[]): E.Either<OptbenchError, number> => {
  const total = factors.reduce((p, [, n]) => p * n, 1);
  return total <= LIMITS.runs
    ? E.right(total)
    : E.left(
        invalidConfig({
          path: 'runs',
          message:
            `${what} would plan ${grouped(total)} runs (${factors.map(([k, n]) => `${grouped(n)} ${k}`).join(' x ')}); ` +
            `one command plans at most ${grouped(LIMITS.runs)}. Split it into smaller grids (each with its own --out DIR).`,
        }),
      );
};

/** A comma-separated list option. */
export const list = (raw: string | boolean | undefined): string[] | undefined =>
  typeof raw === 'string'
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : undefined;
