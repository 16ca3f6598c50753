/**
 * What data a run trains on, as a spec can state it. A data set is its name and the MD5 of each of its
 * four files' contents (decompressed, so a `.gz` and a plain copy agree). Two names pin their contents:
 * `fashion-mnist` (the published sums, verified when it loads) and `fashion-mini` (optbench's fixture
 * subset). Any other name does not, so a spec for it also carries `data`, a digest of the four MD5s: two
 * data sets, even under one name, never give one run id.
 */
import { createHash } from 'node:crypto';
import { FASHION_RAW_MD5 } from './download.js';
import { IDX_FILES, IDX_FILE_KEYS, type IdxFileKey } from './locate.js';

/** The MD5 of each file's decompressed contents. */
export type DataMd5 = Readonly<Record<IdxFileKey, string>>;

const byKey = (byFile: Readonly<Record<string, string>>): DataMd5 =>
  Object.fromEntries(IDX_FILE_KEYS.map((k) => [k, byFile[IDX_FILES[k]]!])) as Record<IdxFileKey, string>;

/** The contents a name pins: the published Fashion-MNIST, and the fixture subset in fixtures/fashion-mini. */
export const PINNED: Readonly<Record<string, DataMd5>> = {
  'fashion-mnist': byKey(FASHION_RAW_MD5),
  'fashion-mini': byKey({
    'train-images-idx3-ubyte': 'ef4b285cfeb94432589545f1534ffc66',
    'train-labels-idx1-ubyte': '2ec81ea24ca7184bd71fa336c8ad43a6',
    't10k-images-idx3-ubyte': 'b4de5d063628fc896c9a4e863b9a3dd3',
    't10k-labels-idx1-ubyte': '31b5ec7cc6afb6f16f7d534cce568324',
  }),
};

/** Whether a name pins its contents (then a spec needs no digest). */
export const isPinned = (name: string): boolean => Object.hasOwn(PINNED, name);

/** The first 16 hex digits of the SHA-256 of the four MD5s, in the files' order. */
export const dataDigest = (md5: DataMd5): string =>
  createHash('sha256')
    .update(IDX_FILE_KEYS.map((k) => md5[k]).join(','))
    .digest('hex')
    .slice(0, 16);

/** What a spec says of its data: the name, and the digest where the name does not pin the contents. */
export const specData = (data: { readonly name: string; readonly md5: DataMd5 }): { dataset: string; data?: string } =>
  isPinned(data.name) ? { dataset: data.name } : { dataset: data.name, data: dataDigest(data.md5) };

/** The file whose contents are not what `name` pins, or undefined. */
export const unpinnedFile = (name: string, md5: DataMd5): IdxFileKey | undefined => {
  const pinned = PINNED[name];
  return pinned === undefined ? undefined : IDX_FILE_KEYS.find((k) => pinned[k] !== md5[k]);
};
