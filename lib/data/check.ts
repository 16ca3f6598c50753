/**
 * `optbench data check`: where the data was looked for, what was found, and whether each file checks out
 * (its checksum, its IDX structure, and the pairs of images and labels), as a report rather than a refusal.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { toOptbenchError, type OptbenchError } from '../errors.js';
import { mismatchError, verifyBytes } from './download.js';
import { decodeFile, decodeSplit, locateOptions, mismatchAdvice, readBytes, type ChecksumSource, type Decoded } from './files.js';
import { classesSeen, type ImageSet } from './idx.js';
import { checksumsFor, classLimit, declaredClasses, type LoadConfig } from './load.js';
import { DEFAULT_DATASET, IDX_FILES, IDX_FILE_KEYS, locateData, type Candidate, type DataSource, type IdxFileKey } from './locate.js';

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
  /** The classes the data set declares (Fashion-MNIST's ten), or undefined when it declares none. */
  readonly classes?: number;
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
    const limit = classLimit(dataset, config.classes);
    if (IDX_FILE_KEYS.every((k) => dec[k] !== undefined)) {
      for (const which of ['train', 'test'] as const) {
        const s = decodeSplit(files, dec as Record<IdxFileKey, Decoded>, which, limit);
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
      ...(declaredClasses(dataset) !== undefined ? { classes: declaredClasses(dataset)!.length } : {}),
      ok: problems.length === 0 && train !== undefined && test !== undefined,
      problems,
    });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
