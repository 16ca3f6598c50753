import type { Batcher } from './batches.js';
import type { DataMd5 } from './identity.js';

/** One split of an image-classification data set, decoded and scaled to [0, 1]. */
export interface Split {
  /** n x rows x cols pixels, row-major, scaled to [0, 1] (NHWC with one channel). */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

export interface Dataset {
  /** e.g. `fashion-mnist`, or the directory name for any other MNIST-format set. */
  readonly name: string;
  /** Where the IDX files were read from. */
  readonly dir: string;
  /** Whether the files were checked against a known checksum (the published sums or the directory's MD5SUMS). */
  readonly verified: boolean;
  /** The MD5 of each file's decompressed contents: what the data is (lib/data/identity.ts). */
  readonly md5: DataMd5;
  readonly classNames: readonly string[];
  readonly train: Split;
  readonly test: Split;
  /** How runs cut the training split into batches (the `batches` stage); default `seededBatches`. */
  readonly batcher?: Batcher;
}

export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;
