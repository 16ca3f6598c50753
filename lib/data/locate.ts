/**
 * Finding the four IDX files. Order: an explicit directory (--data-dir), then $OPTBENCH_DATA, then the
 * system directory Debian's `dataset-<name>` packages install into, then the per-user download cache.
 * A directory the user named is never silently passed over: if it lacks a file, that is the error.
 */
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { datasetMissing, invalidConfig, ioError, printable, type OptbenchError } from '../errors.js';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export type IdxFileKey = keyof typeof IDX_FILES;
export const IDX_FILE_KEYS: readonly IdxFileKey[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

export const DEFAULT_DATASET = 'fashion-mnist';
export const SYSTEM_DATA_ROOT = '/usr/share/datasets';
export const DATA_ENV = 'OPTBENCH_DATA';

export type DataSource = 'explicit' | 'env' | 'system' | 'cache';

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * A data set's name is a name, never a path: it names a directory under the system data directory and the
 * download cache, and `../x` or `a/b` would lead out of them. Files in a directory of one's own
 * are read with --data-dir.
 */
export const checkDatasetName = (name: string): E.Either<OptbenchError, string> =>
  DATASET_NAME.test(name)
    ? E.right(name)
    : E.left(
        invalidConfig({
          path: 'dataset',
          message:
            `--dataset '${printable(name)}' is not a data-set name: use letters, digits, '.', '-' or '_' (e.g. fashion-mnist), ` +
            `at most 100, starting with a letter or digit. To read the IDX files of a directory, give --data-dir DIR.`,
        }),
      );

export interface Candidate {
  readonly dir: string;
  readonly source: DataSource;
}

export interface Located {
  readonly dir: string;
  readonly source: DataSource;
  /** Full path of each file as found (with or without `.gz`). */
  readonly files: Readonly<Record<IdxFileKey, string>>;
  /** Every directory looked at, in order, up to and including the one used. */
  readonly searched: readonly Candidate[];
}

export interface LocateOptions {
  readonly dir?: string;
  readonly dataset?: string;
  /** The download cache for this data set; default `$XDG_CACHE_HOME/optbench/<dataset>`. */
  readonly cacheDir?: string;
  /** Environment to read OPTBENCH_DATA / XDG_CACHE_HOME from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Root of the system data sets; default `/usr/share/datasets`. */
  readonly systemRoot?: string;
  readonly home?: string;
}

export const defaultCacheDir = (
  dataset: string = DEFAULT_DATASET,
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string => {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(home, '.cache'), 'optbench', dataset);
};

/** The directories to search, in order. */
export const dataCandidates = (opts: LocateOptions = {}): Candidate[] => {
  const env = opts.env ?? process.env;
  const dataset = opts.dataset ?? DEFAULT_DATASET;
  if (opts.dir !== undefined) return [{ dir: opts.dir, source: 'explicit' }];
  const fromEnv = env[DATA_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return [{ dir: fromEnv, source: 'env' }];
  return [
    { dir: join(opts.systemRoot ?? SYSTEM_DATA_ROOT, dataset), source: 'system' },
    { dir: opts.cacheDir ?? defaultCacheDir(dataset, env, opts.home ?? homedir()), source: 'cache' },
  ];
};

/** How to get the data, for every "not found" message. */
export const howToGetData = (dataset: string, cacheDir: string): string =>
  dataset === DEFAULT_DATASET
    ? `Install it with 'apt-get install dataset-fashion-mnist' (files go to ${SYSTEM_DATA_ROOT}/fashion-mnist), ` +
      `or run with --download to fetch it into ${cacheDir}, ` +
      `or point --data-dir DIR (or ${DATA_ENV}) at a directory holding the four IDX files.`
    : `Point --data-dir DIR (or ${DATA_ENV}) at a directory holding the four IDX files of '${dataset}' ` +
      `(${Object.values(IDX_FILES).join(', ')}, each with or without .gz); ` +
      `for Fashion-MNIST itself, 'apt-get install dataset-fashion-mnist' or --download provide them.`;

type Scan =
  | { readonly kind: 'absent' }
  | { readonly kind: 'notDir' }
  | { readonly kind: 'unreadable'; readonly code: string }
  | { readonly kind: 'files'; readonly found: Partial<Record<IdxFileKey, string>>; readonly missing: IdxFileKey[] };

const readable = async (path: string): Promise<boolean> => {
  try {
    await access(path, constants.R_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
};

const scan = async (dir: string): Promise<Scan> => {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) return { kind: 'notDir' };
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'absent' } : { kind: 'unreadable', code };
  }
  const present = new Set(names);
  const found: Partial<Record<IdxFileKey, string>> = {};
  const missing: IdxFileKey[] = [];
  for (const key of IDX_FILE_KEYS) {
    const base = IDX_FILES[key];
    const name = [`${base}.gz`, base].find((n) => present.has(n));
    if (name !== undefined && (await readable(join(dir, name)))) found[key] = join(dir, name);
    else missing.push(key);
  }
  return { kind: 'files', found, missing };
};

const describe = (dir: string, s: Scan): string => {
  switch (s.kind) {
    case 'absent':
      return `${dir} does not exist`;
    case 'notDir':
      return `${dir} is not a directory`;
    case 'unreadable':
      return `${dir} cannot be read (${s.code})`;
    case 'files':
      return s.missing.length === IDX_FILE_KEYS.length
        ? `${dir} has none of the IDX files`
        : `${dir} lacks ${s.missing.map((k) => `${IDX_FILES[k]}(.gz)`).join(', ')}`;
  }
};

const complete = (s: Scan): s is Extract<Scan, { kind: 'files' }> => s.kind === 'files' && s.missing.length === 0;

/** Finds the data set's directory; never throws. */
export const locateData = async (opts: LocateOptions = {}): Promise<E.Either<OptbenchError, Located>> => {
  const dataset = opts.dataset ?? DEFAULT_DATASET;
  const named = checkDatasetName(dataset);
  if (E.isLeft(named)) return named;
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? defaultCacheDir(dataset, env, opts.home ?? homedir());
  const list = dataCandidates(opts);
  const searched: Candidate[] = [];
  const problems: string[] = [];
  for (const c of list) {
    searched.push(c);
    const s = await scan(c.dir);
    if (complete(s)) return E.right({ dir: c.dir, source: c.source, files: s.found as Record<IdxFileKey, string>, searched });
    if (c.source === 'explicit' || c.source === 'env') {
      const named = c.source === 'explicit' ? `The data directory ${c.dir}` : `${DATA_ENV}=${c.dir}`;
      if (s.kind === 'unreadable')
        return E.left(ioError({ file: c.dir, code: s.code, message: `${named} cannot be read (${s.code}): fix its permissions or choose another directory.` }));
      return E.left(
        datasetMissing({
          searched: [c.dir],
          message: `${named} cannot be used: ${describe(c.dir, s)}. ${howToGetData(dataset, cacheDir)}`,
        }),
      );
    }
    problems.push(describe(c.dir, s));
  }
  return E.left(
    datasetMissing({
      searched: searched.map((c) => c.dir),
      message: `The ${dataset} data set was not found (${problems.join('; ')}). ${howToGetData(dataset, cacheDir)}`,
    }),
  );
};
