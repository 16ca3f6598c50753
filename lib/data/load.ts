/**
 * Loading a data set: locate (and, if asked, download), verify, decode, scale to [0, 1].
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { defer, from, mergeMap, throwError, of, type Observable } from 'rxjs';
import { invalidConfig, toOptbenchError, type OptbenchError } from '../errors.js';
import {
  FASHION_MD5,
  downloadFashion,
  mismatchError,
  parseMd5Sums,
  verifyBytes,
  type Checksums,
  type Verification,
} from './download.js';
import { asImages, asLabels, checkPair, classesSeen, inflateIdx, parseIdxRaw, type ImageSet } from './idx.js';
import {
  DEFAULT_DATASET,
  IDX_FILES,
  IDX_FILE_KEYS,
  defaultCacheDir,
  locateData,
  type Candidate,
  type DataSource,
  type IdxFileKey,
  type LocateOptions,
  type Located,
} from './locate.js';
import { decodeLoadConfig } from './load-config.js';
import { FASHION_CLASSES, type Dataset, type Split } from './types.js';

export interface LoadConfig {
  /** Directory holding the four IDX files (--data-dir). */
  readonly dir?: string;
  /** `fashion-mnist` (default; verified against the published sums) or any MNIST-format set's name. */
  readonly dataset?: string;
  /** Fetch Fashion-MNIST into the cache when it is not found. */
  readonly download?: boolean;
  readonly cacheDir?: string;
  readonly baseUrl?: string;
  /** For tests and embedding: the environment and system root that locating reads. */
  readonly env?: LocateOptions['env'];
  readonly systemRoot?: string;
  /** Checksums a download is verified against instead of the published Fashion-MNIST sums. */
  readonly downloadChecksums?: Checksums;
}

/** Data sets whose images are Fashion-MNIST's, so that its class names apply. */
const FASHION_NAMES: ReadonlySet<string> = new Set(['fashion-mnist', 'fashion-mini']);

export const classNamesFor = (dataset: string, classes: number): readonly string[] =>
  FASHION_NAMES.has(dataset) && classes <= FASHION_CLASSES.length
    ? FASHION_CLASSES
    : Array.from({ length: Math.max(10, classes) }, (_, i) => String(i));

export type ChecksumSource = 'published' | 'MD5SUMS' | 'none';

const locateOptions = (c: LoadConfig, dataset: string): LocateOptions => ({
  dataset,
  ...(c.dir !== undefined ? { dir: c.dir } : {}),
  ...(c.cacheDir !== undefined ? { cacheDir: c.cacheDir } : {}),
  ...(c.env !== undefined ? { env: c.env } : {}),
  ...(c.systemRoot !== undefined ? { systemRoot: c.systemRoot } : {}),
});

/** Locates the data, downloading it first when asked to and it is missing. */
export const resolveData = async (c: LoadConfig): Promise<E.Either<OptbenchError, Located>> => {
  const dataset = c.dataset ?? DEFAULT_DATASET;
  const opts = locateOptions(c, dataset);
  const found = await locateData(opts);
  if (E.isRight(found) || !c.download || found.left._tag !== 'DatasetMissing') return found;
  // Another data set can only come from a mirror whose sums the caller supplies (embedding, tests).
  if (dataset !== DEFAULT_DATASET && (c.baseUrl === undefined || c.downloadChecksums === undefined))
    return E.left(
      invalidConfig({
        path: 'download',
        message: `--download fetches only fashion-mnist, not '${dataset}': put its IDX files in a directory and pass --data-dir DIR.`,
      }),
    );
  const target = c.dir ?? c.cacheDir ?? defaultCacheDir(dataset, c.env ?? process.env);
  const got = await downloadFashion(target, {
    ...(c.baseUrl !== undefined ? { baseUrl: c.baseUrl } : {}),
    ...(c.downloadChecksums !== undefined ? { checksums: c.downloadChecksums } : {}),
  });
  if (E.isLeft(got)) return got;
  return locateData({ ...opts, dir: target });
};

/** The sums a directory's files are checked against. */
export const checksumsFor = async (
  dataset: string,
  dir: string,
): Promise<E.Either<OptbenchError, { source: ChecksumSource; sums: Checksums }>> => {
  if (dataset === DEFAULT_DATASET) return E.right({ source: 'published', sums: FASHION_MD5 });
  const path = join(dir, 'MD5SUMS');
  try {
    return E.right({ source: 'MD5SUMS', sums: parseMd5Sums(await readFile(path, 'utf8')) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return E.right({ source: 'none', sums: {} });
    return E.left(toOptbenchError(e));
  }
};

interface Decoded {
  readonly bytes: number;
  readonly verification: Verification;
  readonly dims: number[];
  readonly data: Uint8Array;
}

const readBytes = async (path: string): Promise<E.Either<OptbenchError, Uint8Array>> => {
  try {
    return E.right(new Uint8Array(await readFile(path)));
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};

const mismatchAdvice = (source: ChecksumSource): string =>
  source === 'published'
    ? "the file is damaged or is not the published Fashion-MNIST. Reinstall it ('apt-get install --reinstall dataset-fashion-mnist'), " +
      'delete it and run with --download, or use another name with --dataset to load it unverified.'
    : 'the file is damaged or MD5SUMS is out of date. Replace the file, or fix or remove MD5SUMS.';

/** Reads, verifies (when sums are known) and parses one file. */
const decodeFile = async (
  path: string,
  checks: { source: ChecksumSource; sums: Checksums },
  alwaysRaw = false,
): Promise<E.Either<OptbenchError, Decoded>> => {
  const read = await readBytes(path);
  if (E.isLeft(read)) return read;
  const bytes = read.right;
  const raw = inflateIdx(bytes, path);
  const verification = verifyBytes(path, bytes, checks.sums, E.isRight(raw) ? raw.right : undefined, alwaysRaw);
  if (verification.ok === false) return E.left(mismatchError(path, verification, mismatchAdvice(checks.source)));
  if (E.isLeft(raw)) return raw;
  const idx = parseIdxRaw(raw.right, path);
  if (E.isLeft(idx)) return idx;
  return E.right({ bytes: bytes.length, verification, dims: idx.right.dims, data: idx.right.data });
};

const scale = (pixels: Uint8Array): Float32Array => {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
};

const toSplit = (images: ImageSet, labels: Uint8Array): Split => ({
  images: scale(images.pixels),
  labels: labels.slice(),
  count: images.count,
  rows: images.rows,
  cols: images.cols,
});

/** Decodes one split's pair of files, checking that they belong together. */
const decodeSplit = (
  files: Readonly<Record<IdxFileKey, string>>,
  dec: Readonly<Record<IdxFileKey, Decoded>>,
  which: 'train' | 'test',
  maxClasses: number,
): E.Either<OptbenchError, { images: ImageSet; labels: Uint8Array }> => {
  const ik: IdxFileKey = which === 'train' ? 'trainImages' : 'testImages';
  const lk: IdxFileKey = which === 'train' ? 'trainLabels' : 'testLabels';
  const images = asImages(dec[ik], files[ik]);
  if (E.isLeft(images)) return images;
  const labels = asLabels(dec[lk], files[lk]);
  if (E.isLeft(labels)) return labels;
  const pair = checkPair(images.right, labels.right, { images: files[ik], labels: files[lk] }, maxClasses);
  if (E.isLeft(pair)) return pair;
  return E.right({ images: images.right, labels: labels.right });
};

/** Loads a data set; resolves to a Left for every failure, never rejects. */
export const loadDataset = async (config: LoadConfig = {}): Promise<E.Either<OptbenchError, Dataset>> => {
  try {
    const dataset = config.dataset ?? DEFAULT_DATASET;
    const located = await resolveData(config);
    if (E.isLeft(located)) return located;
    const { dir, files } = located.right;
    const checks = await checksumsFor(dataset, dir);
    if (E.isLeft(checks)) return checks;
    const dec: Partial<Record<IdxFileKey, Decoded>> = {};
    for (const key of IDX_FILE_KEYS) {
      const d = await decodeFile(files[key], checks.right);
      if (E.isLeft(d)) return d;
      dec[key] = d.right;
    }
    const all = dec as Record<IdxFileKey, Decoded>;
    const maxClasses = FASHION_NAMES.has(dataset) ? FASHION_CLASSES.length : 256;
    const train = decodeSplit(files, all, 'train', maxClasses);
    if (E.isLeft(train)) return train;
    const test = decodeSplit(files, all, 'test', maxClasses);
    if (E.isLeft(test)) return test;
    const tr = train.right.images;
    const te = test.right.images;
    if (tr.rows !== te.rows || tr.cols !== te.cols)
      return E.left(
        invalidConfig({
          path: 'dataset',
          message: `${files.trainImages} has ${tr.rows}x${tr.cols} images but ${files.testImages} has ${te.rows}x${te.cols}: the directory mixes two data sets.`,
        }),
      );
    const classes = Math.max(classesSeen(train.right.labels), classesSeen(test.right.labels));
    return E.right({
      name: dataset,
      dir,
      verified: IDX_FILE_KEYS.every((k) => all[k].verification.ok === true),
      classNames: classNamesFor(dataset, classes),
      train: toSplit(tr, train.right.labels),
      test: toSplit(te, test.right.labels),
    });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};

/**
 * The data set as a one-value Observable; it errors with the OptbenchError value itself (a config that
 * does not decode is an InvalidConfig naming the field).
 */
export const loadFashion$ = (config: LoadConfig = {}): Observable<Dataset> =>
  defer(() => E.match((e: OptbenchError) => throwError(() => e), () => from(loadDataset(config)))(decodeLoadConfig(config))).pipe(
    mergeMap((r) => (E.isRight(r) ? of(r.right) : throwError(() => r.left))),
  );

export type FileStatus = 'verified' | 'mismatch' | 'unchecked' | 'corrupt' | 'unreadable';

export interface FileReport {
  readonly key: IdxFileKey;
  readonly name: string;
  readonly path: string;
  readonly size?: number;
  readonly md5?: string;
  /** MD5 of the decompressed IDX bytes (equal to md5 for an uncompressed file). */
  readonly rawMd5?: string;
  readonly expected: readonly string[];
  readonly status: FileStatus;
  readonly dims?: readonly number[];
  /** What was wrong, for any status but verified/unchecked. */
  readonly problem?: string;
}

export interface DataReport {
  readonly dataset: string;
  readonly searched: readonly Candidate[];
  readonly dir: string;
  readonly source: DataSource;
  readonly checksums: ChecksumSource;
  readonly files: readonly FileReport[];
  readonly train?: { readonly count: number; readonly rows: number; readonly cols: number };
  readonly test?: { readonly count: number; readonly rows: number; readonly cols: number };
  /** Largest label + 1 over both splits. */
  readonly classesSeen?: number;
  /** Every file intact, sums matching where known, and the pairs consistent. */
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/**
 * What `optbench data check` prints: where it looked, what it found and whether each file checks out.
 * A Left only when no data directory is found; every problem with the files is part of the report.
 */
export const checkData = async (config: LoadConfig = {}): Promise<E.Either<OptbenchError, DataReport>> => {
  try {
    const dataset = config.dataset ?? DEFAULT_DATASET;
    const located = await locateData(locateOptions(config, dataset));
    if (E.isLeft(located)) return located;
    const { dir, files, source, searched } = located.right;
    const checks = await checksumsFor(dataset, dir);
    const sums = E.isRight(checks) ? checks.right : { source: 'none' as const, sums: {} };
    const problems: string[] = E.isLeft(checks) ? [checks.left.message] : [];
    const reports: FileReport[] = [];
    const dec: Partial<Record<IdxFileKey, Decoded>> = {};
    for (const key of IDX_FILE_KEYS) {
      const path = files[key];
      const base = { key, name: basename(path), path, expected: sums.sums[IDX_FILES[key]] ?? [] };
      const size = await stat(path).then((s) => s.size, () => undefined);
      const d = await decodeFile(path, { ...sums, sums: {} }, true);
      if (E.isLeft(d)) {
        const status: FileStatus = d.left._tag === 'CorruptIdx' ? 'corrupt' : 'unreadable';
        const bytes = await readBytes(path);
        const v = E.isRight(bytes) ? verifyBytes(path, bytes.right, sums.sums) : undefined;
        reports.push({ ...base, ...(size !== undefined ? { size } : {}), ...(v ? { md5: v.md5 } : {}), status, problem: d.left.message });
        problems.push(d.left.message);
        continue;
      }
      dec[key] = d.right;
      const v = d.right.verification;
      const expected = base.expected;
      const ok = expected.length === 0 ? undefined : expected.includes(v.md5) || (v.rawMd5 !== undefined && expected.includes(v.rawMd5));
      const status: FileStatus = ok === undefined ? 'unchecked' : ok ? 'verified' : 'mismatch';
      const rawMd5 = v.rawMd5 ?? v.md5;
      const problem =
        status === 'mismatch' ? mismatchError(path, { ...v, rawMd5, ok: false, expected }, mismatchAdvice(sums.source)).message : undefined;
      if (problem !== undefined) problems.push(problem);
      reports.push({ ...base, size: d.right.bytes, md5: v.md5, rawMd5, status, dims: d.right.dims, ...(problem ? { problem } : {}) });
    }
    const splits: Partial<Record<'train' | 'test', { images: ImageSet; labels: Uint8Array }>> = {};
    if (IDX_FILE_KEYS.every((k) => dec[k] !== undefined)) {
      const maxClasses = FASHION_NAMES.has(dataset) ? FASHION_CLASSES.length : 256;
      for (const which of ['train', 'test'] as const) {
        const s = decodeSplit(files, dec as Record<IdxFileKey, Decoded>, which, maxClasses);
        if (E.isLeft(s)) problems.push(s.left.message);
        else splits[which] = s.right;
      }
    }
    const shape = (s?: { images: ImageSet }) => (s ? { count: s.images.count, rows: s.images.rows, cols: s.images.cols } : undefined);
    const train = shape(splits.train);
    const test = shape(splits.test);
    const seen = [splits.train, splits.test].filter((s) => s !== undefined).map((s) => classesSeen(s.labels));
    return E.right({
      dataset,
      searched,
      dir,
      source,
      checksums: sums.source,
      files: reports,
      ...(train ? { train } : {}),
      ...(test ? { test } : {}),
      ...(seen.length > 0 ? { classesSeen: Math.max(...seen) } : {}),
      ok: problems.length === 0 && train !== undefined && test !== undefined,
      problems,
    });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
