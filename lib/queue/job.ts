/**
 * A job on the queue is data, never code: a RunSpec, the data set it must be trained on (name and the
 * MD5 of each file's contents), and the options that decide what the worker computes. Workers decode it
 * with io-ts and refuse anything else, so a hostile job can name no path and run nothing.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { intIn, matching, SafeName, strict } from '../config/codecs.js';
import { RunSpec, reportErrors, runId } from '../config/spec.js';
import type { InvalidConfig } from '../errors.js';
import { invalidConfig } from '../errors.js';
import { EvaluateOptions } from '../train/evaluate.js';

const Md5 = matching('an MD5 (32 hex digits)', /^[0-9a-f]{32}$/);

export const DataIdentity = strict(
  t.type({
    name: SafeName,
    /** MD5 of each file's decompressed contents, so `.gz` and plain copies of the same data agree. */
    md5: strict(t.type({ trainImages: Md5, trainLabels: Md5, testImages: Md5, testLabels: Md5 })),
  }),
);
export type DataIdentity = t.TypeOf<typeof DataIdentity>;

/** How often the worker reports live progress. */
export const JobFitOptions = strict(
  t.partial({
    progressEveryMs: intIn('a progress interval from 0 to 3600000 ms', 0, 3_600_000),
  }),
);
export type JobFitOptions = t.TypeOf<typeof JobFitOptions>;

export const JOB_FORMAT = 1;

export const JobData = strict(
  t.intersection([
    t.type({
      format: t.literal(JOB_FORMAT),
      /** The run's spec, decoded by the one RunSpec codec (bounded, unknown fields refused). */
      spec: RunSpec,
      data: DataIdentity,
      fit: JobFitOptions,
      /** Evaluate where the model is, with these options (the pipeline's `evaluate`); null: training metrics only. */
      evaluation: t.union([EvaluateOptions, t.null]),
    }),
    t.partial({
      /** Train only up to this epoch, then hand the run back paused (ASHA's rungs). */
      untilEpoch: intIn('an epoch from 1 to 10000', 1, 10_000),
    }),
  ]),
  'a job',
);
export type JobData = t.TypeOf<typeof JobData>;

/** Job data bigger than this is refused before it is even decoded. */
const MAX_JOB_BYTES = 64 * 1024;

/**
 * Decodes a job as a worker receives it. Left names what was wrong; nothing of a refused job is used.
 * The job's id must be its spec's run id, so that a job cannot write into another run's records.
 */
export const decodeJob = (jobId: string | undefined, raw: unknown): E.Either<InvalidConfig, JobData> => {
  let size: number;
  try {
    size = JSON.stringify(raw)?.length ?? 0;
  } catch {
    return E.left(invalidConfig({ path: '', message: 'Refused a job whose data is not JSON.' }));
  }
  if (size > MAX_JOB_BYTES) return E.left(invalidConfig({ path: '', message: `Refused a job of ${size} bytes: a run's job is well under ${MAX_JOB_BYTES}.` }));
  return pipe(
    JobData.decode(raw),
    E.mapLeft((errs) => reportErrors(errs, 'job')),
    E.chain((job) =>
      runId(job.spec) === jobId
        ? E.right(job)
        : E.left(
            invalidConfig({
              path: 'spec',
              message: `Refused job '${String(jobId)}': its id is not the run id of its spec (${runId(job.spec)}).`,
            }),
          ),
    ),
  );
};

/** The job for a run: what a coordinator enqueues (under the run's id). */
export const jobFor = (
  spec: RunSpec,
  data: DataIdentity,
  opts: { fit?: JobFitOptions; evaluation?: EvaluateOptions | null; untilEpoch?: number } = {},
): JobData => ({
  format: JOB_FORMAT,
  spec,
  data,
  fit: opts.fit ?? {},
  evaluation: opts.evaluation === undefined ? {} : opts.evaluation,
  ...(opts.untilEpoch !== undefined && opts.untilEpoch < spec.epochs ? { untilEpoch: opts.untilEpoch } : {}),
});
