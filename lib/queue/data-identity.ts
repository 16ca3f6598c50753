/**
 * "Same data everywhere": a data set is identified by its name and the MD5 of each of its four files'
 * contents (decompressed, so a `.gz` and a plain copy of the same file agree). The coordinator puts this
 * in every job; a worker whose files differ refuses the job.
 */
import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { md5Hex } from '../data/download.js';
import { inflateIdx } from '../data/idx.js';
import { resolveData, type LoadConfig } from '../data/load.js';
import { IDX_FILE_KEYS, IDX_FILES, type IdxFileKey } from '../data/locate.js';
import { checksumMismatch, toOptbenchError, type ChecksumMismatch, type OptbenchError } from '../errors.js';
import type { DataIdentity } from './job.js';

export interface LocatedIdentity {
  readonly identity: DataIdentity;
  /** Where the files were read. */
  readonly dir: string;
}

/** Locates the data set as `loadDataset` would and hashes its four files' contents. */
export const dataIdentity = async (config: LoadConfig & { dataset: string }): Promise<E.Either<OptbenchError, LocatedIdentity>> => {
  const located = await resolveData(config);
  if (E.isLeft(located)) return located;
  const md5: Partial<Record<IdxFileKey, string>> = {};
  for (const key of IDX_FILE_KEYS) {
    const file = located.right.files[key];
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      return E.left(toOptbenchError(e));
    }
    const raw = inflateIdx(bytes, file);
    if (E.isLeft(raw)) return raw;
    md5[key] = md5Hex(raw.right);
  }
  return E.right({
    identity: { name: config.dataset, md5: md5 as Record<IdxFileKey, string> },
    dir: located.right.dir,
  });
};

/** Null when the worker's data is the job's; otherwise the first file that differs, as an error that says so. */
export const compareIdentity = (wanted: DataIdentity, mine: LocatedIdentity): ChecksumMismatch | null => {
  for (const key of IDX_FILE_KEYS) {
    if (wanted.md5[key] !== mine.identity.md5[key]) {
      const file = `${mine.dir}/${IDX_FILES[key]}`;
      return checksumMismatch({
        file,
        expected: wanted.md5[key],
        actual: mine.identity.md5[key],
        message:
          `This worker's ${wanted.name} differs from the coordinator's: ${file}(.gz) has contents with MD5 ` +
          `${mine.identity.md5[key]}, the job's data has ${wanted.md5[key]}. The worker trains nothing with other data: ` +
          `give it the same files (--data-dir DIR) and start it again.`,
      });
    }
  }
  return null;
};
