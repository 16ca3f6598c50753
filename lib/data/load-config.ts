import * as t from 'io-ts';
import { intIn, strict } from '../config/codecs.js';
import { decodeWith } from '../config/spec.js';

/**
 * The data-loading config: `loadFashion$` decodes what it is given, so that a field of the wrong type,
 * or a field it does not have (`dataDir` for `dir`), is an InvalidConfig naming it. LoadConfig is this
 * codec's type: the two cannot drift.
 */
export const LoadConfigCodec = strict(
  t.partial({
    /** Directory holding the four IDX files (--data-dir). */
    dir: t.string,
    /** `fashion-mnist` (default; verified against the published sums) or any MNIST-format set's name. */
    dataset: t.string,
    /** Fetch Fashion-MNIST into the cache when it is not found. */
    download: t.boolean,
    cacheDir: t.string,
    baseUrl: t.string,
    /** For tests and embedding: the environment and system root that locating reads. */
    env: t.record(t.string, t.union([t.string, t.undefined])),
    systemRoot: t.string,
    /** Checksums a download is verified against instead of the published Fashion-MNIST sums. */
    downloadChecksums: t.record(t.string, t.readonlyArray(t.string)),
    /**
     * How many classes the models to be trained output (gridPipeline passes its classifiers'). A data set
     * that does not declare its classes has this many; a label at or above it is refused at load time.
     */
    classes: intIn('a number of classes from 1 to 256', 1, 256),
  }),
  'data config',
);
export type LoadConfig = t.TypeOf<typeof LoadConfigCodec>;

export const decodeLoadConfig = decodeWith(LoadConfigCodec, 'data config');
