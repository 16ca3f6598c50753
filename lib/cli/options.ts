import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, nearest, unknownName, type OptbenchError } from '../errors.js';

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
} as const satisfies OptionSpec;

/** The options of `task` and `run`. */
export const GRID_OPTIONS = { ...TRAINING_OPTIONS, optimizers: { type: 'string' }, queue: { type: 'string' } } as const satisfies OptionSpec;

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/**
 * Parses argv strictly: an unknown option is an UnknownName error that suggests the nearest valid one,
 * a missing value an InvalidConfig naming the option.
 */
export const parseOptions = (argv: readonly string[], options: OptionSpec): E.Either<OptbenchError, Parsed> => {
  try {
    const { values, positionals } = parseArgs({ args: joinNegatives(argv, options), allowPositionals: true, options, strict: true });
    return E.right({ values: values as Parsed['values'], positionals });
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
          message: `Unknown option '${flag}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''} Valid options here: ${names.join(', ')}.`,
        }),
      );
    }
    const name = flag.replace(/^-+/, '').replace(/[ =].*$/, '');
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(msg))
      return E.left(invalidConfig({ path: name, message: `Option '--${name}' needs a value: write --${name} VALUE (see optbench help).` }));
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take an argument/.test(msg))
      return E.left(invalidConfig({ path: name, message: `Option '--${name}' is a switch and takes no value: write just --${name}.` }));
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      return E.left(invalidConfig({ path: name, message: `${msg.split('\n')[0]} See optbench help for the arguments each command takes.` }));
    return E.left(invalidConfig({ path: name, message: `${msg.split('\n')[0]}` }));
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

/** A positive whole number from an option's text, or InvalidConfig naming the option. */
export const positiveInt = (
  option: string,
  raw: string | boolean | undefined,
  fallback: number | undefined,
): E.Either<OptbenchError, number | undefined> => {
  if (raw === undefined) return E.right(fallback);
  const text = String(raw).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) {
    return E.left(
      invalidConfig({
        path: option,
        message: `--${option} must be a positive whole number (1, 2, 3, ...), got '${text}'.`,
      }),
    );
  }
  return E.right(n);
};

/** A comma-separated list option. */
export const list = (raw: string | boolean | undefined): string[] | undefined =>
  typeof raw === 'string'
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : undefined;
