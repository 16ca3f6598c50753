/**
 * Loading a data set: locate (and, if asked, download), verify, decode, scale to [0, 1].
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { defer, from, mergeMap, type Observable } from 'rxjs';
import { invalidConfig, toOptbenchError, type OptbenchError } from '../errors.js';
import { FASHION_MD5, downloadFashion, parseMd5Sums, type Checksums } from './download.js';
import { classesSeen, type ImageSet } from './idx.js';
import { DEFAULT_DATASET, IDX_FILE_KEYS, defaultCacheDir, locateData, type IdxFileKey, type LocateOptions, type Located } from './locate.js';
import { decodeLoadConfig, type LoadConfig } from './load-config.js';
import { decodeFile, decodeSplit, locateOptions, type ChecksumSource, type Decoded } from './files.js';
import { FASHION_CLASSES, type Dataset, type Split } from './types.js';
import { fromEither, raise } from '../observable.js';

export type { LoadConfig } from './load-config.js';

/** Data sets whose images are Fashion-MNIST's, so that its class names apply. */
const FASHION_NAMES: ReadonlySet<string> = new Set(['fashion-mnist', 'fashion-mini']);

/** The classes a data set declares: Fashion-MNIST's ten for it and its fixture subset; undefined for any other. */
export const declaredClasses = (dataset: string): readonly string[] | undefined =>
  FASHION_NAMES.has(dataset) ? FASHION_CLASSES : undefined;

/**
 * The number of classes of a data set, and where it comes from: declared by the data set, else the
 * models' outputs (`classes`), else all a label byte can hold. Labels at or above it are corrupt.
 */
export const classLimit = (dataset: string, classes?: number): { readonly max: number; readonly why: string } => {
  const declared = declaredClasses(dataset);
  if (declared !== undefined) return { max: declared.length, why: `${dataset} has only` };
  if (classes !== undefined) return { max: classes, why: 'the models to train output only' };
  return { max: 256, why: 'a label byte holds only' };
};

/** Class names: the declared ones, else 0..n-1 for the models' outputs (at least the labels seen, and 10). */
export const classNamesFor = (dataset: string, seen: number, classes?: number): readonly string[] =>
  declaredClasses(dataset) ?? Array.from({ length: classes ?? Math.max(10, seen) }, (_, i) => String(i));

export type { ChecksumSource } from './files.js';

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

/** Loads a data set; resolves to a Left for every failure, never rejects. */
export const loadDataset = async (input: LoadConfig = {}): Promise<E.Either<OptbenchError, Dataset>> => {
  const decoded = decodeLoadConfig(input);
  if (E.isLeft(decoded)) return decoded;
  const config = decoded.right;
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
    const limit = classLimit(dataset, config.classes);
    const train = decodeSplit(files, all, 'train', limit);
    if (E.isLeft(train)) return train;
    const test = decodeSplit(files, all, 'test', limit);
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
      md5: Object.fromEntries(IDX_FILE_KEYS.map((k) => [k, all[k].md5])) as Record<IdxFileKey, string>,
      classNames: classNamesFor(dataset, classes, config.classes),
      train: toSplit(tr, train.right.labels),
      test: toSplit(te, test.right.labels),
    });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};

/**
 * The data set as a one-value Observable; it errors with an OptbenchFailure (an Error carrying the
 * OptbenchError value). A config that does not decode is refused at subscription, before anything is read,
 * as an InvalidConfig naming the field.
 */
export const loadFashion$ = (config: LoadConfig = {}): Observable<Dataset> =>
  defer(() =>
    pipe(
      decodeLoadConfig(config),
      E.match(raise, (decoded) => from(loadDataset(decoded)).pipe(mergeMap(fromEither))),
    ),
  );
