/**
 * The published Fashion-MNIST files: where they are, their checksums, and fetching them into the cache.
 *
 * Two sums are accepted per file: the MD5 of the published .gz (Fashion-MNIST's README) and the MD5 of
 * the IDX bytes inside it. Debian's dataset-fashion-mnist ships the same IDX bytes recompressed, so its
 * .gz files have other sums; the decompressed sums (as torchvision and others record them) verify it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { checksumMismatch, ioError, toOptbenchError, type ChecksumMismatch, type OptbenchError } from '../errors.js';
import { inflateIdx } from './idx.js';
import { IDX_FILES, IDX_FILE_KEYS } from './locate.js';

export const FASHION_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/** Accepted MD5 sums per IDX file, keyed by the name without `.gz`. */
export type Checksums = Readonly<Record<string, readonly string[]>>;

export const FASHION_GZ_MD5: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte': 'bb300cfdad3c16e7a12a480ee83cd310',
};
export const FASHION_RAW_MD5: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
  'train-labels-idx1-ubyte': '9018921c3c673c538a1fc5bad174d6f9',
  't10k-images-idx3-ubyte': '8181f5470baa50b63fa0f6fddb340f0a',
  't10k-labels-idx1-ubyte': '15d484375f8d13e6eb1aabb0c3f46965',
};
export const FASHION_MD5: Checksums = Object.fromEntries(
  Object.keys(FASHION_GZ_MD5).map((k) => [k, [FASHION_GZ_MD5[k]!, FASHION_RAW_MD5[k]!]]),
);

export const md5Hex = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');

export const idxBaseName = (file: string): string => {
  const name = file.slice(file.lastIndexOf('/') + 1);
  return name.endsWith('.gz') ? name.slice(0, -3) : name;
};

/** Reads `md5sum` output (`<md5>  <name>` or `<md5> *<name>`); other lines are ignored. */
export const parseMd5Sums = (text: string): Checksums => {
  const out: Record<string, string[]> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{32}) [ *](.+)$/.exec(line.trim());
    if (m === null) continue;
    const key = idxBaseName(m[2]!.trim());
    (out[key] ??= []).push(m[1]!.toLowerCase());
  }
  return out;
};

export interface Verification {
  /** undefined when `sums` has no entry for the file. */
  readonly ok: boolean | undefined;
  readonly md5: string;
  /** MD5 of the decompressed bytes, when it was needed or asked for. */
  readonly rawMd5?: string;
  readonly expected: readonly string[];
}

/**
 * Checks a file's bytes against the accepted sums: its own MD5 first, then (for gzip) the MD5 of its
 * decompressed content. `raw` may be passed when the caller has decompressed it already.
 */
export const verifyBytes = (
  file: string,
  bytes: Uint8Array,
  sums: Checksums,
  raw?: Uint8Array,
  alwaysRaw = false,
): Verification => {
  const expected = sums[idxBaseName(file)] ?? [];
  const own = md5Hex(bytes);
  const needRaw = alwaysRaw || (expected.length > 0 && !expected.includes(own));
  let rawMd5: string | undefined;
  if (needRaw) {
    const content = raw ?? E.getOrElseW(() => undefined)(inflateIdx(bytes, file));
    if (content !== undefined && content !== bytes) rawMd5 = md5Hex(content);
  }
  const ok = expected.length === 0 ? undefined : expected.includes(own) || (rawMd5 !== undefined && expected.includes(rawMd5));
  return { ok, md5: own, ...(rawMd5 !== undefined ? { rawMd5 } : {}), expected };
};

export const mismatchError = (file: string, v: Verification, what: string): ChecksumMismatch =>
  checksumMismatch({
    file,
    expected: v.expected.join(' or '),
    actual: v.rawMd5 !== undefined ? `${v.md5} (decompressed: ${v.rawMd5})` : v.md5,
    message:
      `${file} has MD5 ${v.md5}${v.rawMd5 !== undefined ? ` (decompressed ${v.rawMd5})` : ''}, ` +
      `expected ${v.expected.join(' or ')}: ${what}`,
  });

export interface DownloadOptions {
  readonly baseUrl?: string;
  readonly checksums?: Checksums;
  /** Per file; default 10 minutes. */
  readonly timeoutMs?: number;
}

export interface Downloaded {
  readonly dir: string;
  /** Files fetched now (names with .gz). */
  readonly fetched: readonly string[];
  /** Files already in the cache with a valid checksum. */
  readonly kept: readonly string[];
}

const NO_INTERNET_HINT =
  "Without internet, install the data with 'apt-get install dataset-fashion-mnist' or copy the four files into a directory and pass --data-dir DIR.";

const fetchBytes = async (url: string, timeoutMs: number): Promise<E.Either<OptbenchError, Uint8Array>> => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok)
      return E.left(ioError({ file: url, code: `HTTP${res.status}`, message: `Downloading ${url} failed: HTTP ${res.status} ${res.statusText}. ${NO_INTERNET_HINT}` }));
    return E.right(new Uint8Array(await res.arrayBuffer()));
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
    return E.left(ioError({ file: url, code: cause?.code ?? 'EFETCH', message: `Could not download ${url} (${why}). ${NO_INTERNET_HINT}` }));
  }
};

const existingValid = async (path: string, sums: Checksums): Promise<boolean> => {
  try {
    return verifyBytes(path, new Uint8Array(await readFile(path)), sums).ok === true;
  } catch {
    return false;
  }
};

/**
 * Fetches the four .gz files into `cacheDir`. All are downloaded and verified before any is written,
 * and each is written to a temporary name and renamed, so a failure leaves no partial or unverified file.
 */
export const downloadFashion = async (cacheDir: string, opts: DownloadOptions = {}): Promise<E.Either<OptbenchError, Downloaded>> => {
  const base = (opts.baseUrl ?? FASHION_BASE_URL).replace(/\/?$/, '/');
  const sums = opts.checksums ?? FASHION_MD5;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  try {
    await mkdir(cacheDir, { recursive: true });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
  const fetched: { name: string; bytes: Uint8Array }[] = [];
  const kept: string[] = [];
  for (const key of IDX_FILE_KEYS) {
    const name = `${IDX_FILES[key]}.gz`;
    if (await existingValid(join(cacheDir, name), sums)) {
      kept.push(name);
      continue;
    }
    const url = base + name;
    const got = await fetchBytes(url, timeoutMs);
    if (E.isLeft(got)) return got;
    const v = verifyBytes(name, got.right, sums);
    if (v.ok !== true)
      return E.left(
        mismatchError(
          url,
          v,
          `the download is damaged or the server sent another file. Nothing was saved in ${cacheDir}; run again with --download, or install the data with 'apt-get install dataset-fashion-mnist'.`,
        ),
      );
    fetched.push({ name, bytes: got.right });
  }
  const temps: string[] = [];
  try {
    const suffix = `.part-${process.pid}-${randomBytes(4).toString('hex')}`;
    for (const f of fetched) {
      const tmp = join(cacheDir, f.name + suffix);
      temps.push(tmp);
      await writeFile(tmp, f.bytes);
    }
    for (const f of fetched) await rename(join(cacheDir, f.name + suffix), join(cacheDir, f.name));
  } catch (e) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    return E.left(toOptbenchError(e));
  }
  return E.right({ dir: cacheDir, fetched: fetched.map((f) => f.name), kept });
};
