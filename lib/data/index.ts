// optbench/data: loading and checking a data set, IDX files, seeded shuffles and the batching stage.
export { FASHION_CLASSES, type Dataset, type Split } from './types.js';
export { loadFashion$, loadDataset } from './load.js';
export { LoadConfigCodec, decodeLoadConfig, type LoadConfig } from './load-config.js';
export { locateData, DATA_ENV, DEFAULT_DATASET, IDX_FILES, type DataSource, type IdxFileKey, type Located, type LocateOptions } from './locate.js';
export { downloadFashion, type DownloadOptions, type Downloaded } from './download.js';
export { checkData, type DataReport, type FileReport, type FileStatus } from './check.js';
export { parseIdx, encodeIdx, gzipIdx, type Idx, type ImageSet, type ParseOptions } from './idx.js';
export { mulberry32, uniformFloat, deriveSeed, permutation, type Rng } from './rng.js';
export { seededBatches, epochBatches, epochOrder, subsetSplit, type Batch, type BatchData, type Batcher, type EpochAt, type EpochOptions } from './batches.js';
export { batches } from './batches-stage.js';
