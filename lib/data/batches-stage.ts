import { map, type OperatorFunction } from 'rxjs';
import { seededBatches, type Batcher } from './batches.js';
import type { Dataset } from './types.js';

/**
 * The batching stage: every Dataset that passes carries `batcher`, and the runs trained on it
 * (`trainGrid`, `runFit`) pull their batches from it, one per step. Without this stage a run uses
 * `seededBatches`, the protocol's. A run's id hashes its RunSpec only, so a run trained with another
 * batcher is another experiment: give it a store (run directory) of its own.
 */
export const batches =
  (batcher: Batcher = seededBatches): OperatorFunction<Dataset, Dataset> =>
  (source) =>
    source.pipe(map((data) => ({ ...data, batcher })));
