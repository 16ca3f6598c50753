/**
 * Reading a data set's files, shared by loading (load.ts) and checking (check.ts): where to look, and each
 * IDX file read, verified against its sums and parsed, and each split's pair checked to belong together.
 * Internal to the data layer (not exported by its index).
 */
import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { toOptbenchError, type OptbenchError } from '../errors.js';
import { md5Hex, mismatchError, verifyBytes, type Checksums, type Verification } from './download.js';
import { asImages, asLabels, checkPair, inflateIdx, parseIdxRaw, type ImageSet } from './idx.js';
import type { LoadConfig } from './load.js';
import type { IdxFileKey, LocateOptions } from './locate.js';

/** Where a directory's checksums came from. */
export type ChecksumSource = 'published' | 'MD5SUMS' | 'none';

/** What locating the data set is told by a load config. */
export const locateOptions = (c: LoadConfig, dataset: string): LocateOptions => ({
  dataset,
  ...(c.dir !== undefined ? { dir: c.dir } : {}),
  ...(c.cacheDir !== undefined ? { cacheDir: c.cacheDir } : {}),
  ...(c.env !== undefined ? { env: c.env } : {}),
  ...(c.systemRoot !== undefined ? { systemRoot: c.systemRoot } : {}),
});

export interface Decoded {
  readonly bytes: number;
  readonly verification: Verification;
  readonly dims: number[];
  readonly data: Uint8Array;
  /** MD5 of the decompressed contents: the file's identity, whatever its compression (lib/data/identity.ts). */
  readonly md5: string;
}

export const readBytes = async (path: string): Promise<E.Either<OptbenchError, Uint8Array>> => {
  try {
    return E.right(new Uint8Array(await readFile(path)));
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};

export const mismatchAdvice = (source: ChecksumSource): string =>
  source === 'published'
    ? "the file is damaged or is not the published Fashion-MNIST. Reinstall it ('apt-get install --reinstall dataset-fashion-mnist'), " +
      'delete it and run with --download, or use another name with --dataset to load it unverified.'
    : 'the file is damaged or MD5SUMS is out of date. Replace the file, or fix or remove MD5SUMS.';

/** Reads, verifies (when sums are known) and parses one file. */
export const decodeFile = async (
  path: string,
  checks: { source: ChecksumSource; sums: Checksums },
  alwaysRaw = false,
): Promise<E.Either<OptbenchError, Decoded>> =>
  pipe(
    await readBytes(path),
    E.flatMap((bytes): E.Either<OptbenchError, Decoded> => {
      const raw = inflateIdx(bytes, path);
      // The sums are checked first: a file that is not what it should be is a mismatch, even when it does not inflate.
      const verification = verifyBytes(path, bytes, checks.sums, E.isRight(raw) ? raw.right : undefined, alwaysRaw);
      return verification.ok === false
        ? E.left(mismatchError(path, verification, mismatchAdvice(checks.source)))
        : pipe(
            raw,
            E.bindTo('raw'),
            E.bind('idx', ({ raw: r }) => parseIdxRaw(r, path)),
            E.map(({ raw: r, idx }) => ({
              bytes: bytes.length,
              verification,
              dims: idx.dims,
              data: idx.data,
              md5: verification.rawMd5 ?? (r === bytes ? verification.md5 : md5Hex(r)),
            })),
          );
    }),
  );

/** Decodes one split's pair of files, checking that they belong together. */
export const decodeSplit = (
  files: Readonly<Record<IdxFileKey, string>>,
  dec: Readonly<Record<IdxFileKey, Decoded>>,
  which: 'train' | 'test',
  limit: { readonly max: number; readonly why: string },
): E.Either<OptbenchError, { images: ImageSet; labels: Uint8Array }> => {
  const ik: IdxFileKey = which === 'train' ? 'trainImages' : 'testImages';
  const lk: IdxFileKey = which === 'train' ? 'trainLabels' : 'testLabels';
  return pipe(
    E.Do,
    E.apS('images', asImages(dec[ik], files[ik]) as E.Either<OptbenchError, ImageSet>),
    E.apS('labels', asLabels(dec[lk], files[lk]) as E.Either<OptbenchError, Uint8Array>),
    E.tap(({ images, labels }) => checkPair(images, labels, { images: files[ik], labels: files[lk] }, limit.max, limit.why)),
  );
};
