/**
 * Loading a data set: locate (and, if asked, download), verify, decode, scale to [0, 1].
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
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
export const resolveData = (c: LoadConfig): Promise<E.Either<OptbenchError, Located>> => {
  const dataset = c.dataset ?? DEFAULT_DATASET;
  const opts = locateOptions(c, dataset);
  const download: TE.TaskEither<OptbenchError, Located> =
    // Another data set can only come from a mirror whose sums the caller supplies (embedding, tests).
    dataset !== DEFAULT_DATASET && (c.baseUrl === undefined || c.downloadChecksums === undefined)
      ? TE.left(
          invalidConfig({
            path: 'download',
            message: `--download fetches only fashion-mnist, not '${dataset}': put its IDX files in a directory and pass --data-dir DIR.`,
          }),
        )
      : pipe(
          TE.of(c.dir ?? c.cacheDir ?? defaultCacheDir(dataset, c.env ?? process.env)),
          TE.tap((target) => () =>
            downloadFashion(target, {
              ...(c.baseUrl !== undefined ? { baseUrl: c.baseUrl } : {}),
              ...(c.downloadChecksums !== undefined ? { checksums: c.downloadChecksums } : {}),
            }),
          ),
          TE.flatMap((target) => () => locateData({ ...opts, dir: target })),
        );
  return pipe(
    () => locateData(opts),
    TE.orElse((e) => (c.download === true && e._tag === 'DatasetMissing' ? download : TE.left(e))),
  )();
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

/** The four files, each read, verified against `checks` and parsed, one after the other (the first failure ends it). */
const decodeFiles = (files: Readonly<Record<IdxFileKey, string>>, checks: { source: ChecksumSource; sums: Checksums }): TE.TaskEither<OptbenchError, Record<IdxFileKey, Decoded>> =>
  pipe(
    IDX_FILE_KEYS,
    TE.traverseSeqArray((key) => () => decodeFile(files[key], checks)),
    TE.map((decoded) => Object.fromEntries(IDX_FILE_KEYS.map((k, i) => [k, decoded[i]!])) as Record<IdxFileKey, Decoded>),
  );

/** The decoded files as a Dataset: both splits checked (each pair, and the same image size), scaled to [0, 1]. */
const datasetOf = (dataset: string, config: LoadConfig, { dir, files }: Located, all: Record<IdxFileKey, Decoded>): E.Either<OptbenchError, Dataset> => {
  const limit = classLimit(dataset, config.classes);
  return pipe(
    E.Do,
    E.apS('train', decodeSplit(files, all, 'train', limit)),
    E.apS('test', decodeSplit(files, all, 'test', limit)),
    E.filterOrElse(
      ({ train, test }) => train.images.rows === test.images.rows && train.images.cols === test.images.cols,
      ({ train: { images: tr }, test: { images: te } }): OptbenchError =>
        invalidConfig({
          path: 'dataset',
          message: `${files.trainImages} has ${tr.rows}x${tr.cols} images but ${files.testImages} has ${te.rows}x${te.cols}: the directory mixes two data sets.`,
        }),
    ),
    E.map(({ train, test }) => ({
      name: dataset,
      dir,
      verified: IDX_FILE_KEYS.every((k) => all[k].verification.ok === true),
      md5: Object.fromEntries(IDX_FILE_KEYS.map((k) => [k, all[k].md5])) as Record<IdxFileKey, string>,
      classNames: classNamesFor(dataset, Math.max(classesSeen(train.labels), classesSeen(test.labels)), config.classes),
      train: toSplit(train.images, train.labels),
      test: toSplit(test.images, test.labels),
    })),
  );
};

/**
 * Loads a data set: the config decoded, the data located (downloaded when asked), its sums found, its
 * files decoded, then the Dataset. Resolves to a Left for every failure, never rejects.
 */
export const loadDataset = (input: LoadConfig = {}): Promise<E.Either<OptbenchError, Dataset>> =>
  pipe(
    TE.fromEither(decodeLoadConfig(input)),
    TE.flatMap((config) => {
      const dataset = config.dataset ?? DEFAULT_DATASET;
      return pipe(
        TE.Do,
        TE.bind('located', () => () => resolveData(config)),
        TE.bind('checks', ({ located }) => () => checksumsFor(dataset, located.dir)),
        TE.bind('decoded', ({ located, checks }) => decodeFiles(located.files, checks)),
        TE.flatMapEither(({ located, decoded }) => datasetOf(dataset, config, located, decoded)),
      );
    }),
  )().catch((e: unknown) => E.left(toOptbenchError(e)));

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
